"""``crossdock serve`` as a process: health, TLS, and clear errors for bad options."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import subprocess
import sys
from pathlib import Path

import boto3
import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from serve_process import RunningServer, start_server, stop_server


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def test_healthz_answers_while_serving(server: RunningServer) -> None:
    response = httpx.get(server.url + "/healthz")
    assert response.status_code == 200
    assert response.text == "ok\n"


def test_tls_serves_https_and_the_aws_apis(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    server = start_server(
        tmp_path / "data", "--tls-cert", str(cert), "--tls-key", str(key), scheme="https"
    )
    try:
        assert server.url.startswith("https://127.0.0.1:")
        trusted = ssl.create_default_context(cafile=str(cert))
        assert httpx.get(server.url + "/healthz", verify=trusted).status_code == 200
        created = server.crossdock(
            "account", "create", "111111111111", "--data-dir", str(server.data_dir), "--json"
        )
        keys = json.loads(created.stdout)
        sts = boto3.session.Session().client(
            "sts",
            endpoint_url=server.url,
            region_name="us-east-1",
            verify=str(cert),
            aws_access_key_id=keys["AccessKeyId"],
            aws_secret_access_key=keys["SecretAccessKey"],
        )
        assert sts.get_caller_identity()["Arn"] == "arn:aws:iam::111111111111:root"
    finally:
        stop_server(server)


def test_tls_options_go_together(tmp_path: Path) -> None:
    cert, _ = _self_signed(tmp_path)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "crossdock",
            "serve",
            "--data-dir",
            str(tmp_path / "d"),
            "--tls-cert",
            str(cert),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--tls-cert and --tls-key go together" in done.stderr
