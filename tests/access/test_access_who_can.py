"""``who-can`` over examples/org-access.yaml against a hand-computed table.

The expected rows below were worked out by hand from the scenario (see the comments),
not read off the code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from crossdock.cli.main import cli
from crossdock.service.access.context import AccessContext
from crossdock.service.access.who_can import who_can
from crossdock.service.ecr.common import RepositoryRef

OWNER, CONSUMER, SANDBOX = "111111111111", "222222222222", "333333333333"


def _iam(account: str, kind: str, name: str) -> str:
    return f"arn:aws:iam::{account}:{kind}/{name}"


def _root(account: str) -> str:
    return f"arn:aws:iam::{account}:root"


# pull app: the owner's root, admin (ecr:*) and deployer (ecr:* within a pull-only
# boundary) pull in the same account; intern has no policy. In 222222222222 the
# repository policy grants the account: the root needs no identity policy; puller has
# pull + login; ci has ecr:* within an ecr:* boundary; office may only pull from
# 10.0.0.0/8 and platform only while its session is tagged team=platform (both
# conditional); nologin cannot get a token, visitor has nothing, restricted's boundary
# allows only the token. 333333333333's OU SCP denies ecr:BatchGetImage to everyone.
PULL_APP = {
    _root(OWNER): "allowed",
    _iam(OWNER, "user", "admin"): "allowed",
    _iam(OWNER, "role", "deployer"): "allowed",
    _root(CONSUMER): "allowed",
    _iam(CONSUMER, "user", "office"): "conditional",
    _iam(CONSUMER, "user", "puller"): "allowed",
    _iam(CONSUMER, "role", "ci"): "allowed",
    _iam(CONSUMER, "role", "platform"): "conditional",
}
# push app: only the owner's root and admin, and role ci, which PushFromCi names (its
# boundary allows ecr:*). deployer's boundary allows pull actions only.
PUSH_APP = {
    _root(OWNER): "allowed",
    _iam(OWNER, "user", "admin"): "allowed",
    _iam(CONSUMER, "role", "ci"): "allowed",
}
# tools has no repository policy: only the owner account's own principals.
PULL_TOOLS = {
    _root(OWNER): "allowed",
    _iam(OWNER, "user", "admin"): "allowed",
    _iam(OWNER, "role", "deployer"): "allowed",
}
# locked grants 222222222222 like app but denies puller explicitly; nologin's identity
# policy covers only app.
PULL_LOCKED = {
    _root(OWNER): "allowed",
    _iam(OWNER, "user", "admin"): "allowed",
    _iam(OWNER, "role", "deployer"): "allowed",
    _root(CONSUMER): "allowed",
    _iam(CONSUMER, "user", "office"): "conditional",
    _iam(CONSUMER, "role", "ci"): "allowed",
    _iam(CONSUMER, "role", "platform"): "conditional",
}


@pytest.mark.parametrize(
    ("verb", "name", "expected"),
    [
        ("pull", "app", PULL_APP),
        ("push", "app", PUSH_APP),
        ("pull", "tools", PULL_TOOLS),
        ("pull", "locked", PULL_LOCKED),
    ],
)
def test_who_can_matches_the_hand_computed_table(
    org: AccessContext, verb: str, name: str, expected: dict[str, str]
) -> None:
    result = who_can(org, verb, RepositoryRef(OWNER, "us-east-1", name))
    found = {entry.principal.arn: entry.access.value for entry in result.entries}
    assert found == expected


def test_grants_name_both_sides_of_a_cross_account_pull(org: AccessContext) -> None:
    result = who_can(org, "pull", RepositoryRef(OWNER, "us-east-1", "app"))
    entry = next(e for e in result.entries if e.principal.name == "puller")
    labels = {(g.side, g.label) for g in entry.grants()}
    repo = f"arn:aws:ecr:us-east-1:{OWNER}:repository/app repository policy"
    puller = f"{_iam(CONSUMER, 'user', 'puller')} PullFromOwner"
    assert labels == {
        ("resource account", f"{repo}#PullFromConsumer"),
        ("principal account", f"{puller}#PullOwnerRepositories"),
        ("principal account", f"{puller}#Login"),
    }


def test_conditional_grants_say_which_request_keys_they_depend_on(org: AccessContext) -> None:
    result = who_can(org, "pull", RepositoryRef(OWNER, "us-east-1", "app"))
    by_name = {e.principal.name: e for e in result.entries}
    assert by_name["office"].conditional_on == ("aws:SourceIp",)
    assert by_name["platform"].conditional_on == ("aws:PrincipalTag/team",)
    grant = next(g for g in by_name["platform"].grants() if "PullForPlatformTeam" in g.label)
    assert grant.conditional


def test_who_can_cli_json_lists_principals_with_grants(org_dir: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "who-can",
            "push",
            f"arn:aws:ecr:us-east-1:{OWNER}:repository/app",
            "--data-dir",
            str(org_dir),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert {row["principal"]: row["access"] for row in rows} == PUSH_APP
    ci = next(row for row in rows if row["type"] == "role")
    assert ci["label"] == "any session of role ci"
    assert {g["statement"].rpartition("#")[2] for g in ci["grants"]} == {
        "AllEcr",
        "EcrOnly",
        "PullFromConsumer",
        "PushFromCi",
    }


def test_who_can_cli_text_is_a_tree_by_account(org_dir: Path) -> None:
    uri = f"127.0.0.1:5000/{OWNER}/app:latest"
    result = CliRunner().invoke(cli, ["who-can", "push", uri, "--data-dir", str(org_dir)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"who can push arn:aws:ecr:us-east-1:{OWNER}:repository/app"
    assert f"├── account {OWNER}" in lines
    assert f"└── account {CONSUMER}" in lines
    assert "    └── any session of role ci arn:aws:iam::222222222222:role/ci" in lines
