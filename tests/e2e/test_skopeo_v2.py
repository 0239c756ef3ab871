"""skopeo against a real ``crossdock serve``: the walkthrough's push, cross-account pull and
denials over /v2/, with tokens from GetAuthorizationToken (boto3).

Images in OCI and Docker schema 2 media types, single and multi-arch, go up with
``skopeo copy --all --preserve-digests`` and come back byte for byte.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from images import Format, build_image, sha256
from serve_process import RunningServer, start_server, stop_server
from walkthrough import OWNER, WALKTHROUGH, password, token

EXPIRED = "Your authorization token has expired. Reauthenticate and try again."

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


def _skopeo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["skopeo", *args], capture_output=True, text=True, check=False, timeout=300
    )


def _raw(reference: str, secret: str) -> bytes:
    """The manifest at ``reference`` exactly as the registry serves it."""
    done = subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", "--creds", f"AWS:{secret}", reference],
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _fatal(stderr: str) -> str:
    """The message of skopeo's ``level=fatal`` log line (its quotes stay escaped)."""
    found = re.fullmatch(r'time="[^"]+" level=fatal msg="(.*)"', stderr.strip())
    assert found is not None, stderr
    return found.group(1)


def test_push_pull_and_deny(walkthrough: RunningServer, tmp_path: Path) -> None:
    image = build_image(tmp_path / "layout", "oci", layers=3, layer_size=256 * 1024, seed=7)
    reference = f"docker://127.0.0.1:{walkthrough.port}/{OWNER}/example:latest"
    pushed = tmp_path / "pushed.digest"
    push = _skopeo(
        "copy",
        "--dest-tls-verify=false",
        "--dest-creds",
        f"AWS:{password(walkthrough, 'owner')}",
        "--digestfile",
        str(pushed),
        image.source,
        reference,
    )
    assert push.returncode == 0, push.stderr
    assert pushed.read_text().strip() == image.digest

    puller = password(walkthrough, "puller")
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
    assert pulled == image.digest
    inspect = _skopeo("inspect", "--tls-verify=false", "--creds", f"AWS:{puller}", reference)
    assert inspect.returncode == 0, inspect.stderr
    assert json.loads(inspect.stdout)["Digest"] == image.digest

    denied = _skopeo(
        "inspect",
        "--tls-verify=false",
        "--creds",
        f"AWS:{password(walkthrough, 'mallory')}",
        reference,
    )
    assert denied.returncode == 1
    assert _fatal(denied.stderr) == (
        f'Error parsing image name \\"{reference}\\": reading manifest latest in'
        f" 127.0.0.1:{walkthrough.port}/{OWNER}/example: denied: User:"
        " arn:aws:iam::333333333333:user/mallory is not authorized to perform:"
        " ecr:BatchGetImage on resource: arn:aws:ecr:us-east-1:111111111111:repository/example"
        " because no resource-based policy allows the ecr:BatchGetImage action"
    )

    anonymous = _skopeo("inspect", "--tls-verify=false", "--no-creds", reference)
    assert anonymous.returncode == 1
    assert _fatal(anonymous.stderr) == (
        f'Error parsing image name \\"{reference}\\": reading manifest latest in'
        f" 127.0.0.1:{walkthrough.port}/{OWNER}/example: unauthorized: authentication required"
    )


@pytest.mark.parametrize(
    ("fmt", "platforms"),
    [
        ("oci", ("linux/amd64",)),
        ("docker", ("linux/amd64",)),
        ("oci", ("linux/amd64", "linux/arm64/v8")),
        ("docker", ("linux/amd64", "linux/arm64/v8")),
    ],
    ids=["oci", "docker-schema2", "oci-index", "docker-manifest-list"],
)
def test_copy_keeps_digests(
    walkthrough: RunningServer, tmp_path: Path, fmt: Format, platforms: tuple[str, ...]
) -> None:
    image = build_image(tmp_path / "image", fmt, platforms, seed=len(platforms))
    tag = f"{fmt}-{len(platforms)}"
    repository = f"docker://127.0.0.1:{walkthrough.port}/{OWNER}/example"
    owner = password(walkthrough, "owner")
    pushed = tmp_path / "pushed.digest"
    push = _skopeo(
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-tls-verify=false",
        "--dest-creds",
        f"AWS:{owner}",
        "--digestfile",
        str(pushed),
        image.source,
        f"{repository}:{tag}",
    )
    assert push.returncode == 0, push.stderr
    assert pushed.read_text().strip() == image.digest
    served = _raw(f"{repository}:{tag}", owner)
    assert served == image.manifest
    assert json.loads(served)["mediaType"] == image.media_type
    for digest, child in image.children.items():
        assert _raw(f"{repository}@{digest}", owner) == child

    out = tmp_path / "pulled"
    pull = _skopeo(
        "copy",
        "--all",
        "--preserve-digests",
        "--src-tls-verify=false",
        "--src-creds",
        f"AWS:{password(walkthrough, 'puller')}",
        f"{repository}@{image.digest}",
        f"dir:{out}",
    )
    assert pull.returncode == 0, pull.stderr
    assert sha256((out / "manifest.json").read_bytes()) == image.digest
    pulled_children = {
        "sha256:" + path.name.removesuffix(".manifest.json"): path.read_bytes()
        for path in out.glob("*.manifest.json")
    }
    assert pulled_children == image.children
    for digest, child in pulled_children.items():
        assert sha256(child) == digest


def test_an_expired_token_gets_403(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", "--scenario", str(WALKTHROUGH), "--token-ttl", "2")
    try:
        reference = f"docker://127.0.0.1:{server.port}/{OWNER}/example:latest"
        secret, expires = token(server, "owner")
        image = build_image(tmp_path / "image", "oci", seed=31)
        push = _skopeo(
            "copy",
            "--dest-tls-verify=false",
            "--dest-creds",
            f"AWS:{secret}",
            image.source,
            reference,
        )
        assert push.returncode == 0, push.stderr
        time.sleep(max((expires - datetime.now(UTC)).total_seconds(), 0) + 0.5)

        inspect = _skopeo("inspect", "--tls-verify=false", "--creds", f"AWS:{secret}", reference)
        assert inspect.returncode == 1
        assert _fatal(inspect.stderr) == (
            f'Error parsing image name \\"{reference}\\": reading manifest latest in'
            f" 127.0.0.1:{server.port}/{OWNER}/example: denied: Your authorization token has"
            " expired. Reauthenticate and try again."
        )
        basic = base64.b64encode(f"AWS:{secret}".encode()).decode()
        request = urllib.request.Request(
            f"{server.url}/v2/", headers={"Authorization": f"Basic {basic}"}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 403
        assert json.loads(refused.value.read()) == {
            "errors": [
                {
                    "code": "DENIED",
                    "message": EXPIRED,
                }
            ]
        }
    finally:
        stop_server(server)
