"""The Docker engine against a real ``crossdock serve``: the cross-account walkthrough.

The tests start their own ``dockerd`` (``dockerd.py``: vfs storage, no iptables, private
roots). Every ``docker login`` is the exact command ``aws ecr get-login --registry-ids
111111111111 --no-include-email`` (AWS CLI v1) prints; each identity has its own
``DOCKER_CONFIG``. The image reaches the engine through ``docker load``, never a network
pull.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from dockerd import Dockerd, start_dockerd, stop_dockerd, why_no_dockerd
from images import build_image, docker_archive
from serve_process import RunningServer, start_server, stop_server
from walkthrough import CONSUMER, OWNER, WALKTHROUGH, aws_v1, client, get_login, puller_policy

pytestmark = [
    pytest.mark.skipif(why_no_dockerd() is not None, reason=str(why_no_dockerd())),
    pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo not installed"),
]


@dataclass(frozen=True)
class Pushed:
    """``example:latest`` as 111111111111 pushed it with ``docker push``."""

    repository: str
    reference: str
    digest: str
    push_output: str


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dockerd]:
    """A private ``dockerd`` for this module, stopped by PID at the end."""
    running = start_dockerd(tmp_path_factory.mktemp("dockerd"))
    try:
        yield running
    finally:
        stop_dockerd(running)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """``crossdock serve --scenario examples/cross-account-walkthrough.yaml``."""
    running = start_server(
        tmp_path_factory.mktemp("docker") / "data", "--scenario", str(WALKTHROUGH)
    )
    try:
        yield running
    finally:
        stop_server(running)


@pytest.fixture(scope="module")
def configs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The parent of one ``DOCKER_CONFIG`` directory per identity."""
    return tmp_path_factory.mktemp("docker-configs")


def _login(engine: Dockerd, server: RunningServer, configs: Path, who: str) -> Path:
    """Run the ``get-login`` line of ``who`` word for word; returns their ``DOCKER_CONFIG``."""
    config = configs / who
    words = get_login(server, who)
    assert words[0] == "docker"
    done = engine.docker(config, *words[1:])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Login Succeeded"
    auths = json.loads((config / "config.json").read_text())["auths"]
    assert list(auths) == [f"127.0.0.1:{server.port}"]
    return config


def _forget(engine: Dockerd, config: Path, reference: str) -> None:
    """Remove ``reference`` from the engine so the next pull really downloads."""
    engine.docker(config, "rmi", "--force", reference)
    assert engine.docker(config, "image", "inspect", reference).returncode != 0


def _pull_error(server: RunningServer) -> str:
    """How Docker 20.10 introduces a registry's denial of a pull."""
    return (
        f"Error response from daemon: pull access denied for 127.0.0.1:{server.port}/"
        f"{OWNER}/example, repository does not exist or may require 'docker login': "
    )


@pytest.fixture(scope="module")
def pushed(
    engine: Dockerd, server: RunningServer, configs: Path, tmp_path_factory: pytest.TempPathFactory
) -> Pushed:
    """111111111111 logs in with its get-login line, loads an image and pushes it."""
    work = tmp_path_factory.mktemp("docker-image")
    repository = f"127.0.0.1:{server.port}/{OWNER}/example"
    reference = f"{repository}:latest"
    image = build_image(work / "layout", "oci", seed=11)
    docker_archive(image, work / "image.tar", reference)
    config = _login(engine, server, configs, "owner")
    loaded = engine.docker(config, "load", "--input", str(work / "image.tar"))
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == f"Loaded image: {reference}"
    push = engine.docker(config, "push", reference)
    assert push.returncode == 0, push.stderr
    found = re.search(r"^latest: digest: (sha256:[0-9a-f]{64}) size: \d+$", push.stdout, re.M)
    assert found is not None, push.stdout
    return Pushed(repository, reference, found.group(1), push.stdout)


def test_owner_logs_in_pushes_and_pulls(
    engine: Dockerd, server: RunningServer, configs: Path, pushed: Pushed
) -> None:
    assert f"The push refers to repository [{pushed.repository}]" in pushed.push_output
    assert pushed.push_output.count(": Pushed") == 2
    ecr = client(server, "ecr", "owner")
    stored = ecr.describe_images(repositoryName="example")["imageDetails"]
    assert [(d["imageDigest"], d["imageTags"]) for d in stored] == [(pushed.digest, ["latest"])]

    _forget(engine, configs / "owner", pushed.reference)
    pull = engine.docker(configs / "owner", "pull", pushed.reference)
    assert pull.returncode == 0, pull.stderr
    assert f"Digest: {pushed.digest}" in pull.stdout
    assert f"Status: Downloaded newer image for {pushed.reference}" in pull.stdout
    inspect = engine.docker(
        configs / "owner", "image", "inspect", "--format", "{{json .RepoDigests}}", pushed.reference
    )
    assert json.loads(inspect.stdout) == [f"{pushed.repository}@{pushed.digest}"]


def test_walkthrough_puller_of_222222222222_pulls_with_get_login(
    engine: Dockerd, server: RunningServer, configs: Path, pushed: Pushed
) -> None:
    config = _login(engine, server, configs, "puller")
    _forget(engine, config, pushed.reference)
    pull = engine.docker(config, "pull", pushed.reference)
    assert pull.returncode == 0, pull.stderr
    assert f"Digest: {pushed.digest}" in pull.stdout
    by_digest = engine.docker(config, "pull", f"{pushed.repository}@{pushed.digest}")
    assert by_digest.returncode == 0, by_digest.stderr


def test_mallory_with_ecr_star_is_denied(
    engine: Dockerd, server: RunningServer, configs: Path, pushed: Pushed
) -> None:
    config = _login(engine, server, configs, "mallory")
    _forget(engine, config, pushed.reference)
    pull = engine.docker(config, "pull", pushed.reference)
    assert pull.returncode == 1
    assert pull.stderr.strip() == _pull_error(server) + (
        "denied: User: arn:aws:iam::333333333333:user/mallory is not authorized to perform:"
        " ecr:BatchGetImage on resource: arn:aws:ecr:us-east-1:111111111111:repository/example"
        " because no resource-based policy allows the ecr:BatchGetImage action"
    )


def test_puller_cannot_push(
    engine: Dockerd, server: RunningServer, configs: Path, pushed: Pushed
) -> None:
    config = _login(engine, server, configs, "puller")
    owner = configs / "owner"
    assert engine.docker(owner, "pull", pushed.reference).returncode == 0
    target = f"{pushed.repository}:from-puller"
    assert engine.docker(config, "tag", pushed.reference, target).returncode == 0
    push = engine.docker(config, "push", target)
    assert push.returncode == 1
    # The layers are there already (HEAD is BatchCheckLayerAvailability): the manifest is refused.
    assert push.stdout.count(": Layer already exists") == 2
    assert push.stderr.strip() == (
        "denied: User: arn:aws:iam::222222222222:user/puller is not authorized to perform:"
        " ecr:PutImage on resource: arn:aws:ecr:us-east-1:111111111111:repository/example"
        " because no resource-based policy allows the ecr:PutImage action"
    )
    tags = client(server, "ecr", "owner").list_images(repositoryName="example")["imageIds"]
    assert [i.get("imageTag") for i in tags] == ["latest"]


def test_puller_without_its_identity_policy_is_denied(
    engine: Dockerd, server: RunningServer, configs: Path, pushed: Pushed
) -> None:
    config = _login(engine, server, configs, "puller")
    name, document = puller_policy()
    iam = client(server, "iam", "consumer")
    iam.delete_user_policy(UserName="puller", PolicyName=name)
    try:
        _forget(engine, config, pushed.reference)
        pull = engine.docker(config, "pull", pushed.reference)
        assert pull.returncode == 1
        assert pull.stderr.strip() == _pull_error(server) + (
            "denied: User: arn:aws:iam::222222222222:user/puller is not authorized to perform:"
            " ecr:BatchGetImage on resource: arn:aws:ecr:us-east-1:111111111111:repository/"
            "example because no identity-based policy allows the ecr:BatchGetImage action"
        )
        login = aws_v1(server, "puller", "ecr", "get-login", "--registry-ids", OWNER)
        assert login.returncode == 255
        assert login.stderr.strip() == (
            "An error occurred (AccessDeniedException) when calling the GetAuthorizationToken"
            f" operation: User: arn:aws:iam::{CONSUMER}:user/puller is not authorized to"
            " perform: ecr:GetAuthorizationToken on resource: * because no identity-based"
            " policy allows the ecr:GetAuthorizationToken action"
        )
    finally:
        iam.put_user_policy(UserName="puller", PolicyName=name, PolicyDocument=json.dumps(document))
    again = engine.docker(config, "pull", pushed.reference)
    assert again.returncode == 0, again.stderr


def test_removing_the_repository_policy_stops_the_next_pull(
    engine: Dockerd, server: RunningServer, configs: Path, pushed: Pushed
) -> None:
    config = _login(engine, server, configs, "puller")
    _forget(engine, config, pushed.reference)
    assert engine.docker(config, "pull", pushed.reference).returncode == 0
    ecr = client(server, "ecr", "owner")
    policy = ecr.get_repository_policy(repositoryName="example")["policyText"]
    removed = aws_v1(
        server, "owner", "ecr", "delete-repository-policy", "--repository-name", "example"
    )
    assert removed.returncode == 0, removed.stderr
    try:
        _forget(engine, config, pushed.reference)
        pull = engine.docker(config, "pull", pushed.reference)
        assert pull.returncode == 1
        assert pull.stderr.strip() == _pull_error(server) + (
            "denied: User: arn:aws:iam::222222222222:user/puller is not authorized to perform:"
            " ecr:BatchGetImage on resource: arn:aws:ecr:us-east-1:111111111111:repository/"
            "example because no resource-based policy allows the ecr:BatchGetImage action"
        )
    finally:
        ecr.set_repository_policy(repositoryName="example", policyText=policy)
    again = engine.docker(config, "pull", pushed.reference)
    assert again.returncode == 0, again.stderr
