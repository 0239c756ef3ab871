"""podman against a real ``crossdock serve``: login, push, pull and denials.

podman runs with private storage (``--root``/``--runroot``/``--tmpdir``, vfs), no event
log and its own auth file (``REGISTRY_AUTH_FILE``), so nothing touches the machine's
containers state. Images come in from an OCI layout (``podman pull oci:...``), offline.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from images import BuiltImage, build_image
from serve_process import RunningServer, start_server, stop_server
from walkthrough import OWNER, WALKTHROUGH, client, password, token

pytestmark = pytest.mark.skipif(shutil.which("podman") is None, reason="podman not installed")


@dataclass(frozen=True)
class Podman:
    """podman with private storage, run root and auth file."""

    home: Path
    runroot: Path

    @property
    def auth_file(self) -> Path:
        """Where ``podman login`` keeps credentials."""
        return self.home / "auth.json"

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "REGISTRY_AUTH_FILE": str(self.auth_file),
            "TMPDIR": str(self.home / "tmp"),
        }
        command = [
            "podman",
            "--root",
            str(self.home / "root"),
            "--runroot",
            str(self.runroot),
            "--tmpdir",
            str(self.home / "libpod"),
            "--storage-driver",
            "vfs",
            "--events-backend",
            "none",
            *args,
        ]
        return subprocess.run(
            command, capture_output=True, text=True, env=env, check=False, timeout=300
        )

    def login(self, server: RunningServer, secret: str) -> None:
        """``podman login --tls-verify=false -u AWS -p <password> 127.0.0.1:PORT``."""
        registry = f"127.0.0.1:{server.port}"
        done = self("login", "--tls-verify=false", "-u", "AWS", "-p", secret, registry)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "Login Succeeded!"
        assert list(json.loads(self.auth_file.read_text())["auths"]) == [registry]

    def load(self, image: BuiltImage, reference: str) -> None:
        """Bring ``image`` into local storage, tagged ``reference``."""
        loaded = self("pull", "-q", image.source)
        assert loaded.returncode == 0, loaded.stderr
        tagged = self("tag", loaded.stdout.strip(), reference)
        assert tagged.returncode == 0, tagged.stderr


@pytest.fixture
def podman(tmp_path: Path) -> Iterator[Podman]:
    """A private podman for one test; its run root is removed afterwards."""
    # podman refuses a run root path longer than 50 characters: pytest's are longer.
    runroot = Path(tempfile.mkdtemp(prefix="crossdock-podman-"))
    runner = Podman(tmp_path / "podman", runroot)
    (runner.home / "tmp").mkdir(parents=True)
    runner.auth_file.write_text('{"auths": {}}')  # podman refuses a missing REGISTRY_AUTH_FILE
    try:
        yield runner
    finally:
        shutil.rmtree(runroot, ignore_errors=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """``crossdock serve --scenario examples/cross-account-walkthrough.yaml``."""
    running = start_server(
        tmp_path_factory.mktemp("podman") / "data", "--scenario", str(WALKTHROUGH)
    )
    try:
        yield running
    finally:
        stop_server(running)


def test_login_push_and_pull(server: RunningServer, podman: Podman, tmp_path: Path) -> None:
    repository = f"127.0.0.1:{server.port}/{OWNER}/example"
    reference = f"{repository}:podman"
    image = build_image(tmp_path / "image", "oci", seed=21)
    podman.load(image, reference)
    podman.login(server, password(server, "owner"))

    digest_file = tmp_path / "pushed.digest"
    push = podman("push", "--tls-verify=false", "--digestfile", str(digest_file), reference)
    assert push.returncode == 0, push.stderr
    pushed = digest_file.read_text().strip()
    stored = client(server, "ecr", "owner").describe_images(
        repositoryName="example", imageIds=[{"imageTag": "podman"}]
    )["imageDetails"]
    assert [d["imageDigest"] for d in stored] == [pushed]

    image_id = podman("image", "inspect", "--format", "{{.Id}}", reference).stdout.strip()
    removed = podman("rmi", "--force", image_id)
    assert removed.returncode == 0, removed.stderr
    assert podman("image", "exists", reference).returncode == 1
    pull = podman("pull", "--tls-verify=false", reference)
    assert pull.returncode == 0, pull.stderr
    assert f"Trying to pull {reference}..." in pull.stderr
    assert pull.stdout.strip() == image_id
    inspect = podman("image", "inspect", "--format", "{{.Digest}} {{json .RepoDigests}}", reference)
    digest, repo_digests = inspect.stdout.strip().split(" ", 1)
    assert digest == pushed
    assert json.loads(repo_digests) == [f"{repository}@{pushed}"]
    by_digest = podman("pull", "--tls-verify=false", f"{repository}@{pushed}")
    assert by_digest.returncode == 0, by_digest.stderr


def test_puller_cannot_push_a_new_layer(
    server: RunningServer, podman: Podman, tmp_path: Path
) -> None:
    reference = f"127.0.0.1:{server.port}/{OWNER}/example:from-puller"
    podman.load(build_image(tmp_path / "image", "oci", seed=22), reference)
    podman.login(server, password(server, "puller"))
    push = podman("push", "--tls-verify=false", reference)
    assert push.returncode == 125
    assert push.stderr.strip().splitlines()[-1] == (
        "Error: writing blob: initiating layer upload to /v2/111111111111/example/blobs/uploads/"
        f" in 127.0.0.1:{server.port}: denied: User: arn:aws:iam::222222222222:user/puller is"
        " not authorized to perform: ecr:InitiateLayerUpload on resource:"
        " arn:aws:ecr:us-east-1:111111111111:repository/example because no resource-based"
        " policy allows the ecr:InitiateLayerUpload action"
    )


def test_an_expired_token_is_refused(podman: Podman, tmp_path: Path) -> None:
    expiring = start_server(tmp_path / "data", "--scenario", str(WALKTHROUGH), "--token-ttl", "4")
    try:
        reference = f"127.0.0.1:{expiring.port}/{OWNER}/example:expiring"
        podman.load(build_image(tmp_path / "image", "oci", seed=23), reference)
        secret, expires = token(expiring, "owner")
        assert timedelta(seconds=3) < expires - datetime.now(UTC) <= timedelta(seconds=4)
        podman.login(expiring, secret)
        push = podman("push", "--tls-verify=false", reference)
        assert push.returncode == 0, push.stderr
        time.sleep(max((expires - datetime.now(UTC)).total_seconds(), 0) + 0.5)
        pull = podman("pull", "--tls-verify=false", reference)
        assert pull.returncode == 125
        assert pull.stderr.strip().splitlines()[-1] == (
            f"Error: initializing source docker://{reference}: reading manifest expiring in"
            f" 127.0.0.1:{expiring.port}/{OWNER}/example: denied: Your authorization token has"
            " expired. Reauthenticate and try again."
        )
    finally:
        stop_server(expiring)
