"""The pure side of ``crossdock share``: targets, statements, merge and unmerge."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crossdock.service.share_policy import (
    PULL_ACTIONS,
    PUSH_ACTIONS,
    RepositoryRef,
    ShareConflictError,
    ShareInputError,
    TargetKind,
    identity_policy_name,
    make_request,
    merge,
    parse_target,
    same_policy,
    unmerge,
)

REPO = RepositoryRef("111111111111", "us-east-1", "example")


def _request(to: str | None, push: bool = False, lambda_arn: str | None = None) -> Any:
    return make_request(REPO, to, push, lambda_arn)


def test_account_target_grants_the_account_root_with_a_deterministic_sid() -> None:
    (grant,) = _request("222222222222").grants()
    assert grant.sid == "CrossdockPull222222222222"
    assert grant.statement == {
        "Sid": "CrossdockPull222222222222",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
        "Action": list(PULL_ACTIONS),
    }


def test_push_adds_the_push_actions_under_its_own_sid() -> None:
    (grant,) = _request("222222222222", push=True).grants()
    assert grant.sid == "CrossdockPush222222222222"
    assert grant.statement["Action"] == [*PULL_ACTIONS, *PUSH_ACTIONS]


def test_organization_target_is_star_with_the_org_condition() -> None:
    (grant,) = _request("o-exampleorg1").grants()
    assert grant.sid == "CrossdockPullOrgoexampleorg1"
    assert grant.statement["Principal"] == "*"
    assert grant.statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-exampleorg1"}}
    assert _request("o-exampleorg1").identity() is not None


def test_principal_targets_name_the_principal_and_attach_the_identity_policy() -> None:
    request = _request("arn:aws:iam::222222222222:user/puller")
    (grant,) = request.grants()
    assert grant.sid == "CrossdockPull222222222222Userpuller"
    assert grant.statement["Principal"] == {"AWS": "arn:aws:iam::222222222222:user/puller"}
    identity = request.identity()
    assert identity is not None
    assert (identity.attach_kind, identity.attach_name) == (TargetKind.USER, "puller")
    assert identity.arn == "arn:aws:iam::222222222222:policy/crossdock-pull-111111111111-example"
    statements = identity.document["Statement"]
    assert statements[0]["Resource"] == REPO.arn
    assert statements[1] == {
        "Sid": "CrossdockLogin",
        "Effect": "Allow",
        "Action": "ecr:GetAuthorizationToken",
        "Resource": "*",
    }


def test_a_role_with_a_path_gets_a_hashed_sid_and_is_attached_by_name() -> None:
    request = _request("arn:aws:iam::222222222222:role/ci/deploy-bot")
    (grant,) = request.grants()
    assert grant.sid.startswith("CrossdockPull222222222222Roledeploybot")
    assert len(grant.sid) == len("CrossdockPull222222222222Roledeploybot") + 8
    identity = request.identity()
    assert identity is not None
    assert (identity.attach_kind, identity.attach_name) == (TargetKind.ROLE, "deploy-bot")


def test_lambda_adds_the_service_statement_and_the_account_grant() -> None:
    fn = "arn:aws:lambda:us-east-1:222222222222:function:resize"
    service, account = _request(None, lambda_arn=fn).grants()
    assert service.statement == {
        "Sid": "CrossdockLambda222222222222",
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        "Condition": {
            "StringLike": {"aws:sourceArn": "arn:aws:lambda:us-east-1:222222222222:function:*"}
        },
    }
    assert account.statement["Principal"] == {"AWS": "arn:aws:iam::222222222222:root"}
    assert account.sid == "CrossdockLambdaAccount222222222222"


@pytest.mark.parametrize(
    ("to", "push", "fn", "message"),
    [
        ("bogus", False, None, "`bogus` is not a consumer"),
        ("o-x", False, None, "`o-x` is not an organization id"),
        ("arn:aws:iam::222222222222:group/g", False, None, "is not a user, role"),
        ("111111111111", False, None, "owns the repository"),
        (None, False, None, "--to is required"),
        (None, True, "arn:aws:lambda:us-east-1:222222222222:function:f", "--push cannot"),
        (None, False, "arn:aws:lambda:eu-west-1:222222222222:function:f", "own region"),
        (None, False, "arn:aws:s3:::bucket", "is not a Lambda function ARN"),
        ("333333333333", False, "arn:aws:lambda:us-east-1:222222222222:function:f", "--to must"),
    ],
)
def test_bad_arguments_are_one_clear_error(
    to: str | None, push: bool, fn: str | None, message: str
) -> None:
    with pytest.raises(ShareInputError, match=message.replace("(", r"\(")):
        _request(to, push, fn)


def test_root_arn_target_is_the_account() -> None:
    target = parse_target("arn:aws:iam::222222222222:root")
    assert (target.kind, target.value) == (TargetKind.ACCOUNT, "222222222222")


def test_identity_policy_names_are_distinct_for_nested_repositories() -> None:
    nested = identity_policy_name("pull", RepositoryRef("111111111111", "us-east-1", "a/b"))
    flat = identity_policy_name("pull", RepositoryRef("111111111111", "us-east-1", "a-b"))
    assert nested == "crossdock-pull-111111111111-a+b"
    assert nested != flat
    long_name = identity_policy_name("pull", RepositoryRef("111111111111", "us-east-1", "x" * 200))
    assert len(long_name) == 128


def test_merge_keeps_unrelated_statements_and_adds_once() -> None:
    existing = {
        "Version": "2008-10-17",
        "Statement": [{"Sid": "Mine", "Effect": "Allow", "Principal": "*", "Action": "ecr:*"}],
    }
    grants = _request("222222222222").grants()
    merged = merge(existing, grants)
    assert merged["Version"] == "2008-10-17"
    assert merged["Statement"][0] == existing["Statement"][0]
    assert merged["Statement"][1]["Sid"] == "CrossdockPull222222222222"
    assert merge(merged, grants) == merged


def test_merge_refuses_a_foreign_statement_under_its_sid() -> None:
    foreign = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "CrossdockPull222222222222", "Effect": "Deny", "Principal": "*", "Action": "*"}
        ],
    }
    grants = _request("222222222222").grants()
    with pytest.raises(ShareConflictError, match="Sid `CrossdockPull222222222222`"):
        merge(foreign, grants)
    with pytest.raises(ShareConflictError):
        unmerge(foreign, grants)


def test_a_stored_form_of_the_same_statement_counts_as_the_same() -> None:
    grants = _request("222222222222").grants()
    stored = {
        "Version": "2012-10-17",
        "Statement": {
            "Sid": "CrossdockPull222222222222",
            "Action": list(reversed(PULL_ACTIONS)),
            "Principal": {"AWS": ["arn:aws:iam::222222222222:root"]},
            "Effect": "Allow",
        },
    }
    assert merge(stored, grants) == stored
    assert unmerge(stored, grants) is None


_names = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
_statement = st.fixed_dictionaries(
    {
        "Sid": _names.map(lambda n: "Other" + n),
        "Effect": st.sampled_from(["Allow", "Deny"]),
        "Principal": st.one_of(
            st.just("*"),
            st.builds(
                lambda a: {"AWS": f"arn:aws:iam::{a}:root"},
                st.from_regex(r"[0-9]{12}", fullmatch=True),
            ),
        ),
        "Action": st.lists(
            st.sampled_from(["ecr:BatchGetImage", "ecr:PutImage", "ecr:*"]), min_size=1, max_size=3
        ),
    }
)
_policy = st.one_of(
    st.none(),
    st.builds(
        lambda version, statements: {"Version": version, "Statement": statements},
        st.sampled_from(["2012-10-17", "2008-10-17"]),
        st.lists(_statement, min_size=1, max_size=5),
    ),
)
_to = st.sampled_from(
    [
        "222222222222",
        "o-exampleorg1",
        "arn:aws:iam::222222222222:user/puller",
        "arn:aws:iam::333333333333:role/a/b",
    ]
)


@given(_policy, _to, st.booleans())
def test_share_then_unshare_restores_the_policy(
    policy: dict[str, Any] | None, to: str, push: bool
) -> None:
    grants = _request(to, push).grants()
    shared = merge(policy, grants)
    assert unmerge(shared, grants) == policy


@given(_policy, _to, st.booleans())
def test_share_twice_is_share_once(policy: dict[str, Any] | None, to: str, push: bool) -> None:
    grants = _request(to, push).grants()
    once = merge(policy, grants)
    assert merge(once, grants) == once
    assert same_policy(merge(once, grants), once)
    assert len(once["Statement"]) == len(policy["Statement"] if policy else []) + len(grants)
