"""Every decision of a wired server lands in the trail: /v2/ routes, ECR, IAM and STS."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import pytest
from trail_world import CLIENT_IP, KEYS, OTHER, OWNER, REGION, TrailWorld

from crossdock.api.compose import build_server
from crossdock.settings import Settings

REPO_ARN = f"arn:aws:ecr:{REGION}:{OWNER}:repository/example"
MALLORY = f"arn:aws:iam::{OTHER}:user/mallory"
DENIED_PULL = (
    f"User: {MALLORY} is not authorized to perform: ecr:BatchGetImage on resource: {REPO_ARN}"
    " because no resource-based policy allows the ecr:BatchGetImage action"
)


def test_applying_the_scenario_records_nothing(world: TrailWorld) -> None:
    # build_trail_world applied the walkthrough through the operator's authorizer
    assert world.events() == []


def test_v2_routes_are_named_after_their_ecr_operation(world: TrailWorld) -> None:
    owner = world.password("owner")
    pushed = world.push(owner)
    puller = world.password("puller")
    before = len(world.events())
    base = f"/v2/{OWNER}/example"
    assert world.v2("GET", f"{base}/manifests/latest", puller).status_code == 200
    assert world.v2("HEAD", f"{base}/manifests/{pushed.manifest_digest}", puller).status_code == 200
    assert world.v2("GET", f"{base}/blobs/{pushed.layer_digest}", puller).status_code == 200
    assert world.v2("HEAD", f"{base}/blobs/{pushed.layer_digest}", puller).status_code == 200
    assert world.v2("GET", f"{base}/tags/list", owner).status_code == 200
    assert world.v2("GET", "/v2/_catalog", owner).status_code == 200
    events = world.events()[before:]
    names = [(e.record["eventName"], e.record["requestParameters"]) for e in events]
    repo = {"repositoryName": "example", "registryId": OWNER}
    assert names == [
        ("BatchGetImage", {**repo, "imageTag": "latest"}),
        ("BatchGetImage", {**repo, "imageDigest": pushed.manifest_digest}),
        ("GetDownloadUrlForLayer", {**repo, "layerDigest": pushed.layer_digest}),
        ("BatchCheckLayerAvailability", {**repo, "layerDigest": pushed.layer_digest}),
        ("ListImages", repo),
        ("DescribeRepositories", {"registryId": OWNER}),
    ]
    for event in events:
        assert event.record["crossdock"]["protocol"] == "v2"
        assert event.record["eventSource"] == "ecr.amazonaws.com"
        assert event.record["userAgent"] == "skopeo/1.9.3"
        assert event.record["sourceIPAddress"] == CLIENT_IP
        assert "errorCode" not in event.record
        assert "errorMessage" not in event.record
        assert event.record["crossdock"]["decision"] == "Allowed"
    pull = events[0].record
    assert pull["userIdentity"]["arn"] == "arn:aws:iam::222222222222:user/puller"
    assert pull["userIdentity"]["accessKeyId"] == KEYS["puller"][0]
    assert pull["crossdock"]["sides"] == {
        "principalAccount": "222222222222",
        "resourceAccount": OWNER,
        "crossAccount": True,
    }
    assert pull["crossdock"]["statements"] == [
        {
            "policy": f"{REPO_ARN} repository policy",
            "sid": "AllowPullFrom222222222222",
            "effect": "Allow",
        },
        {
            "policy": "arn:aws:iam::222222222222:user/puller PullExample",
            "sid": "PullFromOwner",
            "effect": "Allow",
        },
    ]


def test_push_routes_are_recorded_too(world: TrailWorld) -> None:
    # a monolithic POST ?digest= with a body: initiate, upload the part, complete
    world.push(world.password("owner"))
    names = [
        e.record["eventName"] for e in world.events() if e.record["crossdock"]["protocol"] == "v2"
    ]
    blob = ["InitiateLayerUpload", "UploadLayerPart", "CompleteLayerUpload"]
    assert names == [*blob, *blob, "PutImage"]


def test_a_denied_v2_pull_and_api_call_carry_the_aws_error(world: TrailWorld) -> None:
    password = world.password("mallory")
    response = world.v2("GET", f"/v2/{OWNER}/example/manifests/latest", password)
    assert response.status_code == 403
    params = {"registryId": OWNER, "repositoryName": "example", "imageIds": [{"imageTag": "v1"}]}
    api = world.ecr("mallory", "BatchGetImage", params)
    assert api.json() == {"__type": "AccessDeniedException", "message": DENIED_PULL}
    v2_event, api_event = world.events()[-2:]
    for event, protocol in ((v2_event, "v2"), (api_event, "api")):
        assert event.denied
        assert event.record["errorCode"] == "AccessDeniedException"
        assert event.record["errorMessage"] == DENIED_PULL
        assert event.record["eventName"] == "BatchGetImage"
        assert event.record["crossdock"]["decision"] == "ImplicitDeny"
        assert event.record["crossdock"]["side"] == "resource account"
        assert event.record["crossdock"]["policyType"] == "resource-based policy"
        assert event.record["crossdock"]["gaps"] == ["resource-based policy"]
        assert event.record["crossdock"]["protocol"] == protocol
        assert event.record["recipientAccountId"] == OWNER
    assert api_event.record["requestParameters"] == {
        "repositoryName": "example",
        "registryId": OWNER,
        "imageIds": [{"imageTag": "v1"}],
    }
    assert v2_event.record["errorMessage"] == response.json()["errors"][0]["message"]


def test_iam_and_sts_decisions_name_their_service(world: TrailWorld) -> None:
    trust = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
        '"Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"sts:AssumeRole"}]}'
    )
    created = world.query(
        "owner",
        "iam",
        {
            "Action": "CreateRole",
            "Version": "2010-05-08",
            "RoleName": "Reader",
            "AssumeRolePolicyDocument": trust,
        },
    )
    assert created.status_code == 200, created.text
    role_arn = f"arn:aws:iam::{OWNER}:role/Reader"
    denied = world.query(
        "puller",
        "sts",
        {
            "Action": "AssumeRole",
            "Version": "2011-06-15",
            "RoleArn": role_arn,
            "RoleSessionName": "ci",
        },
    )
    assert denied.status_code == 403, denied.text
    create, assume = world.events()[-2:]
    assert create.record["eventSource"] == "iam.amazonaws.com"
    assert create.record["eventName"] == "CreateRole"
    assert create.record["requestParameters"] == {"roleArn": role_arn, "roleName": "Reader"}
    assert "errorCode" not in create.record
    assert assume.record["eventSource"] == "sts.amazonaws.com"
    assert assume.record["eventName"] == "AssumeRole"
    assert assume.record["errorCode"] == "AccessDenied"
    assert assume.record["requestParameters"] == {"roleArn": role_arn, "roleSessionName": "ci"}
    assert assume.record["errorMessage"] == (
        "User: arn:aws:iam::222222222222:user/puller is not authorized to perform:"
        f" sts:AssumeRole on resource: {role_arn}"
        " because no identity-based policy allows the sts:AssumeRole action"
    )
    assert "sts:AssumeRole" not in json.dumps(create.record["requestParameters"])


def test_no_secret_reaches_the_trail(world: TrailWorld) -> None:
    iam = {"Version": "2010-05-08", "UserName": "ci"}
    assert world.query("owner", "iam", {**iam, "Action": "CreateUser"}).status_code == 200
    made = world.query("owner", "iam", {**iam, "Action": "CreateAccessKey"})
    assert made.status_code == 200, made.text
    new_secret = made.text.split("<SecretAccessKey>")[1].split("<")[0]
    passwords = [world.password(who) for who in ("owner", "puller", "mallory")]
    world.v2("GET", f"/v2/{OWNER}/example/manifests/latest", passwords[2])
    world.ecr("mallory", "DescribeRepositories", {"registryId": OWNER})
    world.events()
    text = "".join(path.read_text() for path in sorted(world.trail_dir.glob("*.jsonl")))
    assert text.count("\n") >= 6
    secrets = [secret for _, secret in KEYS.values()] + passwords + [new_secret]
    for secret in secrets:
        assert len(secret) >= 16
        assert secret not in text
    for password in passwords:
        assert base64.b64encode(f"AWS:{password}".encode()).decode() not in text
    assert "AWS4-HMAC-SHA256" not in text
    assert "Signature=" not in text
    assert "Basic " not in text


def test_the_trail_can_be_turned_off(tmp_path: Path) -> None:
    server = build_server(Settings(data_dir=tmp_path / "data", trail=False))
    assert server.trail is None
    assert server.identity.authorizer._recorder is None
    server.close()
    assert not (tmp_path / "data" / "trail").exists()


@pytest.mark.parametrize("days", [1, 7])
def test_retention_comes_from_the_settings(tmp_path: Path, days: int) -> None:
    trail = tmp_path / "data" / "trail"
    trail.mkdir(parents=True)
    for name in ("2020-01-01.jsonl", "2099-01-01.jsonl", "notes.txt"):
        (trail / name).write_text("{}\n")
    server = build_server(Settings(data_dir=tmp_path / "data", trail_retention_days=days))
    server.close()
    assert sorted(p.name for p in trail.iterdir()) == ["2099-01-01.jsonl", "notes.txt"]


def test_the_app_lifespan_closes_the_writer(tmp_path: Path) -> None:
    server = build_server(Settings(data_dir=tmp_path / "data"))
    writer = server.trail
    assert writer is not None
    thread = writer._thread
    assert thread is not None
    assert thread.is_alive()

    async def run() -> None:
        async with server.app.router.lifespan_context(server.app):
            pass

    asyncio.run(run())
    assert not thread.is_alive()
