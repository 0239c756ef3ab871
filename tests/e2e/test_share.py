"""``crossdock share`` / ``unshare`` against a real ``crossdock serve`` and real clients.

The server starts from ``examples/unshared-accounts.yaml``: 111111111111 owns ``example``
(no repository policy), the user ``puller`` of 222222222222 has no permissions. After
``share`` the puller pulls with skopeo and with the Docker engine; after ``unshare`` both
are denied with AWS's text. A share whose identity side cannot be written is rolled back.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from dockerd import Dockerd, start_dockerd, stop_dockerd, why_no_dockerd
from images import BuiltImage, build_image
from serve_process import RunningServer, start_server, stop_server

pytestmark = pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo not installed")

SCENARIO = Path(__file__).resolve().parents[2] / "examples" / "unshared-accounts.yaml"
OWNER, CONSUMER = "111111111111", "222222222222"
PULLER = f"arn:aws:iam::{CONSUMER}:user/puller"
REPO_ARN = f"arn:aws:ecr:us-east-1:{OWNER}:repository/example"
POLICY_ARN = f"arn:aws:iam::{CONSUMER}:policy/crossdock-pull-{OWNER}-example"
KEYS = {
    "owner": ("AKIAOWNER00000000001", "owner-secret-owner-secret-owner-secret00"),
    "puller": ("AKIAPULLER0000000001", "puller-secret-puller-secret-puller-secret"),
    "viewer": ("AKIAVIEWER0000000001", "viewer-secret-viewer-secret-viewer-secret"),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """``crossdock serve --scenario examples/unshared-accounts.yaml``."""
    running = start_server(tmp_path_factory.mktemp("share") / "data", "--scenario", str(SCENARIO))
    try:
        yield running
    finally:
        stop_server(running)


@pytest.fixture(scope="module")
def aws_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An environment whose AWS credentials file has the profiles owner, puller, viewer."""
    home = tmp_path_factory.mktemp("aws")
    lines = []
    for name, (key_id, secret) in KEYS.items():
        lines += [f"[{name}]", f"aws_access_key_id = {key_id}", f"aws_secret_access_key = {secret}"]
    (home / "credentials").write_text("\n".join(lines) + "\n")
    (home / "config").write_text("")
    return {
        "PATH": os.environ.get("PATH", ""),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "HOME": str(home),
    }


def _client(server: RunningServer, service: str, who: str) -> Any:
    key_id, secret = KEYS[who]
    return boto3.session.Session().client(
        service,
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
    )


def _password(server: RunningServer, who: str) -> str:
    data = _client(server, "ecr", who).get_authorization_token(registryIds=[OWNER])
    token = data["authorizationData"][0]["authorizationToken"]
    return str(base64.b64decode(token).decode().partition(":")[2])


def crossdock(
    server: RunningServer, env: dict[str, str], *args: str, data_dir: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run ``crossdock ARGS --endpoint-url URL [--data-dir DIR]`` in a clean environment."""
    extra = ["--endpoint-url", server.url]
    if data_dir:
        extra += ["--data-dir", str(server.data_dir)]
    return subprocess.run(
        [sys.executable, "-m", "crossdock", *args, *extra],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


def _skopeo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["skopeo", *args], capture_output=True, text=True, check=False, timeout=300
    )


@pytest.fixture(scope="module")
def image(server: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> BuiltImage:
    """An image the owner pushed to ``example:latest`` with skopeo."""
    built = build_image(tmp_path_factory.mktemp("share-image") / "layout", "oci", seed=5)
    push = _skopeo(
        "copy",
        "--dest-tls-verify=false",
        "--dest-creds",
        f"AWS:{_password(server, 'owner')}",
        built.source,
        f"docker://127.0.0.1:{server.port}/{OWNER}/example:latest",
    )
    assert push.returncode == 0, push.stderr
    return built


def _denial(action: str) -> str:
    return (
        f"denied: User: {PULLER} is not authorized to perform: {action} on resource:"
        f" {REPO_ARN} because no resource-based policy allows the {action} action"
    )


def _docker_pull(engine: Dockerd, config: Path, server: RunningServer, who: str) -> Any:
    login = engine.docker(config, "login", "-u", "AWS", "-p", _password(server, who), server.url)
    assert login.returncode == 0, login.stderr
    reference = f"127.0.0.1:{server.port}/{OWNER}/example:latest"
    engine.docker(config, "rmi", "--force", reference)
    return engine.docker(config, "pull", reference)


def test_share_pull_unshare_deny(
    server: RunningServer,
    aws_files: dict[str, str],
    image: BuiltImage,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    shared = crossdock(
        server,
        aws_files,
        "share",
        "example",
        "--from",
        OWNER,
        "--to",
        PULLER,
        "--verify",
        "--format",
        "json",
    )
    assert shared.returncode == 0, shared.stderr
    report = json.loads(shared.stdout)
    assert report["applied"] == [
        f"set the repository policy of {REPO_ARN}",
        f"created {POLICY_ARN}",
        f"attached {POLICY_ARN} to user puller",
    ]
    assert report["repositoryPolicy"]["before"] is None
    assert {p["decision"] for p in report["simulation"]} == {"Allowed"}
    assert [p["action"] for p in report["simulation"]] == [
        "ecr:GetAuthorizationToken",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchCheckLayerAvailability",
    ]
    assert report["verify"] == {
        "ok": True,
        "url": f"{server.url}/v2/{OWNER}/example/manifests/latest",
        "status": 200,
        "detail": image.digest,
    }

    again = crossdock(server, aws_files, "share", "example", "--from", OWNER, "--to", PULLER)
    assert again.returncode == 0, again.stderr
    assert "no change: the share is in place already" in again.stdout
    assert f"repository policy of {REPO_ARN}: no change" in again.stdout

    reference = f"docker://127.0.0.1:{server.port}/{OWNER}/example:latest"
    out = tmp_path_factory.mktemp("share-pulled") / "oci"
    puller = _password(server, "puller")
    pull = _skopeo(
        "copy",
        "--src-tls-verify=false",
        "--src-creds",
        f"AWS:{puller}",
        reference,
        f"oci:{out}:latest",
    )
    assert pull.returncode == 0, pull.stderr
    assert json.loads((out / "index.json").read_text())["manifests"][0]["digest"] == image.digest

    engine: Dockerd | None = None
    config = tmp_path_factory.mktemp("share-docker-config")
    if why_no_dockerd() is None:
        engine = start_dockerd(tmp_path_factory.mktemp("share-dockerd"))
    try:
        if engine is not None:
            pulled = _docker_pull(engine, config, server, "puller")
            assert pulled.returncode == 0, pulled.stderr
            assert f"Digest: {image.digest}" in pulled.stdout

        removed = crossdock(
            server,
            aws_files,
            "unshare",
            "example",
            "--from",
            OWNER,
            "--to",
            PULLER,
            "--format",
            "json",
        )
        assert removed.returncode == 0, removed.stderr
        report = json.loads(removed.stdout)
        assert report["applied"] == [
            f"deleted the repository policy of {REPO_ARN}",
            f"detached {POLICY_ARN} from user puller",
            f"deleted {POLICY_ARN}",
        ]
        messages = {p["action"]: p["message"] for p in report["simulation"]}
        assert messages["ecr:BatchGetImage"] == _denial("ecr:BatchGetImage").removeprefix(
            "denied: "
        )

        denied = _skopeo("inspect", "--tls-verify=false", "--creds", f"AWS:{puller}", reference)
        assert denied.returncode == 1
        fatal = re.fullmatch(r'time="[^"]+" level=fatal msg="(.*)"', denied.stderr.strip())
        assert fatal is not None, denied.stderr
        assert fatal.group(1) == (
            f'Error parsing image name \\"{reference}\\": reading manifest latest in'
            f" 127.0.0.1:{server.port}/{OWNER}/example: " + _denial("ecr:BatchGetImage")
        )
        if engine is not None:
            # The token was issued while shared; the denial comes at request time.
            reference = f"127.0.0.1:{server.port}/{OWNER}/example:latest"
            engine.docker(config, "rmi", "--force", reference)
            refused = engine.docker(config, "pull", reference)
            assert refused.returncode == 1
            assert refused.stderr.strip() == (
                f"Error response from daemon: pull access denied for 127.0.0.1:{server.port}/"
                f"{OWNER}/example, repository does not exist or may require 'docker login': "
                + _denial("ecr:BatchGetImage")
            )
    finally:
        if engine is not None:
            stop_dockerd(engine)
    ecr = _client(server, "ecr", "owner")
    with pytest.raises(ecr.exceptions.RepositoryPolicyNotFoundException):
        ecr.get_repository_policy(repositoryName="example")


def test_a_failing_identity_side_is_rolled_back(
    server: RunningServer, aws_files: dict[str, str]
) -> None:
    ecr = _client(server, "ecr", "owner")
    mine = {
        "Version": "2008-10-17",
        "Statement": [
            {
                "Sid": "new statement",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "ecr:ListImages",
            }
        ],
    }
    before = ecr.set_repository_policy(repositoryName="example", policyText=json.dumps(mine))
    try:
        done = crossdock(
            server,
            aws_files,
            "share",
            "example",
            "--from",
            OWNER,
            "--to",
            CONSUMER,
            "--profile",
            "owner",
            "--to-profile",
            "viewer",
            data_dir=False,
        )
        assert done.returncode == 1
        assert done.stdout.splitlines()[-1] == (
            f"error: could not create {POLICY_ARN}: CreatePolicy: AccessDenied: User:"
            f" arn:aws:iam::{CONSUMER}:user/viewer is not authorized to perform:"
            f" iam:CreatePolicy on resource: {POLICY_ARN} because no identity-based policy"
            " allows the iam:CreatePolicy action; rolled back: restored the previous"
            f" repository policy of {REPO_ARN}"
        )
        after = ecr.get_repository_policy(repositoryName="example")["policyText"]
        assert after == before["policyText"]
    finally:
        ecr.delete_repository_policy(repositoryName="example")


def test_organization_and_lambda_shares(server: RunningServer, aws_files: dict[str, str]) -> None:
    org = crossdock(
        server,
        aws_files,
        "share",
        "example",
        "--from",
        OWNER,
        "--to",
        "o-exampleorg1",
        "--format",
        "json",
    )
    assert org.returncode == 0, org.stderr
    report = json.loads(org.stdout)
    statement = report["repositoryPolicy"]["after"]["Statement"][0]
    assert statement["Principal"] == "*"
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-exampleorg1"}}
    assert report["identityPolicy"]["mode"] == "print"
    assert {p["principal"] for p in report["simulation"]} == {"arn:aws:iam::333333333333:root"}
    assert {p["decision"] for p in report["simulation"]} == {"Allowed"}

    fn = f"arn:aws:lambda:us-east-1:{CONSUMER}:function:resize"
    lam = crossdock(
        server, aws_files, "share", "example", "--from", OWNER, "--lambda", fn, "--format", "json"
    )
    assert lam.returncode == 0, lam.stderr
    report = json.loads(lam.stdout)
    sids = [s["Sid"] for s in report["repositoryPolicy"]["after"]["Statement"]]
    assert sids == [
        "CrossdockPullOrgoexampleorg1",
        f"CrossdockLambda{CONSUMER}",
        f"CrossdockLambdaAccount{CONSUMER}",
    ]
    decisions = {(p["principal"], p["action"]): p["decision"] for p in report["simulation"]}
    assert decisions[("lambda.amazonaws.com", "ecr:BatchGetImage")] == "Allowed"
    assert decisions[(f"arn:aws:iam::{CONSUMER}:root", "ecr:GetDownloadUrlForLayer")] == "Allowed"

    for args in (("--lambda", fn), ("--to", "o-exampleorg1")):
        gone = crossdock(server, aws_files, "unshare", "example", "--from", OWNER, *args)
        assert gone.returncode == 0, gone.stderr
    ecr = _client(server, "ecr", "owner")
    with pytest.raises(ecr.exceptions.RepositoryPolicyNotFoundException):
        ecr.get_repository_policy(repositoryName="example")


@pytest.mark.parametrize(
    ("args", "data_dir", "code", "line"),
    [
        (
            ("nosuch", "--to", CONSUMER),
            True,
            1,
            f"error: the repository `nosuch` does not exist in {OWNER} (us-east-1): check"
            " REPOSITORY, --from and --region",
        ),
        (
            ("example", "--to", "999999999999"),
            True,
            2,
            "error: the account `999999999999` (--to) does not exist in the data dir: check --to",
        ),
        (
            ("example", "--to", f"arn:aws:iam::{CONSUMER}:user/ghost"),
            True,
            2,
            f"error: the user `arn:aws:iam::{CONSUMER}:user/ghost` (--to) does not exist in the"
            " data dir: check --to",
        ),
        (
            ("example", "--to", CONSUMER, "--profile", "nosuch"),
            False,
            2,
            "error: the AWS profile `nosuch` does not exist: list profiles with"
            " `aws configure list-profiles`",
        ),
        (
            ("example", "--to", CONSUMER, "--profile", "viewer"),
            False,
            2,
            f"error: the owner's credentials belong to {CONSUMER}, not to --from {OWNER}",
        ),
        (
            ("example", "--to", "everyone", "--profile", "owner"),
            False,
            2,
            "error: `everyone` is not a consumer: use a 12-digit account id, an organization id"
            " (o-...) or a user or role ARN",
        ),
    ],
)
def test_bad_input_is_one_clear_line(
    server: RunningServer,
    aws_files: dict[str, str],
    args: tuple[str, ...],
    data_dir: bool,
    code: int,
    line: str,
) -> None:
    repository, *rest = args
    done = crossdock(
        server, aws_files, "share", repository, "--from", OWNER, *rest, data_dir=data_dir
    )
    assert done.returncode == code
    assert done.stderr.strip() == line
    assert done.stdout == ""


def test_unknown_owner_account_is_one_clear_line(
    server: RunningServer, aws_files: dict[str, str]
) -> None:
    done = crossdock(
        server, aws_files, "share", "example", "--from", "444444444444", "--to", CONSUMER
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: the account 444444444444 (--from) does not exist in the data dir: check --from"
    )


def test_the_dry_run_in_the_docs_is_the_real_output(
    server: RunningServer, aws_files: dict[str, str]
) -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "sharing-tools.md"
    found = re.search(r"<!-- share-dry-run -->\n```text\n(.*?)```", docs.read_text(), re.DOTALL)
    assert found is not None
    done = crossdock(
        server, aws_files, "share", "example", "--from", OWNER, "--to", PULLER, "--dry-run"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == found.group(1)
