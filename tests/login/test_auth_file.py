"""The Docker/Podman auth file: where it is, and what writing an entry keeps."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from crossdock.cli.auth_file import (
    AuthFileError,
    auth_file_path,
    helper_for,
    read_auth_file,
    write_auths,
)


def test_registry_auth_file_wins_then_docker_config_then_home(tmp_path: Path) -> None:
    both = {"REGISTRY_AUTH_FILE": "/x/auth.json", "DOCKER_CONFIG": "/y"}
    assert auth_file_path(both) == Path("/x/auth.json")
    assert auth_file_path({"DOCKER_CONFIG": "/y"}) == Path("/y/config.json")
    assert auth_file_path({}) == Path.home() / ".docker" / "config.json"


def test_writing_keeps_every_other_key_and_entry(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    original = {
        "auths": {"registry.example": {"auth": "dXNlcjpwdw=="}, "127.0.0.1:5000": {"auth": "b2xk"}},
        "credHelpers": {"public.ecr.aws": "ecr-login"},
        "psFormat": "table {{.ID}}",
    }
    path.write_text(json.dumps(original))
    path.chmod(0o644)
    written = write_auths(path, {"127.0.0.1:5000": "QVdTOnB3", "127.0.0.1:6000": "QVdTOnB3"})
    on_disk = json.loads(path.read_text())
    assert on_disk == written
    assert on_disk == {
        "auths": {
            "registry.example": {"auth": "dXNlcjpwdw=="},
            "127.0.0.1:5000": {"auth": "QVdTOnB3"},
            "127.0.0.1:6000": {"auth": "QVdTOnB3"},
        },
        "credHelpers": {"public.ecr.aws": "ecr-login"},
        "psFormat": "table {{.ID}}",
    }
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]  # no temp file left


def test_a_missing_file_and_directory_are_created(tmp_path: Path) -> None:
    path = tmp_path / "new" / "auth.json"
    write_auths(path, {"h:1": "QVdTOng="})
    assert json.loads(path.read_text()) == {"auths": {"h:1": {"auth": "QVdTOng="}}}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_symlinked_file_is_written_through_the_link(tmp_path: Path) -> None:
    target = tmp_path / "real.json"
    target.write_text('{"auths": {}}')
    link = tmp_path / "config.json"
    link.symlink_to(target)
    write_auths(link, {"h:1": "QVdTOng="})
    assert link.is_symlink()
    assert json.loads(target.read_text()) == {"auths": {"h:1": {"auth": "QVdTOng="}}}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "does not hold a JSON object: fix or remove it"),
        ('{"auths": []}', '"auths" in '),
    ],
)
def test_a_broken_file_is_reported_and_left_alone(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "config.json"
    path.write_text(content)
    with pytest.raises(AuthFileError, match=message):
        write_auths(path, {"h:1": "QVdTOng="})
    assert path.read_text() == content


def test_an_empty_file_reads_as_no_configuration(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("  \n")
    assert read_auth_file(path) == {}


def test_helper_for_reports_cred_helpers_then_creds_store() -> None:
    config = {"credHelpers": {"a:1": "crossdock"}, "credsStore": "desktop"}
    assert helper_for(config, "a:1") == "crossdock"
    assert helper_for(config, "b:2") == "desktop"
    assert helper_for({}, "b:2") is None
