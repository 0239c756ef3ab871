"""skopeo against a real ``crossdock serve``: the walkthrough's push, cross-account pull and
denial over /v2/, with tokens from GetAuthorizationToken (boto3)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import yaml
from conftest import RunningServer, start_server, stop_server

ROOT = Path(__file__).resolve().parents[2]
WALKTHROUGH = ROOT / "examples" / "cross-account-walkthrough.yaml"
MKIMAGE = Path("/work/shared/bench/mkimage.py")
KEY_IDS = {
    "owner": "AKIAOWNER00000000001",
    "puller": "AKIAPULLER0000000001",
    "mallory": "AKIAMALLORY000000001",
}

pytestmark = pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo not installed")


@pytest.fixture(scope="module")
def walkthrough(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """``crossdock serve --scenario examples/cross-account-walkthrough.yaml``."""
    running = start_server(
        tmp_path_factory.mktemp("skopeo") / "data", "--scenario", str(WALKTHROUGH)
    )
    try:
        yield running
    finally:
        stop_server(running)


def _secrets() -> dict[str, str]:
    """Every access key's secret, read from the walkthrough scenario."""
    found: dict[str, str] = {}

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "id" in node and "secret" in node:
                found[str(node["id"])] = str(node["secret"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load(WALKTHROUGH.read_text()))
    return found


def _password(server: RunningServer, who: str, registry_id: str = "111111111111") -> str:
    key = KEY_IDS[who]
    secret = _secrets()[key]
    client = boto3.session.Session().client(
        "ecr",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )
    data = client.get_authorization_token(registryIds=[registry_id])["authorizationData"][0]
    assert data["proxyEndpoint"] == server.url
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    assert user == "AWS"
    return password


def _skopeo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["skopeo", *args], capture_output=True, text=True, check=False, timeout=300
    )


def _image(tmp_path: Path) -> tuple[Path, str]:
    """An OCI layout from the bench's mkimage.py, and its manifest digest."""
    layout = tmp_path / "layout"
    env = {**os.environ, "BENCH_WORK": str(tmp_path / "bench")}
    subprocess.run(
        [
            sys.executable,
            str(MKIMAGE),
            str(layout),
            "--layers",
            "3",
            "--layer-size",
            "256K",
            "--seed",
            "7",
        ],
        check=True,
        capture_output=True,
        env=env,
        timeout=120,
    )
    index = json.loads((layout / "index.json").read_text())
    return layout, index["manifests"][0]["digest"]


def test_push_pull_and_deny(walkthrough: RunningServer, tmp_path: Path) -> None:
    layout, digest = _image(tmp_path)
    reference = f"docker://127.0.0.1:{walkthrough.port}/111111111111/example:latest"
    pushed = tmp_path / "pushed.digest"
    push = _skopeo(
        "copy",
        "--dest-tls-verify=false",
        "--dest-creds",
        f"AWS:{_password(walkthrough, 'owner')}",
        "--digestfile",
        str(pushed),
        f"oci:{layout}:latest",
        reference,
    )
    assert push.returncode == 0, push.stderr
    assert pushed.read_text().strip() == digest

    puller = _password(walkthrough, "puller")
    out = tmp_path / "pulled"
    pull = _skopeo(
        "copy",
        "--src-tls-verify=false",
        "--src-creds",
        f"AWS:{puller}",
        reference,
        f"oci:{out}:latest",
    )
    assert pull.returncode == 0, pull.stderr
    pulled = json.loads((out / "index.json").read_text())["manifests"][0]["digest"]
    assert pulled == digest
    inspect = _skopeo("inspect", "--tls-verify=false", "--creds", f"AWS:{puller}", reference)
    assert inspect.returncode == 0, inspect.stderr
    assert json.loads(inspect.stdout)["Digest"] == digest

    denied = _skopeo(
        "inspect",
        "--tls-verify=false",
        "--creds",
        f"AWS:{_password(walkthrough, 'mallory')}",
        reference,
    )
    assert denied.returncode != 0
    assert (
        "denied: User: arn:aws:iam::333333333333:user/mallory is not authorized to perform: "
        "ecr:BatchGetImage on resource: arn:aws:ecr:us-east-1:111111111111:repository/example "
        "because no resource-based policy allows the ecr:BatchGetImage action"
    ) in denied.stderr

    anonymous = _skopeo("inspect", "--tls-verify=false", "--no-creds", reference)
    assert anonymous.returncode != 0
    assert "authentication required" in anonymous.stderr.lower() or "401" in anonymous.stderr
