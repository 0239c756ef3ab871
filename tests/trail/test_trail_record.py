"""The event format: the cached encoder writes exactly ``trail_record``, with no secrets."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime

from trail_world import TrailWorld

from crossdock.auth.principal import Principal, SessionInfo
from crossdock.policy.context import PrincipalKind
from crossdock.policy.decide import Decision
from crossdock.service.authz import RequestInfo
from crossdock.service.trail_record import (
    TrailEncoder,
    request_parameters,
    trail_record,
    user_identity,
)

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
REPO = "arn:aws:ecr:us-east-1:111111111111:repository/team/app"
INFO = RequestInfo(
    "10.0.0.1", True, 'agent "quoted" \u00e9', datetime(2026, 1, 2, 3, 4, 5, 600, UTC), "us-east-1"
)


def _decisions(world: TrailWorld) -> list[tuple[Principal, Decision]]:
    """A denied and an allowed decision, taken from the world's authorizer."""
    authorizer = world.server.identity.authorizer
    resolver = world.server.identity.resolver
    found = []
    for key in ("AKIAMALLORY000000001", "AKIAPULLER0000000001"):
        credential = resolver.credential(key)
        assert credential is not None
        repo = "arn:aws:ecr:us-east-1:111111111111:repository/example"
        found.append(
            (
                credential.principal,
                authorizer.decide(credential.principal, "ecr:BatchGetImage", repo, INFO),
            )
        )
    return found


def test_the_encoder_writes_exactly_the_record(world: TrailWorld) -> None:
    encoder = TrailEncoder()
    for principal, decision in _decisions(world):
        for info in (
            INFO,
            replace(INFO, protocol="v2", parameters={"imageTag": "latest"}),
            replace(INFO, operation="BatchGetImage", parameters={"imageIds": [{"imageTag": "x"}]}),
        ):
            for _ in range(2):  # the second time from the caches
                day, line = encoder.encode(principal, decision, info)
                parsed = json.loads(line)
                expected = trail_record(principal, decision, info, parsed["eventID"])
                assert list(parsed) == list(expected)
                assert parsed == expected
                assert line == json.dumps(expected, separators=(",", ":"))
                assert day.isoformat() == "2026-01-02"
                assert parsed["eventTime"] == "2026-01-02T03:04:05Z"


def test_event_ids_are_unique_uuids() -> None:
    encoder = TrailEncoder()
    ids = [encoder.event_id() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(UUID.fullmatch(i) for i in ids)
    assert TrailEncoder().event_id()[:23] != encoder.event_id()[:23]


def test_only_allow_listed_parameters_are_recorded() -> None:
    secretish = {
        "repositoryName": "team/app",
        "imageTag": "v1",
        "SecretAccessKey": "s3cr3t",
        "password": "hunter2",
        "SessionToken": "tok",
        "layerPartBlob": b"bytes",
        "imageManifest": "{}",
        "policyText": "{}",
        "AssumeRolePolicyDocument": "{}",
        "RoleSessionName": "ci",
        "ExternalId": "shared-secret",
    }
    found = request_parameters(REPO, replace(INFO, parameters=secretish))
    assert found == {
        "repositoryName": "team/app",
        "registryId": "111111111111",
        "imageTag": "v1",
        "roleSessionName": "ci",
    }


def test_role_sessions_name_their_role() -> None:
    now = datetime(2026, 1, 2, tzinfo=UTC)
    session = SessionInfo(
        "arn:aws:iam::222222222222:role/ci/Deploy", "AROAEXAMPLE", "run-7", now, now
    )
    principal = Principal(
        "222222222222",
        PrincipalKind.ASSUMED_ROLE,
        "arn:aws:sts::222222222222:assumed-role/Deploy/run-7",
        "AROAEXAMPLE:run-7",
        "ASIAEXAMPLE",
        session=session,
    )
    identity = user_identity(principal)
    assert identity["type"] == "AssumedRole"
    assert identity["principalId"] == "AROAEXAMPLE:run-7"
    assert identity["sessionContext"]["sessionIssuer"] == {
        "type": "Role",
        "principalId": "AROAEXAMPLE",
        "arn": "arn:aws:iam::222222222222:role/ci/Deploy",
        "accountId": "222222222222",
        "userName": "Deploy",
    }
