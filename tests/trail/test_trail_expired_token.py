"""A ``/v2/`` request with an expired registry token reaches the decision trail as a
``TokenExpired`` denial (docs/trail.md); an unknown or garbled token records nothing."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from trail_world import OWNER, ROOT, TrailWorld

from crossdock.auth.tokens import ExpiredToken, TokenGrant, TokenRejection
from crossdock.service.authz import RequestInfo
from crossdock.service.trail import TrailEvent, TrailReader
from crossdock.service.trail_record import ExpiredTokenUse, arn_identity, expired_token_record

DOC = ROOT / "docs" / "trail.md"
EXPIRED = "Your authorization token has expired. Reauthenticate and try again."
PULLER = "arn:aws:iam::222222222222:user/puller"
REPO_ARN = f"arn:aws:ecr:us-east-1:{OWNER}:repository/example"
MANIFEST = f"/v2/{OWNER}/example/manifests/latest"


def _expired_events(world: TrailWorld) -> list[dict[str, Any]]:
    return [e.record for e in world.events() if e.decision == "TokenExpired"]


def _expire(world: TrailWorld) -> str:
    password = world.password("puller")
    world.clock.advance(hours=12)
    return password


def test_an_expired_token_is_a_recorded_denial(world: TrailWorld) -> None:
    password = _expire(world)
    answer = world.v2("GET", MANIFEST, password)
    assert answer.status_code == 403
    assert answer.json()["errors"][0] == {"code": "DENIED", "message": EXPIRED}

    [record] = _expired_events(world)
    assert record["eventSource"] == "ecr.amazonaws.com"
    assert record["eventName"] == "BatchGetImage"
    assert record["errorCode"] == "ExpiredTokenException"
    assert record["errorMessage"] == EXPIRED
    assert record["userIdentity"]["arn"] == PULLER
    assert record["userIdentity"]["type"] == "IAMUser"
    assert record["userIdentity"]["accessKeyId"] == "AKIAPULLER0000000001"
    assert record["requestParameters"] == {
        "repositoryName": "example",
        "registryId": OWNER,
        "imageTag": "latest",
    }
    block = record["crossdock"]
    assert block["decision"] == "TokenExpired"
    assert (block["action"], block["resource"]) == ("ecr:BatchGetImage", REPO_ARN)
    assert block["tokenExpiredAt"] == "2026-12-01T22:00:00Z"
    assert block["tokenIssuedAt"] == "2026-12-01T10:00:00Z"
    assert block["protocol"] == "v2"
    assert password not in json.dumps(record)

    event = TrailEvent(record)
    assert event.denied
    assert event.token_expired
    last = TrailReader(world.trail_dir).last_denied()
    assert last is not None
    assert last.record == record


def test_the_docs_show_the_expired_token_line(world: TrailWorld) -> None:
    password = _expire(world)
    assert world.v2("GET", MANIFEST, password).status_code == 403
    [record] = _expired_events(world)
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(), re.DOTALL)
    shown = next((json.loads(b) for b in blocks if '"TokenExpired"' in b), None)
    assert shown is not None, json.dumps(record, indent=2)
    assert re.fullmatch(r"AIDA[0-9A-Z]{17}", record["userIdentity"]["principalId"])
    record["eventID"] = shown["eventID"]
    record["userIdentity"]["principalId"] = shown["userIdentity"]["principalId"]
    assert record == shown, json.dumps(record, indent=2)


@pytest.mark.parametrize(
    ("method", "path", "name", "resource"),
    [
        (
            "HEAD",
            f"/v2/{OWNER}/example/blobs/sha256:{'0' * 64}",
            "BatchCheckLayerAvailability",
            REPO_ARN,
        ),
        ("POST", f"/v2/{OWNER}/example/blobs/uploads/", "InitiateLayerUpload", REPO_ARN),
        ("GET", f"/v2/{OWNER}/example/tags/list", "ListImages", REPO_ARN),
        (
            "GET",
            "/v2/_catalog",
            "DescribeRepositories",
            "arn:aws:ecr:us-east-1:222222222222:repository/*",
        ),
        ("GET", "/v2/", "GetAuthorizationToken", "*"),
        ("GET", "/v2/example/manifests/latest", "GetAuthorizationToken", "*"),
    ],
)
def test_each_route_is_recorded_as_its_operation(
    world: TrailWorld, method: str, path: str, name: str, resource: str
) -> None:
    password = _expire(world)
    assert world.v2(method, path, password).status_code == 403
    [record] = _expired_events(world)
    assert (record["eventName"], record["crossdock"]["resource"]) == (name, resource)


def test_unknown_and_garbled_tokens_record_nothing(world: TrailWorld) -> None:
    password = _expire(world)
    token_id, _, secret = password.partition(".")
    wrong = f"{token_id}.{'A' * len(secret)}"
    assert wrong != password
    for credentials in (wrong, "garbled", ""):
        assert world.v2("GET", MANIFEST, credentials).status_code == 401
    assert _expired_events(world) == []
    tokens = world.server.ecr.registry_tokens
    assert tokens.verify_registry_password(wrong, world.clock()) is TokenRejection.UNKNOWN


def test_verification_names_an_expired_token_only_once_its_secret_matched(
    world: TrailWorld,
) -> None:
    password = world.password("puller")
    tokens = world.server.ecr.registry_tokens
    issued = world.clock()
    grant = tokens.verify_registry_password(password, issued)  # now cached
    assert isinstance(grant, TokenGrant)
    later = issued + timedelta(hours=12)
    assert tokens.verify_registry_password(password, later) == ExpiredToken(grant, issued)
    token_id, _, secret = password.partition(".")
    forged = f"{token_id}.{secret[::-1]}"
    assert tokens.verify_registry_password(forged, later) is TokenRejection.UNKNOWN


def test_a_principal_that_no_longer_resolves_is_named_by_its_arn() -> None:
    now = datetime(2026, 12, 1, 22, 0, 5, tzinfo=UTC)
    use = ExpiredTokenUse(
        principal_arn="arn:aws:sts::222222222222:assumed-role/puller/ci",
        access_key_id="ASIAEXAMPLE000000001",
        expired_at=now - timedelta(seconds=5),
        issued_at=None,
        action="ecr:GetAuthorizationToken",
        resource="*",
        registry_host="127.0.0.1:5000",
        secure=False,
    )
    info = RequestInfo("127.0.0.1", False, "docker/27", now, "us-east-1", protocol="v2")
    record = expired_token_record(use, info, "e")
    assert record["userIdentity"] == {
        "type": "AssumedRole",
        "arn": use.principal_arn,
        "accountId": "222222222222",
        "accessKeyId": "ASIAEXAMPLE000000001",
    }
    assert record["recipientAccountId"] == "222222222222"
    assert record["requestParameters"] == {}
    assert record["crossdock"]["tokenIssuedAt"] is None
    assert record["crossdock"]["registryEndpoint"] == "http://127.0.0.1:5000"
    assert arn_identity("arn:aws:iam::111111111111:root", "AKIA1")["type"] == "Root"
    assert arn_identity(PULLER, "AKIA2")["userName"] == "puller"
