"""The decision trail of a real ``crossdock serve``: skopeo over /v2/ and boto3 over the
ECR API, read back with ``crossdock trail`` (docs/trail.md)."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.exceptions
import httpx
import pytest
from images import build_image
from serve_process import RunningServer, start_server, stop_server
from walkthrough import OWNER, REPO_ARN, WALKTHROUGH, client, keys, password, token

pytestmark = pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo not installed")

MALLORY = "arn:aws:iam::333333333333:user/mallory"
PULLER = "arn:aws:iam::222222222222:user/puller"
DENIED = (
    f"User: {MALLORY} is not authorized to perform: ecr:BatchGetImage on resource: {REPO_ARN}"
    " because no resource-based policy allows the ecr:BatchGetImage action"
)


@pytest.fixture
def walkthrough(tmp_path: Path) -> Iterator[RunningServer]:
    """``crossdock serve --scenario examples/cross-account-walkthrough.yaml``."""
    running = start_server(tmp_path / "data", "--scenario", str(WALKTHROUGH))
    try:
        yield running
    finally:
        stop_server(running)


def _skopeo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["skopeo", *args], capture_output=True, text=True, check=False, timeout=300
    )


def _trail(server: RunningServer, *args: str) -> list[dict[str, Any]]:
    done = server.crossdock("trail", "--data-dir", str(server.data_dir), "--format", "json", *args)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def _until(server: RunningServer, count: int, *args: str) -> list[dict[str, Any]]:
    """The trail query's events, once there are ``count`` (the writer runs every 0.25 s)."""
    deadline = time.monotonic() + 15
    while True:
        events = _trail(server, *args)
        if len(events) >= count or time.monotonic() > deadline:
            return events
        time.sleep(0.3)


def test_denials_and_pulls_reach_the_trail(walkthrough: RunningServer, tmp_path: Path) -> None:
    image = build_image(tmp_path / "layout", "oci", layers=2, layer_size=64 * 1024, seed=5)
    reference = f"docker://127.0.0.1:{walkthrough.port}/{OWNER}/example:latest"
    owner = password(walkthrough, "owner")
    push = _skopeo(
        "copy", "--dest-tls-verify=false", "--dest-creds", f"AWS:{owner}", image.source, reference
    )
    assert push.returncode == 0, push.stderr

    puller = password(walkthrough, "puller")
    pull = _skopeo(
        "copy",
        "--src-tls-verify=false",
        "--src-creds",
        f"AWS:{puller}",
        reference,
        f"oci:{tmp_path / 'out'}:latest",
    )
    assert pull.returncode == 0, pull.stderr

    mallory = password(walkthrough, "mallory")
    denied_pull = _skopeo("inspect", "--tls-verify=false", "--creds", f"AWS:{mallory}", reference)
    assert denied_pull.returncode == 1
    assert f"denied: {DENIED}" in denied_pull.stderr

    with pytest.raises(botocore.exceptions.ClientError) as raised:
        client(walkthrough, "ecr", "mallory").batch_get_image(
            registryId=OWNER, repositoryName="example", imageIds=[{"imageTag": "latest"}]
        )
    error = raised.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("AccessDeniedException", DENIED)

    denials = _until(walkthrough, 2, "--denied")
    assert [(e["crossdock"]["protocol"], e["eventName"]) for e in denials] == [
        ("v2", "BatchGetImage"),
        ("api", "BatchGetImage"),
    ]
    for event in denials:
        assert event["errorCode"] == "AccessDeniedException"
        assert event["errorMessage"] == error["Message"]
        assert event["userIdentity"]["arn"] == MALLORY
        assert event["requestParameters"]["repositoryName"] == "example"
        assert event["requestParameters"]["registryId"] == OWNER
        assert event["crossdock"]["decision"] == "ImplicitDeny"
        assert event["crossdock"]["side"] == "resource account"
    assert denials[0]["userAgent"].startswith("skopeo/")
    assert denials[0]["requestParameters"]["imageTag"] == "latest"
    assert denials[1]["userAgent"].startswith("Boto3/")
    assert denials[1]["requestParameters"]["imageIds"] == [{"imageTag": "latest"}]

    pulls = _trail(walkthrough, "--principal", PULLER, "--repository", "example")
    names = {e["eventName"] for e in pulls}
    assert {"BatchGetImage", "GetDownloadUrlForLayer"} <= names
    for event in pulls:
        assert event["crossdock"]["decision"] == "Allowed"
        assert "errorCode" not in event
        assert "errorMessage" not in event
        assert event["sourceIPAddress"] == "127.0.0.1"
    manifest = next(e for e in pulls if e["eventName"] == "BatchGetImage")
    assert manifest["crossdock"]["statements"] == [
        {
            "policy": f"{REPO_ARN} repository policy",
            "sid": "AllowPullFrom222222222222",
            "effect": "Allow",
        },
        {"policy": f"{PULLER} PullExample", "sid": "PullFromOwner", "effect": "Allow"},
    ]

    text = "".join(p.read_text() for p in sorted((walkthrough.data_dir / "trail").glob("*.jsonl")))
    for who in ("owner", "consumer", "puller", "mallory"):
        assert keys(who)[1] not in text
    for secret in (owner, puller, mallory):
        assert secret not in text
        assert base64.b64encode(f"AWS:{secret}".encode()).decode() not in text


def test_shutdown_writes_out_the_queue(walkthrough: RunningServer) -> None:
    ecr = client(walkthrough, "ecr", "mallory")
    with pytest.raises(botocore.exceptions.ClientError):
        ecr.describe_repositories(registryId=OWNER, repositoryNames=["example"])
    stop_server(walkthrough)  # SIGTERM at once: usually before the next write
    [event] = _trail(walkthrough, "--denied")
    assert event["eventName"] == "DescribeRepositories"
    assert event["errorMessage"].endswith(
        "because no resource-based policy allows the ecr:DescribeRepositories action"
    )


def test_no_trail_records_nothing(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", "--scenario", str(WALKTHROUGH), "--no-trail")
    try:
        password(server, "mallory")
    finally:
        stop_server(server)
    assert not (tmp_path / "data" / "trail").exists()


def test_explain_last_denied_reads_the_trail(walkthrough: RunningServer) -> None:
    data_dir = str(walkthrough.data_dir)
    nothing = walkthrough.crossdock("explain", "--last-denied", "--data-dir", data_dir)
    assert nothing.returncode == 2
    assert (
        nothing.stderr
        == "error: the decision trail has no denied request (see `crossdock trail`)\n"
    )
    with pytest.raises(botocore.exceptions.ClientError):
        client(walkthrough, "ecr", "mallory").batch_get_image(
            registryId=OWNER, repositoryName="example", imageIds=[{"imageTag": "latest"}]
        )
    [denied] = _until(walkthrough, 1, "--denied")
    done = walkthrough.crossdock(
        "explain", "--last-denied", "--data-dir", data_dir, "--format", "json"
    )
    assert done.returncode == 0, done.stderr
    explained = json.loads(done.stdout)
    assert explained["trailEvent"] == denied
    text = walkthrough.crossdock("explain", "--last-denied", "--data-dir", data_dir)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == (
        f"last denied: {denied['eventTime']} BatchGetImage by {MALLORY} from 127.0.0.1 (api)"
    )
    assert lines[1] == f"the client saw: AccessDeniedException: {DENIED}"
    assert f"AWS error: AccessDeniedException: {DENIED}" in lines
    assert "smallest fix (every action is Allowed with it):" in lines


EXPIRED = "Your authorization token has expired. Reauthenticate and try again."
SHARING_DOC = Path(__file__).resolve().parents[2] / "docs" / "sharing-tools.md"


def _doc_block(first_line: str) -> str:
    """The ```text block of docs/sharing-tools.md that starts with ``first_line``."""
    blocks = re.findall(r"```text\n(.*?)```", SHARING_DOC.read_text(), re.DOTALL)
    return next((block for block in blocks if block.startswith(first_line)), "")


def _varying(text: str) -> str:
    """``text`` with what differs between runs (times, the port) made constant."""
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<time>", text)
    return re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", text)


def test_explain_last_denied_explains_an_expired_token(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", "--scenario", str(WALKTHROUGH), "--token-ttl", "1")
    try:
        secret, expires = token(server, "puller")
        time.sleep(max(0.0, expires.timestamp() - time.time()) + 0.2)
        url = f"{server.url}/v2/{OWNER}/example/manifests/latest"
        answer = httpx.get(url, auth=("AWS", secret), timeout=30)
        assert answer.status_code == 403
        assert answer.json()["errors"][0]["code"] == "DENIED"
        assert answer.json()["errors"][0]["message"] == EXPIRED
        # a token id with a wrong secret is unknown: 401, and nothing is recorded
        forged = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")
        assert httpx.get(url, auth=("AWS", forged), timeout=30).status_code == 401
        assert httpx.get(url, auth=("AWS", "garbled"), timeout=30).status_code == 401
        [event] = _until(server, 1, "--denied")
        time.sleep(0.6)  # the writer's next drains would show any further line
        assert len(_trail(server, "--denied")) == 1
    finally:
        stop_server(server)

    assert event["eventSource"] == "ecr.amazonaws.com"
    assert event["eventName"] == "BatchGetImage"
    assert event["errorCode"] == "ExpiredTokenException"
    assert event["errorMessage"] == EXPIRED
    assert event["userIdentity"]["arn"] == PULLER
    assert event["userIdentity"]["accessKeyId"] == keys("puller")[0]
    assert event["requestParameters"] == {
        "repositoryName": "example",
        "registryId": OWNER,
        "imageTag": "latest",
    }
    block = event["crossdock"]
    assert (block["decision"], block["action"], block["resource"]) == (
        "TokenExpired",
        "ecr:BatchGetImage",
        REPO_ARN,
    )
    assert block["tokenExpiredAt"] == expires.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert block["registryHost"] == f"127.0.0.1:{server.port}"
    assert block["registryEndpoint"] == server.url

    data_dir = str(server.data_dir)
    text = server.crossdock("explain", "--last-denied", "--data-dir", data_dir)
    assert text.returncode == 0, text.stderr
    host = f"127.0.0.1:{server.port}"
    lines = text.stdout.splitlines()
    assert (
        lines[0]
        == f"last denied: {event['eventTime']} BatchGetImage by {PULLER} from 127.0.0.1 (v2)"
    )
    assert lines[1] == f"the client saw: denied: {EXPIRED} (HTTP 403, code DENIED)"
    assert lines[2] == f"whose token: {PULLER}, access key {keys('puller')[0]}"
    assert lines[3].startswith(f"expired: {block['tokenExpiredAt']} (issued ")
    assert "registry token from GetAuthorizationToken lasts 12 hours" in lines[4]
    assert "--token-ttl" in lines[4]
    fixes = [
        f"aws ecr get-login-password --region us-east-1 --endpoint-url http://{host}"
        f" | docker login --username AWS --password-stdin {host}",
        f"crossdock login --registry-ids {OWNER} --endpoint-url http://{host}",
    ]
    assert lines[6:8] == [f"  {fix}" for fix in fixes]
    assert "docker-credential-crossdock" in lines[8]
    assert f'"{host}": "crossdock"' in lines[8]
    assert lines[9] == (
        "now: ALLOWED: the policies allow ecr:BatchGetImage now; a fresh token is all it needs"
    )
    shown = _doc_block("last denied: ")
    assert _varying(text.stdout) == _varying(shown), f"docs/sharing-tools.md:\n{text.stdout}"

    done = server.crossdock("explain", "--last-denied", "--data-dir", data_dir, "--format", "json")
    assert done.returncode == 0, done.stderr
    explained = json.loads(done.stdout)
    assert explained["trailEvent"] == event
    expired = explained["tokenExpired"]
    assert (expired["principal"], expired["accessKeyId"]) == (PULLER, keys("puller")[0])
    assert expired["clientSaw"] == f"denied: {EXPIRED}"
    assert expired["expiredAt"] == block["tokenExpiredAt"]
    assert expired["fix"][:2] == fixes
    assert explained["now"] == lines[9].removeprefix("now: ")
    assert explained["live"]["access"] == "allowed"

    trail = "".join(p.read_text() for p in sorted((server.data_dir / "trail").glob("*.jsonl")))
    assert keys("puller")[1] not in trail
    assert secret not in trail
    assert forged not in trail
    assert base64.b64encode(f"AWS:{secret}".encode()).decode() not in trail
    assert "password" not in trail.lower()
