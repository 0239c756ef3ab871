"""``crossdock login`` against a real ``crossdock serve``."""

from __future__ import annotations

import base64
import json
import re
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from login_support import use_keys, v2_status

from crossdock.cli.login import LoginEntry, LoginResult, expiry_line, render_text
from crossdock.cli.main import cli
from crossdock.testing import CrossdockServer, start_server

PULLER = "arn:aws:iam::222222222222:user/puller"
ROOT = Path(__file__).resolve().parents[2]


def _login(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["login", *args])
    return result.exit_code, result.stdout, result.stderr


def test_login_writes_a_working_entry_and_keeps_the_rest(
    server: CrossdockServer, aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_keys(monkeypatch, server, PULLER)
    aws_env.mkdir()
    (aws_env / "config.json").write_text(
        json.dumps({"auths": {"other:1": {"auth": "eDp5"}}, "credHelpers": {"x:1": "y"}})
    )
    code, out, err = _login("--endpoint-url", server.url, "--registry-ids", "111111111111")
    assert code == 0, err
    config = json.loads((aws_env / "config.json").read_text())
    assert config["credHelpers"] == {"x:1": "y"}
    assert set(config["auths"]) == {"other:1", server.registry}
    token = config["auths"][server.registry]["auth"]
    assert base64.b64decode(token).decode().startswith("AWS:")
    assert v2_status(server, token) == 200
    assert stat.S_IMODE((aws_env / "config.json").stat().st_mode) == 0o600
    lines = out.splitlines()
    assert lines[0] == "Logged in to 1 registry as AWS:"
    assert lines[1].split() == ["registry", "registry", "ids", "proxy", "endpoint"]
    assert lines[2].split() == [server.registry, "111111111111", server.url]
    assert lines[3] == f"Wrote {aws_env / 'config.json'}"
    assert re.fullmatch(
        r"Token expires at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+ "
        r"\(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\), in 1[12]h \d\dm\.",
        lines[4],
    ), lines[4]


def test_registry_auth_file_is_used_and_json_output(
    server: CrossdockServer, aws_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_keys(monkeypatch, server, PULLER)
    auth = tmp_path / "containers" / "auth.json"
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(auth))
    monkeypatch.setenv("CROSSDOCK_ENDPOINT_URL", server.url)
    before = datetime.now(UTC)
    code, out, err = _login("--registry-ids", "111111111111 222222222222", "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    assert document["authFile"] == str(auth)
    assert document["registries"] == [
        {
            "server": server.registry,
            "proxyEndpoint": server.url,
            "registryIds": ["111111111111", "222222222222"],
        }
    ]
    expires = datetime.fromisoformat(document["expiresAt"].replace("Z", "+00:00"))
    assert (
        before + timedelta(hours=11, minutes=59)
        < expires
        <= datetime.now(UTC) + timedelta(hours=12)
    )
    assert document["notes"] == []
    assert not (aws_env / "config.json").exists()
    assert list(json.loads(auth.read_text())["auths"]) == [server.registry]


def test_host_style_registries_get_their_host_and_the_path_style_host(
    aws_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    walkthrough = ROOT / "examples" / "cross-account-walkthrough.yaml"
    with start_server(walkthrough, tmp_path / "host", registry_domain="crossdock.test") as server:
        use_keys(monkeypatch, server, PULLER)
        code, out, err = _login(
            "--endpoint-url", server.url, "--registry-ids", "111111111111", "--format", "json"
        )
        assert code == 0, err
        host = f"111111111111.dkr.ecr.us-east-1.crossdock.test:{server.port}"
        assert json.loads(out)["registries"] == [
            {
                "server": host,
                "proxyEndpoint": f"http://{host}",
                "registryIds": ["111111111111"],
            },
            {"server": server.registry, "proxyEndpoint": server.url, "registryIds": []},
        ]
        auths = json.loads((aws_env / "config.json").read_text())["auths"]
        assert list(auths) == [host, server.registry]
        assert auths[host] == auths[server.registry]
        assert v2_status(server, auths[server.registry]["auth"]) == 200


def test_a_cred_helper_for_the_host_is_pointed_out(
    server: CrossdockServer, aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_keys(monkeypatch, server, PULLER)
    aws_env.mkdir()
    (aws_env / "config.json").write_text(
        json.dumps({"credHelpers": {server.registry: "crossdock"}})
    )
    code, out, err = _login("--endpoint-url", server.url)
    assert code == 0, err
    assert out.splitlines()[-1] == (
        f"note: {server.registry} uses the credential helper `docker-credential-crossdock` "
        f"(credHelpers/credsStore in {aws_env / 'config.json'}): Docker asks it, not this entry"
    )


def test_denied_caller_gets_the_aws_error_on_one_line(
    server: CrossdockServer, aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_keys(monkeypatch, server, "arn:aws:iam::222222222222:user/puller")
    # the consumer account's root removes the puller's login permission for this test
    iam = server.client("iam", "222222222222")
    document = iam.get_user_policy(UserName="puller", PolicyName="PullExample")["PolicyDocument"]
    iam.delete_user_policy(UserName="puller", PolicyName="PullExample")
    try:
        code, out, err = _login("--endpoint-url", server.url)
    finally:
        iam.put_user_policy(
            UserName="puller", PolicyName="PullExample", PolicyDocument=json.dumps(document)
        )
    assert (code, out) == (1, "")
    assert err == (
        "error: GetAuthorizationToken failed (AccessDeniedException): User: "
        "arn:aws:iam::222222222222:user/puller is not authorized to perform: "
        "ecr:GetAuthorizationToken on resource: * because no identity-based policy allows "
        "the ecr:GetAuthorizationToken action\n"
    )
    assert not (aws_env / "config.json").exists()


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            ["--profile", "nope"],
            {},
            "error: the AWS profile `nope` does not exist: list profiles with "
            "`aws configure list-profiles` or pass another --profile\n",
        ),
        (
            [],
            {},
            "error: no AWS credentials found: pass --profile, set AWS_PROFILE, or set "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n",
        ),
        (
            ["--registry-ids", "12345"],
            {},
            "error: `12345` is not a registry id: use the 12-digit account id\n",
        ),
        (
            [],
            {"AWS_SECRET_ACCESS_KEY": "wrong-secret-wrong-secret"},
            "error: GetAuthorizationToken failed (InvalidSignatureException): The request "
            "signature we calculated does not match the signature you provided. Check your AWS "
            "Secret Access Key and signing method. Consult the service documentation for "
            "details.\n",
        ),
    ],
)
def test_bad_input_is_one_line(
    server: CrossdockServer,
    aws_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: dict[str, str],
    message: str,
) -> None:
    if env:
        use_keys(monkeypatch, server, PULLER)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
    code, out, err = _login("--endpoint-url", server.url, *args)
    assert (code, out, err) == (1, "", message)


def test_an_unreachable_endpoint_is_one_line(
    server: CrossdockServer, aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crossdock.testing.process import free_port

    use_keys(monkeypatch, server, PULLER)
    url = f"http://127.0.0.1:{free_port()}"
    code, out, err = _login("--endpoint-url", url)
    assert (code, out) == (1, "")
    assert err == (
        f"error: cannot reach {url}: is the server running, and is the endpoint URL right?\n"
    )


def test_without_an_endpoint_or_region_login_asks_for_a_region(
    aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE000000001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x" * 40)
    code, out, err = _login()
    assert (code, out) == (1, "")
    assert err == "error: no AWS region is configured: pass --region or set AWS_REGION\n"


def test_expiry_line_shows_local_time_utc_and_time_left() -> None:
    expires = datetime(2026, 1, 2, 15, 4, 5, tzinfo=UTC)
    line = expiry_line(expires, expires - timedelta(hours=11, minutes=59, seconds=31))
    local = expires.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    assert line == f"Token expires at {local} (2026-01-02 15:04:05 UTC), in 11h 59m."
    assert expiry_line(expires, expires - timedelta(seconds=75)).endswith("in 1m 15s.")
    assert expiry_line(expires, expires + timedelta(seconds=5)).endswith("in 0s.")


def test_the_docs_show_the_real_text_form(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    import time

    time.tzset()
    try:
        result = LoginResult(
            Path("/home/me/.docker/config.json"),
            (LoginEntry("127.0.0.1:5000", "http://127.0.0.1:5000", ("111111111111",)),),
            datetime(2026, 5, 4, 21, 30, 0, tzinfo=UTC),
        )
        from rich.console import Console

        console = Console(highlight=False, soft_wrap=True, record=True, width=100)
        with console.capture() as captured:
            render_text(result, datetime(2026, 5, 4, 9, 30, 0, tzinfo=UTC), console)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    docs = (ROOT / "docs" / "sharing-tools.md").read_text(encoding="utf-8")
    section = docs[docs.index("## crossdock login") :]
    shown = re.search(r"```text\n(.*?)```", section, re.DOTALL)
    assert shown is not None
    expected = "\n".join(line.rstrip() for line in shown.group(1).splitlines() if line[:2] != "$ ")
    got = "\n".join(line.rstrip() for line in captured.get().splitlines())
    assert got == expected
