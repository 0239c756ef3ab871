"""Bad input to explain, who-can and access-matrix: one clear line, exit status 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from crossdock.cli.main import cli

APP = "arn:aws:ecr:us-east-1:111111111111:repository/app"
PULLER = "arn:aws:iam::222222222222:user/puller"
KNOWN = "known accounts: 111111111111, 222222222222, 333333333333"

CASES = [
    (
        ["who-can", "pull", "nope", "--registry-id", "111111111111"],
        "error: the repository `nope` does not exist in account 111111111111 (us-east-1): "
        "repositories of 111111111111: app, locked, tools",
    ),
    (
        ["who-can", "pull", "app", "--registry-id", "111111111111", "--region", "eu-west-1"],
        "error: the repository `app` does not exist in account 111111111111 (eu-west-1): "
        "it exists in us-east-1: pass --region us-east-1",
    ),
    (
        ["who-can", "push", "app"],
        "error: `app` names no account: add --registry-id ACCOUNT, or give the repository "
        "ARN or an image URI",
    ),
    (
        ["who-can", "pull", "arn:aws:ecr:us-east-1:999999999999:repository/app"],
        f"error: the account `999999999999` is not known to this data dir: {KNOWN} (create "
        "it with `crossdock account create` or a scenario file)",
    ),
    (
        ["explain", "--principal", "arn:aws:iam::222222222222:user/ghost", "--repository", APP],
        "error: the principal `arn:aws:iam::222222222222:user/ghost` does not exist: check "
        "the user name and path in account 222222222222 (who-can lists every principal)",
    ),
    (
        ["explain", "--principal", "arn:aws:iam::222222222222:role/ghost", "--repository", APP],
        "error: the principal `arn:aws:iam::222222222222:role/ghost` does not exist: check "
        "the role name and path in account 222222222222 (who-can lists every principal)",
    ),
    (
        ["explain", "--principal", "alice", "--repository", APP],
        "error: `alice` is not a principal ARN: use arn:aws:iam::ACCOUNT:user/NAME, "
        ":role/NAME, :root or arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION",
    ),
    (
        ["explain", "--principal", PULLER, "--repository", APP, "--action", "s3:GetObject"],
        "error: `s3:GetObject` is not an ECR action: use pull, push or an action such as "
        "ecr:BatchGetImage",
    ),
    (
        ["explain", "--principal", PULLER, "--repository", "app"],
        "error: `app` is not a repository ARN: use arn:aws:ecr:REGION:ACCOUNT:repository/NAME",
    ),
    (
        ["explain", "--principal", PULLER, "--image", "docker.io/library/app:1"],
        "error: the image URI `docker.io/library/app:1` names no account: path-style URIs "
        "are HOST:PORT/ACCOUNT/REPO[:TAG] with a 12-digit ACCOUNT",
    ),
    (
        ["explain", "--principal", PULLER],
        "error: give exactly one of --image URI and --repository ARN",
    ),
    (
        ["explain", "--repository", APP],
        "error: --principal ARN is required (or --last-denied)",
    ),
    (
        ["access-matrix", "--accounts", "111111111111,444444444444"],
        f"error: the account `444444444444` is not known to this data dir: {KNOWN} (create "
        "it with `crossdock account create` or a scenario file)",
    ),
]


@pytest.mark.parametrize(("args", "line"), CASES, ids=lambda v: " ".join(v)[:50])
def test_one_line_and_exit_status_2(org_dir: Path, args: list[str], line: str) -> None:
    result = CliRunner().invoke(cli, [*args, "--data-dir", str(org_dir)])
    assert result.exit_code == 2
    assert result.output == line + "\n"
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_directory_that_is_not_a_data_dir(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["who-can", "pull", APP, "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output == (
        f"error: `{tmp_path}` is not a crossdock data dir: it has no crossdock.db; "
        "pass --data-dir DIR (or --scenario FILE)\n"
    )


def test_data_dir_and_scenario_together(org_dir: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "who-can",
            "pull",
            APP,
            "--data-dir",
            str(org_dir),
            "--scenario",
            "examples/org-access.yaml",
        ],
    )
    assert result.exit_code == 2
    assert result.output == "error: give --data-dir or --scenario, not both\n"
