"""A walkthrough server for the login and credential-helper tests, and a clean AWS env."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crossdock.testing import CrossdockServer, start_server

WALKTHROUGH = Path(__file__).resolve().parents[2] / "examples" / "cross-account-walkthrough.yaml"
OWNER = "111111111111"
PULLER = "arn:aws:iam::222222222222:user/puller"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrossdockServer]:
    """``crossdock serve --scenario examples/cross-account-walkthrough.yaml``."""
    with start_server(WALKTHROUGH, tmp_path_factory.mktemp("login")) as running:
        yield running


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No AWS configuration or credentials from the machine; a private HOME and caches.

    Returns the directory the Docker auth file goes to (``DOCKER_CONFIG``).
    """
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "REGISTRY_AUTH_FILE",
        "CROSSDOCK_ENDPOINT_URL",
        "CROSSDOCK_REGISTRY_ID",
        "CROSSDOCK_CREDENTIAL_HELPER_CONFIG",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    docker = tmp_path / "docker"
    monkeypatch.setenv("DOCKER_CONFIG", str(docker))
    return docker
