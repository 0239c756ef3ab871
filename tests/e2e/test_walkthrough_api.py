"""Issue 3 acceptance: the cross-account walkthrough against a real ``crossdock serve``.

The unmodified AWS CLI v1 (``ecr get-login``) and boto3 talk to a subprocess server on
127.0.0.1 over HTTP with SigV4. Accounts come from ``crossdock account create`` run beside
the server; everything else goes through the AWS APIs.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.auth
import pytest
from botocore.exceptions import ClientError
from serve_process import RunningServer, aws_cli_v1, start_server, stop_server

OWNER, CONSUMER, OTHER = "111111111111", "222222222222", "333333333333"
REPO_ARN = f"arn:aws:ecr:us-east-1:{OWNER}:repository/example"
PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
REPOSITORY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowPull",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{CONSUMER}:root"},
            "Action": PULL,
        }
    ],
}
PULLER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": PULL, "Resource": REPO_ARN},
        {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
    ],
}
EVERYTHING_ECR = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}],
}
Keys = tuple[str, str]


def _client(server: RunningServer, service: str, keys: Keys) -> Any:
    return boto3.session.Session().client(
        service,
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=keys[0],
        aws_secret_access_key=keys[1],
    )


def _create_account(server: RunningServer, account_id: str) -> Keys:
    done = server.crossdock(
        "account", "create", account_id, "--data-dir", str(server.data_dir), "--json"
    )
    assert done.returncode == 0, done.stderr
    created = json.loads(done.stdout)
    return created["AccessKeyId"], created["SecretAccessKey"]


def _user(server: RunningServer, root: Keys, name: str, policy: dict[str, Any] | None) -> Keys:
    iam = _client(server, "iam", root)
    iam.create_user(UserName=name)
    if policy is not None:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def _denied(call: Callable[[], object]) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def _aws_v1(server: RunningServer, keys: Keys, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_ACCESS_KEY_ID": keys[0],
        "AWS_SECRET_ACCESS_KEY": keys[1],
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PAGER": "",
    }
    return subprocess.run(
        [aws_cli_v1(), *args, "--endpoint-url", server.url],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The walkthrough set up through the real APIs, shared by the tests of this module."""
    server = start_server(tmp_path_factory.mktemp("walkthrough") / "data")
    try:
        owner = _create_account(server, OWNER)
        consumer = _create_account(server, CONSUMER)
        other = _create_account(server, OTHER)
        ecr = _client(server, "ecr", owner)
        ecr.create_repository(repositoryName="example")
        ecr.set_repository_policy(
            repositoryName="example", policyText=json.dumps(REPOSITORY_POLICY)
        )
        yield {
            "server": server,
            "owner": owner,
            "puller": _user(server, consumer, "puller", PULLER_POLICY),
            "nopolicy": _user(server, consumer, "nopolicy", None),
            "mallory": _user(server, other, "mallory", EVERYTHING_ECR),
        }
    finally:
        stop_server(server)


def test_get_login_with_registry_ids_prints_a_working_docker_login(world: dict[str, Any]) -> None:
    server = world["server"]
    done = _aws_v1(
        server, world["puller"], "ecr", "get-login", "--registry-ids", OWNER, "--no-include-email"
    )
    assert done.returncode == 0, done.stderr
    words = done.stdout.split()
    assert words[:4] == ["docker", "login", "-u", "AWS"]
    assert words[4] == "-p"
    assert ":" not in words[5]
    assert words[6] == server.url


def test_get_login_password_prints_the_token_password(world: dict[str, Any]) -> None:
    done = _aws_v1(world["server"], world["puller"], "ecr", "get-login-password")
    assert done.returncode == 0, done.stderr
    password = done.stdout.strip()
    token = _client(world["server"], "ecr", world["puller"]).get_authorization_token()
    data = token["authorizationData"][0]
    assert base64.b64decode(data["authorizationToken"]).decode().startswith("AWS:")
    assert password
    assert ":" not in password
    assert data["expiresAt"] - datetime.now(UTC) <= timedelta(hours=12, seconds=5)


def test_a_user_without_identity_policy_cannot_get_a_token(world: dict[str, Any]) -> None:
    ecr = _client(world["server"], "ecr", world["nopolicy"])
    assert _denied(ecr.get_authorization_token) == (
        "AccessDeniedException",
        f"User: arn:aws:iam::{CONSUMER}:user/nopolicy is not authorized to perform:"
        " ecr:GetAuthorizationToken on resource: * because no identity-based policy allows"
        " the ecr:GetAuthorizationToken action",
    )


def test_another_account_with_ecr_star_is_denied(world: dict[str, Any]) -> None:
    ecr = _client(world["server"], "ecr", world["mallory"])
    call = lambda: ecr.batch_get_image(  # noqa: E731
        registryId=OWNER, repositoryName="example", imageIds=[{"imageTag": "latest"}]
    )
    assert _denied(call) == (
        "AccessDeniedException",
        f"User: arn:aws:iam::{OTHER}:user/mallory is not authorized to perform:"
        f" ecr:BatchGetImage on resource: {REPO_ARN} because no resource-based policy allows"
        " the ecr:BatchGetImage action",
    )


def test_the_puller_can_pull_but_not_push(world: dict[str, Any]) -> None:
    ecr = _client(world["server"], "ecr", world["puller"])
    found = ecr.batch_get_image(
        registryId=OWNER, repositoryName="example", imageIds=[{"imageTag": "latest"}]
    )
    assert found["failures"][0]["failureCode"] == "ImageNotFound"
    manifest = json.dumps(
        {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}
    )
    call = lambda: ecr.put_image(  # noqa: E731
        registryId=OWNER, repositoryName="example", imageManifest=manifest, imageTag="x"
    )
    assert _denied(call) == (
        "AccessDeniedException",
        f"User: arn:aws:iam::{CONSUMER}:user/puller is not authorized to perform:"
        f" ecr:PutImage on resource: {REPO_ARN} because no resource-based policy allows the"
        " ecr:PutImage action",
    )


def test_signature_failures_are_rejected(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, puller = world["server"], world["puller"]
    tampered = _client(server, "ecr", (puller[0], "x" * 40))
    code, message = _denied(tampered.describe_repositories)
    assert code == "InvalidSignatureException"
    assert message.startswith("The request signature we calculated does not match")
    unknown = _client(server, "ecr", ("AKIAUNKNOWN000000000", "x" * 40))
    assert _denied(unknown.describe_repositories) == (
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    )
    signed_at = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=10)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: signed_at)
    code, message = _denied(_client(server, "ecr", puller).describe_repositories)
    assert code == "InvalidSignatureException"
    assert message.startswith("Signature expired:")


def test_removing_the_repository_policy_stops_the_puller(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data")
    try:
        owner = _create_account(server, OWNER)
        consumer = _create_account(server, CONSUMER)
        ecr = _client(server, "ecr", owner)
        ecr.create_repository(repositoryName="example")
        ecr.set_repository_policy(
            repositoryName="example", policyText=json.dumps(REPOSITORY_POLICY)
        )
        puller = _client(server, "ecr", _user(server, consumer, "puller", PULLER_POLICY))
        ids = [{"imageTag": "latest"}]
        puller.batch_get_image(registryId=OWNER, repositoryName="example", imageIds=ids)
        ecr.delete_repository_policy(repositoryName="example")
        code, message = _denied(
            lambda: puller.batch_get_image(registryId=OWNER, repositoryName="example", imageIds=ids)
        )
        assert code == "AccessDeniedException"
        assert message.endswith(
            "because no resource-based policy allows the ecr:BatchGetImage action"
        )
    finally:
        stop_server(server)


def test_the_same_walkthrough_as_a_scenario_file(tmp_path: Path) -> None:
    scenario = Path(__file__).resolve().parents[2] / "examples" / "cross-account-walkthrough.yaml"
    server = start_server(tmp_path / "data", "--scenario", str(scenario))
    try:
        puller = ("AKIAPULLER0000000001", "puller-secret-puller-secret-puller-secret")
        mallory = ("AKIAMALLORY000000001", "mallory-secret-mallory-secret-mallory-se")
        done = _aws_v1(
            server, puller, "ecr", "get-login", "--registry-ids", OWNER, "--no-include-email"
        )
        assert done.returncode == 0, done.stderr
        ids = [{"imageTag": "latest"}]
        found = _client(server, "ecr", puller).batch_get_image(
            registryId=OWNER, repositoryName="example", imageIds=ids
        )
        assert found["failures"][0]["failureCode"] == "ImageNotFound"
        code, message = _denied(
            lambda: _client(server, "ecr", mallory).batch_get_image(
                registryId=OWNER, repositoryName="example", imageIds=ids
            )
        )
        assert code == "AccessDeniedException"
        assert message.endswith(
            "because no resource-based policy allows the ecr:BatchGetImage action"
        )
        again = server.crossdock(
            "scenario", "apply", str(scenario), "--data-dir", str(server.data_dir)
        )
        assert again.returncode == 0, again.stderr
    finally:
        stop_server(server)
