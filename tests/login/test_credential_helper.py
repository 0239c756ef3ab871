"""``docker-credential-crossdock``: the credential-helper protocol over a real server."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from login_support import basic, use_keys, v2_status

from crossdock.cli.credential_helper import NOT_FOUND, run
from crossdock.cli.token_cache import CachedToken, refresh_margin
from crossdock.testing import CrossdockServer, start_server

PULLER = "arn:aws:iam::222222222222:user/puller"
WALKTHROUGH = Path(__file__).resolve().parents[2] / "examples" / "cross-account-walkthrough.yaml"


def helper(verb: str, stdin: str = "") -> tuple[int, str]:
    """Run one verb in-process; returns the exit status and standard output."""
    out = io.StringIO()
    code = run([verb], io.StringIO(stdin), out)
    return code, out.getvalue()


def get(server_url: str) -> dict[str, str]:
    code, out = helper("get", server_url + "\n")
    assert code == 0, out
    found: dict[str, str] = json.loads(out)
    return found


@pytest.fixture
def as_puller(
    server: CrossdockServer, aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> CrossdockServer:
    """The puller's keys in the environment and the server as ``CROSSDOCK_ENDPOINT_URL``."""
    use_keys(monkeypatch, server, PULLER)
    monkeypatch.setenv("CROSSDOCK_ENDPOINT_URL", server.url)
    return server


def test_get_for_an_unknown_server_is_docker_s_not_found(as_puller: CrossdockServer) -> None:
    assert helper("get", "registry.example.com\n") == (1, NOT_FOUND + "\n")
    assert helper("get", "https://index.docker.io/v1/\n") == (1, NOT_FOUND + "\n")
    assert helper("get", "") == (1, NOT_FOUND + "\n")


def test_get_mints_a_working_token_for_the_endpoint_host(
    as_puller: CrossdockServer, aws_env: Path, tmp_path: Path
) -> None:
    server = as_puller
    answer = get(server.registry)
    assert set(answer) == {"ServerURL", "Username", "Secret"}
    assert answer["ServerURL"] == server.registry
    assert answer["Username"] == "AWS"
    assert v2_status(server, basic("AWS", answer["Secret"])) == 200
    # a scheme and path in the server URL name the same registry; ServerURL echoes the input
    again = get(f"http://{server.registry}/v2/")
    assert again["ServerURL"] == f"http://{server.registry}/v2/"
    assert again["Secret"] == answer["Secret"]  # cached, not minted again
    cache = tmp_path / "cache" / "crossdock" / "ecr-tokens"
    files = list(cache.iterdir())
    assert len(files) == 1
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    cached = json.loads(files[0].read_text())
    assert cached["serverHost"] == server.registry
    assert cached["proxyEndpoint"] == server.url


def test_host_style_names_carry_the_account(as_puller: CrossdockServer) -> None:
    host = "111111111111.dkr.ecr.us-east-1.crossdock.test:5000"
    answer = get(f"https://{host}")
    assert answer["Username"] == "AWS"
    assert v2_status(as_puller, basic("AWS", answer["Secret"])) == 200


def test_the_mapping_file_picks_endpoint_profile_and_registry(
    server: CrossdockServer, aws_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    keys = server.credentials(PULLER)
    (tmp_path / "aws-credentials").write_text(
        f"[ci]\naws_access_key_id = {keys.access_key_id}\n"
        f"aws_secret_access_key = {keys.secret_access_key}\n"
    )
    mapping = tmp_path / "config" / "crossdock" / "credential-helper.json"
    mapping.parent.mkdir(parents=True)
    mapping.write_text(
        json.dumps(
            {
                "registries": {
                    "registry.internal:5000": {
                        "endpointUrl": server.url,
                        "profile": "ci",
                        "registryId": "111111111111",
                    }
                }
            }
        )
    )
    answer = get("registry.internal:5000")
    assert v2_status(server, basic("AWS", answer["Secret"])) == 200
    assert helper("list") == (0, json.dumps({"registry.internal:5000": "AWS"}) + "\n")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "cannot read {path}: "),
        ('{"registries": []}', '{path}: expected {{"registries": {{HOST: {{...}}}}}}'),
        (
            '{"registries": {"h:1": {"endpoint": "x"}}}',
            "{path}: registries.h:1 may only have the keys endpointUrl, profile, region, "
            "registryId",
        ),
        (
            '{"registries": {"h:1": {"registryId": "12"}}}',
            "{path}: registries.h:1.registryId is not a 12-digit id",
        ),
    ],
)
def test_a_broken_mapping_file_is_one_line(
    aws_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "mapping.json"
    path.write_text(content)
    monkeypatch.setenv("CROSSDOCK_CREDENTIAL_HELPER_CONFIG", str(path))
    code, out = helper("get", "h:1")
    assert code == 1
    assert out.startswith(message.format(path=path))
    assert out.count("\n") == 1


def test_a_bad_registry_id_variable_is_reported(
    as_puller: CrossdockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CROSSDOCK_REGISTRY_ID", "abc")
    assert helper("get", as_puller.registry) == (
        1,
        "CROSSDOCK_REGISTRY_ID=abc is not a 12-digit account id\n",
    )


def test_failures_reach_the_client_on_stdout(
    as_puller: CrossdockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-wrong-secret")
    code, out = helper("get", as_puller.registry)
    assert code == 1
    assert out.startswith("GetAuthorizationToken failed (InvalidSignatureException): ")


def test_store_keeps_nothing_and_erase_forgets_the_cached_token(
    as_puller: CrossdockServer, tmp_path: Path
) -> None:
    server = as_puller
    cache = tmp_path / "cache" / "crossdock" / "ecr-tokens"
    stored = json.dumps({"ServerURL": server.registry, "Username": "AWS", "Secret": "x"})
    assert helper("store", stored) == (0, "")
    assert not cache.exists()
    first = get(server.registry)["Secret"]
    assert len(list(cache.iterdir())) == 1
    assert helper("erase", server.registry + "\n") == (0, "")
    assert list(cache.iterdir()) == []
    second = get(server.registry)["Secret"]
    assert second != first
    assert v2_status(server, basic("AWS", second)) == 200


def test_list_and_version_and_usage(as_puller: CrossdockServer) -> None:
    assert helper("list") == (0, json.dumps({as_puller.registry: "AWS"}) + "\n")
    code, out = helper("version")
    assert code == 0
    assert out.startswith("docker-credential-crossdock (crossdock) ")
    usage = "Usage: docker-credential-crossdock <store|get|erase|list|version>\n"
    assert helper("frobnicate") == (1, usage)
    assert run([], io.StringIO(), out := io.StringIO()) == 1
    assert out.getvalue() == usage


def test_refresh_margin_is_half_the_life_up_to_30_minutes() -> None:
    from datetime import UTC, datetime, timedelta

    assert refresh_margin(timedelta(hours=12)) == timedelta(minutes=30)
    assert refresh_margin(timedelta(seconds=2)) == timedelta(seconds=1)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    token = CachedToken("h", "http://h", "x", now, now + timedelta(hours=12))
    assert token.usable(now + timedelta(hours=11, minutes=29))
    assert not token.usable(now + timedelta(hours=11, minutes=30))


@pytest.fixture(scope="module")
def short_tokens(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrossdockServer]:
    """A walkthrough server whose registry tokens live 2 seconds."""
    with start_server(WALKTHROUGH, tmp_path_factory.mktemp("ttl"), token_ttl=2) as running:
        yield running


def test_the_installed_script_hands_out_fresh_tokens_after_expiry(
    short_tokens: CrossdockServer, aws_env: Path
) -> None:
    server = short_tokens
    keys = server.credentials(PULLER)
    script = Path(sys.executable).parent / "docker-credential-crossdock"
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": keys.access_key_id,
        "AWS_SECRET_ACCESS_KEY": keys.secret_access_key,
        "CROSSDOCK_ENDPOINT_URL": server.url,
    }

    def script_get() -> str:
        done = subprocess.run(
            [str(script), "get"],
            input=server.registry,
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        secret: str = json.loads(done.stdout)["Secret"]
        return secret

    first = script_get()
    assert v2_status(server, basic("AWS", first)) == 200
    time.sleep(2.5)
    assert v2_status(server, basic("AWS", first)) == 403  # the cached token has expired
    second = script_get()
    assert second != first
    assert v2_status(server, basic("AWS", second)) == 200
