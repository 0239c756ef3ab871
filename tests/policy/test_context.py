"""The request (context.py): callers and the identities they are matched by, requests.

Rules: spec §4.2 (principal forms) and §4.6 (aws:PrincipalArn of a session is the role
ARN with its path; the session ARN omits the path).
"""

from __future__ import annotations

import pytest

from crossdock.policy.context import (
    Caller,
    PrincipalError,
    PrincipalKind,
    Request,
    normalize_context,
)
from crossdock.policy.variables import ContextValue

A = "111111111111"
B = "222222222222"
ROOT_A = f"arn:aws:iam::{A}:root"
REPO_A = f"arn:aws:ecr:us-east-1:{A}:repository/app"
REPO_B = f"arn:aws:ecr:us-east-1:{B}:repository/app"


def test_root_caller() -> None:
    caller = Caller.parse(ROOT_A)
    assert caller == Caller(ROOT_A, PrincipalKind.ROOT, A, "aws", None)
    assert not caller.permissions_boundary  # parse_case sets it when a boundary is given
    assert caller.role_id is None
    assert caller.unique_ids == frozenset()
    assert caller.root_arn == ROOT_A
    assert caller.identity_owner == ROOT_A
    assert caller.identities() == frozenset({ROOT_A})


def test_user_caller_with_path() -> None:
    arn = f"arn:aws:iam::{A}:user/dev/alice"
    caller = Caller.parse(arn)
    assert (caller.kind, caller.account, caller.role_arn) == (PrincipalKind.USER, A, None)
    assert caller.identity_owner == arn
    assert caller.identities() == frozenset({arn, ROOT_A})


def test_role_caller_is_its_own_role() -> None:
    arn = f"arn:aws:iam::{A}:role/ops/deployer"
    caller = Caller.parse(arn)
    assert caller.kind is PrincipalKind.ROLE
    assert caller.role_arn == arn
    assert caller.identities() == frozenset({arn, ROOT_A})


def test_session_caller_derives_the_pathless_role() -> None:
    arn = f"arn:aws:sts::{A}:assumed-role/deployer/ci"
    caller = Caller.parse(arn)
    assert caller.kind is PrincipalKind.ASSUMED_ROLE
    assert caller.arn == arn
    assert caller.role_arn == f"arn:aws:iam::{A}:role/deployer"
    assert caller.identity_owner == f"arn:aws:iam::{A}:role/deployer"
    assert caller.identities() == frozenset({arn, ROOT_A, f"arn:aws:iam::{A}:role/deployer"})


def test_session_caller_takes_the_role_path_from_principal_arn() -> None:
    arn = f"arn:aws:sts::{A}:assumed-role/deployer/ci"
    with_path = f"arn:aws:iam::{A}:role/ops/team/deployer"
    assert Caller.parse(arn, with_path).role_arn == with_path


@pytest.mark.parametrize(
    "principal_arn",
    [
        f"arn:aws:iam::{A}:role/ops/other",  # another role
        f"arn:aws:iam::{B}:role/ops/deployer",  # another account
        f"arn:aws:iam::{A}:user/ops/deployer",  # not a role
        "",
    ],
)
def test_unrelated_principal_arn_is_ignored(principal_arn: str) -> None:
    caller = Caller.parse(f"arn:aws:sts::{A}:assumed-role/deployer/ci", principal_arn)
    assert caller.role_arn == f"arn:aws:iam::{A}:role/deployer"


def test_federated_user_caller() -> None:
    arn = f"arn:aws:sts::{A}:federated-user/bob"
    caller = Caller.parse(arn)
    assert (caller.kind, caller.role_arn) == (PrincipalKind.FEDERATED_USER, None)
    assert caller.identities() == frozenset({arn, ROOT_A})


@pytest.mark.parametrize("name", ["ecr.amazonaws.com", "replication.ecr.amazonaws.com.cn"])
def test_service_caller(name: str) -> None:
    caller = Caller.parse(name)
    assert caller == Caller(name, PrincipalKind.SERVICE, "")
    assert caller.identities() == frozenset({name})
    assert caller.identity_owner == name


def test_other_partitions() -> None:
    caller = Caller.parse(f"arn:aws-cn:iam::{A}:user/u")
    assert caller.partition == "aws-cn"
    assert caller.root_arn == f"arn:aws-cn:iam::{A}:root"
    session = Caller.parse(f"arn:aws-us-gov:sts::{A}:assumed-role/r/s")
    assert session.role_arn == f"arn:aws-us-gov:iam::{A}:role/r"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("alice", "`alice` is not a valid ARN: expected 6 colon-separated parts"),
        (
            "ECR.amazonaws.com",
            "`ECR.amazonaws.com` is not a valid ARN: expected 6 colon-separated parts",
        ),
        (
            "arn:aws:iam::111111111111:",
            "`arn:aws:iam::111111111111:` is not a valid ARN: the resource is empty",
        ),
        (
            "arn:aws-iso:iam::111111111111:root",
            "`arn:aws-iso:iam::111111111111:root` is not a principal ARN "
            "with a 12-digit account id",
        ),
        (
            "arn:aws:iam::1111111111:root",
            "`arn:aws:iam::1111111111:root` is not a principal ARN with a 12-digit account id",
        ),
        (
            "arn:aws:iam::111111111111:group/devs",
            "`arn:aws:iam::111111111111:group/devs` is not a user, role, assumed-role session, "
            "federated user or root ARN",
        ),
        (
            "arn:aws:iam::111111111111:user/",
            "`arn:aws:iam::111111111111:user/` is not a user, role, assumed-role session, "
            "federated user or root ARN",
        ),
        (
            "arn:aws:iam::111111111111:role/",
            "`arn:aws:iam::111111111111:role/` is not a user, role, assumed-role session, "
            "federated user or root ARN",
        ),
        (
            "arn:aws:sts::111111111111:assumed-role/r",
            "`arn:aws:sts::111111111111:assumed-role/r` is not a user, role, assumed-role "
            "session, federated user or root ARN",
        ),
        (
            "arn:aws:sts::111111111111:assumed-role/r/s/x",
            "`arn:aws:sts::111111111111:assumed-role/r/s/x` is not a user, role, assumed-role "
            "session, federated user or root ARN",
        ),
        (
            "arn:aws:sts::111111111111:assumed-role//s",
            "`arn:aws:sts::111111111111:assumed-role//s` is not a user, role, assumed-role "
            "session, federated user or root ARN",
        ),
        (
            "arn:aws:sts::111111111111:federated-user/",
            "`arn:aws:sts::111111111111:federated-user/` is not a user, role, assumed-role "
            "session, federated user or root ARN",
        ),
        (
            "arn:aws:sts::111111111111:root",
            "`arn:aws:sts::111111111111:root` is not a user, role, assumed-role session, "
            "federated user or root ARN",
        ),
        (
            "arn:aws:ecr:us-east-1:111111111111:repository/app",
            "`arn:aws:ecr:us-east-1:111111111111:repository/app` is not a user, role, "
            "assumed-role session, federated user or root ARN",
        ),
    ],
)
def test_unusable_principals(value: str, message: str) -> None:
    with pytest.raises(PrincipalError) as caught:
        Caller.parse(value)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


def test_principal_kind_values_are_aws_principal_types() -> None:
    assert PrincipalKind.ROOT.value == "Account"
    assert PrincipalKind.USER.value == "User"
    assert PrincipalKind.ASSUMED_ROLE.value == "AssumedRole"
    assert PrincipalKind.FEDERATED_USER.value == "FederatedUser"


def test_normalize_context_lower_cases_keys_only() -> None:
    raw: dict[str, ContextValue] = {"aws:PrincipalTag/Team": "Dev", "aws:TagKeys": ("A", "b")}
    assert normalize_context(raw) == {"aws:principaltag/team": "Dev", "aws:tagkeys": ("A", "b")}


@pytest.mark.parametrize(
    ("resource", "owner"),
    [
        (REPO_B, B),
        (REPO_A, A),
        ("*", A),  # GetAuthorizationToken and registry-level calls
        ("arn:aws:s3:::bucket/key", A),  # no account segment: the caller's
        ("not-an-arn", A),
        ("arn:aws:ecr:us-east-1", A),
    ],
)
def test_resource_account(resource: str, owner: str) -> None:
    request = Request(Caller.parse(f"arn:aws:iam::{A}:user/u"), "ecr:BatchGetImage", resource)
    assert request.resource_account == owner
    assert request.same_account is (owner == A)
    assert request.context == {}


@pytest.mark.parametrize(
    ("action", "trust"),
    [
        ("sts:AssumeRole", True),
        ("STS:assumerole", True),
        ("sts:AssumeRoleWithSAML", True),
        ("sts:AssumeRoleWithWebIdentity", True),
        ("sts:GetCallerIdentity", False),
        ("ecr:BatchGetImage", False),
    ],
)
def test_is_trust_request(action: str, trust: bool) -> None:
    request = Request(Caller.parse(ROOT_A), action, f"arn:aws:iam::{A}:role/r")
    assert request.is_trust_request is trust
