"""``crossdock serve --database-url postgresql://...``: real clients, and the database going away.

Runs when ``CROSSDOCK_TEST_DATABASE_URL`` names a PostgreSQL server (scripts/test starts
one); each test gets a database of its own on it.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import botocore.config
import botocore.exceptions
import pytest
from images import build_image
from serve_process import RunningServer, start_server, stop_server
from sqlalchemy.engine import make_url
from tcp_proxy import TcpProxy
from walkthrough import OWNER, WALKTHROUGH, client, keys, password

from crossdock.storage.sql.scratch import scratch_database

POSTGRES = os.environ.get("CROSSDOCK_TEST_DATABASE_URL")
pytestmark = pytest.mark.skipif(POSTGRES is None, reason="CROSSDOCK_TEST_DATABASE_URL is not set")

UNAVAILABLE = "The database is temporarily unavailable. Retry the request."


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh database on the test PostgreSQL server."""
    assert POSTGRES is not None
    with scratch_database(POSTGRES, prefix="crossdock_e2e") as url:
        yield url


def _skopeo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["skopeo", *args], capture_output=True, text=True, check=False, timeout=300
    )


@pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo not installed")
def test_skopeo_push_and_pull_back_on_postgresql(database: str, tmp_path: Path) -> None:
    server = start_server(
        tmp_path / "data", "--database-url", database, "--scenario", str(WALKTHROUGH)
    )
    try:
        assert not (tmp_path / "data" / "crossdock.db").exists()  # the metadata is in PostgreSQL
        image = build_image(tmp_path / "layout", "oci", layers=3, layer_size=256 * 1024, seed=11)
        reference = f"docker://127.0.0.1:{server.port}/{OWNER}/example:pg"
        push = _skopeo(
            "copy",
            "--dest-tls-verify=false",
            "--dest-creds",
            f"AWS:{password(server, 'owner')}",
            image.source,
            reference,
        )
        assert push.returncode == 0, push.stderr
        out = tmp_path / "pulled"
        pull = _skopeo(
            "copy",
            "--src-tls-verify=false",
            "--src-creds",
            f"AWS:{password(server, 'puller')}",
            reference,
            f"oci:{out}:pg",
        )
        assert pull.returncode == 0, pull.stderr
        pulled = json.loads((out / "index.json").read_text())["manifests"][0]["digest"]
        assert pulled == image.digest
        source = Path(image.source.removeprefix("oci:").rsplit(":", 1)[0]) / "blobs" / "sha256"
        copied = out / "blobs" / "sha256"
        for blob in source.iterdir():  # every blob came back byte for byte
            assert (copied / blob.name).read_bytes() == blob.read_bytes()
        listed = client(server, "ecr", "owner").list_images(repositoryName="example")
        assert {"imageDigest": image.digest, "imageTag": "pg"} in listed["imageIds"]
    finally:
        stop_server(server)


def _no_retries(server: RunningServer, service: str) -> Any:
    """A boto3 client of ``service`` as the walkthrough's owner that does not retry."""
    import boto3

    key_id, secret = keys("owner")
    return boto3.session.Session().client(
        service,
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=botocore.config.Config(retries={"total_max_attempts": 1}),
    )


def _v2_get(server: RunningServer, path: str, secret: str) -> tuple[int, Message, bytes]:
    """GET a /v2/ path with a registry password: status, headers (any case), body."""
    request = urllib.request.Request(f"{server.url}{path}")
    basic = base64.b64encode(f"AWS:{secret}".encode()).decode()
    request.add_header("Authorization", f"Basic {basic}")
    request.add_header("Accept", "application/vnd.oci.image.manifest.v1+json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_database_outage_is_503_and_recovers(database: str, tmp_path: Path) -> None:
    """Cut the server's connection to PostgreSQL: clean 5xx answers with Retry-After, the
    process keeps running, and it serves again once the database is back."""
    target = make_url(database)
    proxy = TcpProxy((target.host or "127.0.0.1", target.port or 5432))
    proxy.start()
    proxied = target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    server = start_server(
        tmp_path / "data", "--database-url", proxied, "--scenario", str(WALKTHROUGH)
    )
    try:
        ecr, iam = _no_retries(server, "ecr"), _no_retries(server, "iam")
        secret = password(server, "owner")
        manifests = f"/v2/{OWNER}/example/manifests/latest"
        assert _v2_get(server, manifests, secret)[0] == 404  # served: no such image yet
        assert ecr.describe_repositories()["repositories"][0]["repositoryName"] == "example"

        proxy.cut()
        with pytest.raises(botocore.exceptions.ClientError) as ecr_error:
            ecr.describe_repositories()
        response = ecr_error.value.response
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 500
        assert response["Error"] == {"Code": "ServerException", "Message": UNAVAILABLE}
        assert response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "1"

        with pytest.raises(botocore.exceptions.ClientError) as iam_error:
            iam.list_users()
        response = iam_error.value.response
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert response["Error"]["Code"] == "ServiceUnavailable"
        assert response["Error"]["Message"] == UNAVAILABLE
        assert response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "1"

        status, headers, body = _v2_get(server, manifests, secret)
        assert status == 503
        assert headers.get("Retry-After") == "1"
        assert json.loads(body) == {"errors": [{"code": "UNAVAILABLE", "message": UNAVAILABLE}]}
        assert server.process.poll() is None  # still serving

        proxy.restore()
        deadline = time.monotonic() + 10
        while True:  # recovers by itself: no restart, no operator
            try:
                repositories = ecr.describe_repositories()["repositories"]
                break
            except botocore.exceptions.ClientError:
                assert time.monotonic() < deadline, "the server did not recover"
                time.sleep(0.2)
        assert [r["repositoryName"] for r in repositories] == ["example"]
        assert iam.list_users()["Users"] == []
        assert _v2_get(server, manifests, secret)[0] == 404
    finally:
        stop_server(server)
        proxy.close()
