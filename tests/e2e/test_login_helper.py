"""``crossdock login`` and ``docker-credential-crossdock`` with real clients, after expiry.

The server hands out 2-second registry tokens (``crossdock serve --token-ttl 2``). The
owner pushes ``example:latest`` through the ECR API (SigV4, so the short tokens do not
matter). The puller runs ``crossdock login``; once that token has expired, a pull with the
auth file alone fails with the registry's expiry message, and the same pull through
``credHelpers: {"127.0.0.1:PORT": "crossdock"}`` succeeds, again and again: with the Docker
engine (the ``docker`` client runs the helper, so the venv's ``bin`` is on its ``PATH``),
with skopeo and with podman (both read the auth file from ``REGISTRY_AUTH_FILE``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from dockerd import Dockerd, start_dockerd, stop_dockerd, why_no_dockerd
from images import BuiltImage, build_image
from serve_process import RunningServer, start_server, stop_server
from walkthrough import OWNER, WALKTHROUGH, client, keys

TTL = 2
EXPIRED = "Your authorization token has expired. Reauthenticate and try again."
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Pushed:
    """The image the owner pushed, and the files of the puller's client configuration."""

    reference: str
    digest: str
    config_dir: Path
    env: dict[str, str]

    @property
    def config(self) -> Path:
        """The auth file (``$DOCKER_CONFIG/config.json``, also ``REGISTRY_AUTH_FILE``)."""
        return self.config_dir / "config.json"


def _push_through_the_api(server: RunningServer, image: BuiltImage, layout: Path) -> str:
    """Upload every blob and put the manifest as the owner, with SigV4 (no registry token)."""
    ecr = client(server, "ecr", "owner")
    manifest = json.loads(image.manifest)
    for descriptor in [manifest["config"], *manifest["layers"]]:
        blob = (layout / "blobs" / "sha256" / descriptor["digest"].split(":")[1]).read_bytes()
        upload = ecr.initiate_layer_upload(repositoryName="example")["uploadId"]
        ecr.upload_layer_part(
            repositoryName="example",
            uploadId=upload,
            partFirstByte=0,
            partLastByte=len(blob) - 1,
            layerPartBlob=blob,
        )
        ecr.complete_layer_upload(
            repositoryName="example", uploadId=upload, layerDigests=[descriptor["digest"]]
        )
    put = ecr.put_image(
        repositoryName="example",
        imageManifest=image.manifest.decode(),
        imageManifestMediaType=image.media_type,
        imageTag="latest",
    )
    digest: str = put["image"]["imageId"]["imageDigest"]
    assert digest == image.digest
    return digest


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The walkthrough with 2-second registry tokens."""
    running = start_server(
        tmp_path_factory.mktemp("login-helper") / "data",
        "--scenario",
        str(WALKTHROUGH),
        "--token-ttl",
        str(TTL),
    )
    try:
        yield running
    finally:
        stop_server(running)


@pytest.fixture(scope="module")
def pushed(server: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> Pushed:
    """``example:latest`` pushed by the owner; the puller's environment and config dir."""
    work = tmp_path_factory.mktemp("login-helper-image")
    image = build_image(work / "layout", "oci", seed=41)
    digest = _push_through_the_api(server, image, work / "layout")
    key_id, secret = keys("puller")
    config_dir = work / "docker-config"
    env = {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(work / "home"),
        "AWS_ACCESS_KEY_ID": key_id,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
        "CROSSDOCK_ENDPOINT_URL": server.url,
        "XDG_CACHE_HOME": str(work / "cache"),
        "XDG_CONFIG_HOME": str(work / "xdg-config"),
        "DOCKER_CONFIG": str(config_dir),
        "REGISTRY_AUTH_FILE": str(config_dir / "config.json"),
    }
    reference = f"127.0.0.1:{server.port}/{OWNER}/example:latest"
    return Pushed(reference, digest, config_dir, env)


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, capture_output=True, text=True, env=env, check=False, timeout=300
    )


def _login_and_let_it_expire(server: RunningServer, pushed: Pushed) -> str:
    """``crossdock login`` as the puller (auths only), then wait past the token's expiry;
    returns the password it wrote."""
    if pushed.config.exists():
        pushed.config.unlink()
    login = _run([str(BIN / "crossdock"), "login"], pushed.env)
    assert login.returncode == 0, login.stderr
    assert f"Wrote {pushed.config}" in login.stdout
    config = json.loads(pushed.config.read_text())
    assert set(config) == {"auths"}
    assert list(config["auths"]) == [f"127.0.0.1:{server.port}"]
    time.sleep(TTL + 0.5)
    return str(config["auths"][f"127.0.0.1:{server.port}"]["auth"])


def _use_the_helper(server: RunningServer, pushed: Pushed) -> None:
    """Add ``credHelpers`` for the registry, keeping the expired ``auths`` entry."""
    config = json.loads(pushed.config.read_text())
    config["credHelpers"] = {f"127.0.0.1:{server.port}": "crossdock"}
    pushed.config.write_text(json.dumps(config))


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dockerd]:
    """A private ``dockerd`` for this module, stopped by PID at the end."""
    reason = why_no_dockerd()
    if reason is not None:
        pytest.skip(reason)
    running = start_dockerd(tmp_path_factory.mktemp("dockerd"))
    try:
        yield running
    finally:
        stop_dockerd(running)


def test_docker_pull_through_the_helper_after_the_login_token_expired(
    server: RunningServer, pushed: Pushed, engine: Dockerd
) -> None:
    env = {**pushed.env, "DOCKER_HOST": engine.host}

    def docker(*args: str) -> subprocess.CompletedProcess[str]:
        return _run(["docker", *args], env)

    _login_and_let_it_expire(server, pushed)
    stale = docker("pull", pushed.reference)
    assert stale.returncode == 1
    assert stale.stderr.strip().endswith(f"denied: {EXPIRED}"), stale.stderr

    _use_the_helper(server, pushed)
    for _ in range(2):  # the second round needs a new token: the first one has expired
        pull = docker("pull", pushed.reference)
        assert pull.returncode == 0, pull.stderr
        assert f"Digest: {pushed.digest}" in pull.stdout
        assert docker("rmi", "--force", pushed.reference).returncode == 0
        time.sleep(TTL + 0.5)
    cached = list((Path(pushed.env["XDG_CACHE_HOME"]) / "crossdock" / "ecr-tokens").iterdir())
    assert len(cached) == 1


@pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo not installed")
def test_skopeo_reads_the_same_cred_helper(
    server: RunningServer, pushed: Pushed, tmp_path: Path
) -> None:
    _login_and_let_it_expire(server, pushed)
    inspect = ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{pushed.reference}"]
    stale = _run(inspect, pushed.env)
    assert stale.returncode == 1
    assert EXPIRED in stale.stderr

    _use_the_helper(server, pushed)
    for _ in range(2):
        fresh = _run(inspect, pushed.env)
        assert fresh.returncode == 0, fresh.stderr
        assert json.loads(fresh.stdout)["schemaVersion"] == 2
        time.sleep(TTL + 0.5)
    copy = _run(
        [
            "skopeo",
            "copy",
            "--src-tls-verify=false",
            f"docker://{pushed.reference}",
            f"dir:{tmp_path / 'out'}",
        ],
        pushed.env,
    )
    assert copy.returncode == 0, copy.stderr


@pytest.mark.skipif(shutil.which("podman") is None, reason="podman not installed")
def test_podman_reads_the_same_cred_helper(
    server: RunningServer, pushed: Pushed, tmp_path: Path
) -> None:
    # podman refuses a run root path longer than 50 characters: pytest's are longer.
    runroot = Path(tempfile.mkdtemp(prefix="crossdock-podman-"))
    (tmp_path / "tmp").mkdir()
    env = {**pushed.env, "TMPDIR": str(tmp_path / "tmp")}
    storage = ["--root", str(tmp_path / "root"), "--runroot", str(runroot)]
    storage += ["--tmpdir", str(tmp_path / "libpod"), "--storage-driver", "vfs"]
    pull = ["podman", *storage, "--events-backend", "none", "pull", "--tls-verify=false"]
    try:
        _login_and_let_it_expire(server, pushed)
        stale = _run([*pull, pushed.reference], env)
        assert stale.returncode != 0
        assert EXPIRED in stale.stderr

        _use_the_helper(server, pushed)
        fresh = _run([*pull, pushed.reference], env)
        assert fresh.returncode == 0, fresh.stderr
        inspect = _run(
            ["podman", *storage, "image", "inspect", "--format", "{{.Digest}}", pushed.reference],
            env,
        )
        assert inspect.stdout.strip() == pushed.digest
    finally:
        shutil.rmtree(runroot, ignore_errors=True)
