"""IAM over HTTP with real boto3 clients: the walkthrough's IAM steps, every operation, and
every IAM error code with its exact code, HTTP status and message (spec §4.8)."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError
from live_server import LiveServer

from crossdock.service.accounts import RootKey

ECR_PULL = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "ecr:GetAuthorizationToken",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                "Resource": "*",
            }
        ],
    }
)


def _allow(action: str, resource: str = "*") -> str:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _trust(principal: str) -> str:
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _error(call: Callable[[], Any]) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def _user_key(live: LiveServer, root: RootKey, name: str, *policies: str) -> tuple[str, str]:
    iam = live.client("iam", root)
    iam.create_user(UserName=name)
    for index, document in enumerate(policies):
        iam.put_user_policy(UserName=name, PolicyName=f"p{index}", PolicyDocument=document)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


# --- the walkthrough ---------------------------------------------------------------------


def test_root_creates_puller_with_its_policy_and_key(live: LiveServer) -> None:
    root = live.new_account()
    iam = live.client("iam", root)
    user = iam.create_user(UserName="puller")["User"]
    assert user["UserName"] == "puller"
    assert user["Path"] == "/"
    assert user["UserId"].startswith("AIDA")
    assert len(user["UserId"]) == 21
    assert user["Arn"] == f"arn:aws:iam::{root.account_id}:user/puller"
    iam.put_user_policy(UserName="puller", PolicyName="ecr-pull", PolicyDocument=ECR_PULL)
    stored = iam.get_user_policy(UserName="puller", PolicyName="ecr-pull")
    assert stored["PolicyDocument"] == json.loads(ECR_PULL)
    key = iam.create_access_key(UserName="puller")["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA")
    assert len(key["AccessKeyId"]) == 20
    assert len(key["SecretAccessKey"]) == 40
    assert key["Status"] == "Active"
    puller = live.client("sts", (key["AccessKeyId"], key["SecretAccessKey"]))
    identity = puller.get_caller_identity()
    assert (identity["UserId"], identity["Account"], identity["Arn"]) == (
        user["UserId"],
        root.account_id,
        user["Arn"],
    )


def test_root_caller_identity(live: LiveServer) -> None:
    root = live.new_account()
    identity = live.client("sts", root).get_caller_identity()
    assert (identity["UserId"], identity["Account"], identity["Arn"]) == (
        root.account_id,
        root.account_id,
        f"arn:aws:iam::{root.account_id}:root",
    )


def test_a_user_without_iam_permissions_is_denied_create_user(live: LiveServer) -> None:
    root = live.new_account()
    key = _user_key(live, root, "puller", ECR_PULL)
    account = root.account_id
    assert _error(lambda: live.client("iam", key).create_user(UserName="intruder")) == (
        "AccessDenied",
        403,
        f"User: arn:aws:iam::{account}:user/puller is not authorized to perform:"
        f" iam:CreateUser on resource: arn:aws:iam::{account}:user/intruder because no"
        " identity-based policy allows the iam:CreateUser action",
    )
    assert _error(lambda: live.client("iam", root).get_user(UserName="intruder"))[0] == (
        "NoSuchEntity"
    )


# --- every operation ---------------------------------------------------------------------


def test_users_keys_and_user_policies(live: LiveServer) -> None:
    root = live.new_account()
    iam = live.client("iam", root)
    iam.create_user(UserName="a", Path="/team/", Tags=[{"Key": "k", "Value": "v"}])
    iam.create_user(UserName="b")
    got = iam.get_user(UserName="A")["User"]
    assert (got["UserName"], got["Path"], got["Tags"]) == (
        "a",
        "/team/",
        [{"Key": "k", "Value": "v"}],
    )
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["a", "b"]
    assert [u["UserName"] for u in iam.list_users(PathPrefix="/team/")["Users"]] == ["a"]
    first = iam.list_users(MaxItems=1)
    assert first["IsTruncated"] is True
    rest = iam.list_users(Marker=first["Marker"])
    assert [u["UserName"] for u in rest["Users"]] == ["b"]
    key = iam.create_access_key(UserName="a")["AccessKey"]["AccessKeyId"]
    listed = iam.list_access_keys(UserName="a")["AccessKeyMetadata"]
    assert [(k["UserName"], k["AccessKeyId"], k["Status"]) for k in listed] == [
        ("a", key, "Active")
    ]
    iam.update_access_key(UserName="a", AccessKeyId=key, Status="Inactive")
    assert iam.list_access_keys(UserName="a")["AccessKeyMetadata"][0]["Status"] == "Inactive"
    iam.delete_access_key(UserName="a", AccessKeyId=key)
    iam.put_user_policy(UserName="a", PolicyName="p", PolicyDocument=ECR_PULL)
    assert iam.list_user_policies(UserName="a")["PolicyNames"] == ["p"]
    iam.delete_user_policy(UserName="a", PolicyName="p")
    assert iam.list_user_policies(UserName="a")["PolicyNames"] == []
    iam.tag_user(UserName="a", Tags=[{"Key": "K", "Value": "w"}, {"Key": "x", "Value": "y"}])
    iam.untag_user(UserName="a", TagKeys=["x"])
    assert iam.get_user(UserName="a")["User"]["Tags"] == [{"Key": "K", "Value": "w"}]
    iam.delete_user(UserName="a")
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["b"]


def test_root_and_users_manage_their_own_keys(live: LiveServer) -> None:
    root = live.new_account()
    iam = live.client("iam", root)
    own = iam.create_access_key()["AccessKey"]
    assert "UserName" not in own
    listed = {k["AccessKeyId"] for k in iam.list_access_keys()["AccessKeyMetadata"]}
    assert listed == {root.access_key_id, own["AccessKeyId"]}
    root_user = iam.get_user()["User"]
    assert root_user["Arn"] == f"arn:aws:iam::{root.account_id}:root"
    assert root_user["UserId"] == root.account_id
    key = _user_key(
        live, root, "self", _allow("iam:*AccessKey*", "arn:aws:iam::*:user/${aws:username}")
    )
    mine = live.client("iam", key)
    assert [k["AccessKeyId"] for k in mine.list_access_keys()["AccessKeyMetadata"]] == [key[0]]


def test_roles(live: LiveServer) -> None:
    root = live.new_account()
    iam = live.client("iam", root)
    trust = _trust(root.account_id)
    role = iam.create_role(
        RoleName="deploy",
        Path="/ci/",
        AssumeRolePolicyDocument=trust,
        Description="deploys",
        MaxSessionDuration=7200,
        Tags=[{"Key": "team", "Value": "ci"}],
    )["Role"]
    assert role["RoleId"].startswith("AROA")
    assert role["Arn"] == f"arn:aws:iam::{root.account_id}:role/ci/deploy"
    assert role["AssumeRolePolicyDocument"] == json.loads(trust)
    got = iam.get_role(RoleName="deploy")["Role"]
    assert (got["Description"], got["MaxSessionDuration"], got["Tags"]) == (
        "deploys",
        7200,
        [{"Key": "team", "Value": "ci"}],
    )
    iam.update_assume_role_policy(RoleName="deploy", PolicyDocument=_trust("*"))
    assert iam.get_role(RoleName="deploy")["Role"]["AssumeRolePolicyDocument"]["Statement"][0][
        "Principal"
    ] == {"AWS": "*"}
    iam.put_role_policy(RoleName="deploy", PolicyName="p", PolicyDocument=ECR_PULL)
    assert iam.get_role_policy(RoleName="deploy", PolicyName="p")["PolicyDocument"] == json.loads(
        ECR_PULL
    )
    assert iam.list_role_policies(RoleName="deploy")["PolicyNames"] == ["p"]
    iam.delete_role_policy(RoleName="deploy", PolicyName="p")
    iam.tag_role(RoleName="deploy", Tags=[{"Key": "x", "Value": "1"}])
    iam.untag_role(RoleName="deploy", TagKeys=["team"])
    assert iam.get_role(RoleName="deploy")["Role"]["Tags"] == [{"Key": "x", "Value": "1"}]
    iam.delete_role(RoleName="deploy")
    assert _error(lambda: iam.get_role(RoleName="deploy"))[0] == "NoSuchEntity"


def test_managed_policies_groups_and_boundaries(live: LiveServer) -> None:
    root = live.new_account()
    iam = live.client("iam", root)
    account = root.account_id
    policy = iam.create_policy(PolicyName="pull", PolicyDocument=ECR_PULL, Description="d")[
        "Policy"
    ]
    arn = f"arn:aws:iam::{account}:policy/pull"
    assert (policy["Arn"], policy["DefaultVersionId"], policy["IsAttachable"]) == (arn, "v1", True)
    assert policy["PolicyId"].startswith("ANPA")
    version = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert (version["Document"], version["IsDefaultVersion"]) == (json.loads(ECR_PULL), True)
    iam.create_user(UserName="u")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=_trust(account))
    group = iam.create_group(GroupName="g")["Group"]
    assert group["GroupId"].startswith("AGPA")
    iam.add_user_to_group(GroupName="g", UserName="u")
    iam.put_group_policy(GroupName="g", PolicyName="gp", PolicyDocument=ECR_PULL)
    iam.attach_user_policy(UserName="u", PolicyArn=arn)
    iam.attach_role_policy(RoleName="r", PolicyArn=arn)
    iam.attach_group_policy(GroupName="g", PolicyArn=arn)
    expected = [{"PolicyName": "pull", "PolicyArn": arn}]
    assert iam.list_attached_user_policies(UserName="u")["AttachedPolicies"] == expected
    assert iam.list_attached_role_policies(RoleName="r")["AttachedPolicies"] == expected
    assert iam.list_attached_group_policies(GroupName="g")["AttachedPolicies"] == expected
    assert iam.list_attached_user_policies(UserName="u", PathPrefix="/x/")["AttachedPolicies"] == []
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 3
    iam.detach_user_policy(UserName="u", PolicyArn=arn)
    iam.detach_role_policy(RoleName="r", PolicyArn=arn)
    iam.detach_group_policy(GroupName="g", PolicyArn=arn)
    iam.put_user_permissions_boundary(UserName="u", PermissionsBoundary=arn)
    iam.put_role_permissions_boundary(RoleName="r", PermissionsBoundary=arn)
    boundary = {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
        "PermissionsBoundaryArn": arn,
    }
    assert iam.get_user(UserName="u")["User"]["PermissionsBoundary"] == boundary
    assert iam.get_role(RoleName="r")["Role"]["PermissionsBoundary"] == boundary
    assert iam.get_policy(PolicyArn=arn)["Policy"]["PermissionsBoundaryUsageCount"] == 2
    iam.delete_user_permissions_boundary(UserName="u")
    iam.delete_role_permissions_boundary(RoleName="r")
    iam.remove_user_from_group(GroupName="g", UserName="u")
    iam.delete_policy(PolicyArn=arn)
    assert _error(lambda: iam.get_policy(PolicyArn=arn))[0] == "NoSuchEntity"


# --- every IAM error code ----------------------------------------------------------------


def test_no_such_entity(live: LiveServer) -> None:
    root = live.new_account()
    iam = live.client("iam", root)
    account = root.account_id
    iam.create_user(UserName="u")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=_trust(account))
    arn = f"arn:aws:iam::{account}:policy/none"
    iam.create_policy(PolicyName="p", PolicyDocument=ECR_PULL)
    real = f"arn:aws:iam::{account}:policy/p"
    cases: list[tuple[Callable[[], Any], str]] = [
        (lambda: iam.get_user(UserName="nobody"), "The user with name nobody cannot be found."),
        (lambda: iam.get_role(RoleName="nobody"), "The role with name nobody cannot be found."),
        (
            lambda: iam.add_user_to_group(GroupName="g", UserName="u"),
            "The group with name g cannot be found.",
        ),
        (
            lambda: iam.get_user_policy(UserName="u", PolicyName="x"),
            "The user policy with name x cannot be found.",
        ),
        (
            lambda: iam.get_role_policy(RoleName="r", PolicyName="x"),
            "The role policy with name x cannot be found.",
        ),
        (
            lambda: iam.delete_user_policy(UserName="u", PolicyName="x"),
            "The user policy with name x cannot be found.",
        ),
        (lambda: iam.get_policy(PolicyArn=arn), f"Policy {arn} was not found."),
        (
            lambda: iam.get_policy_version(PolicyArn=real, VersionId="v2"),
            f"Policy {real} version v2 does not exist or is not attachable.",
        ),
        (
            lambda: iam.attach_user_policy(UserName="u", PolicyArn=arn),
            f"Policy {arn} does not exist or is not attachable.",
        ),
        (
            lambda: iam.detach_user_policy(UserName="u", PolicyArn=real),
            f"Policy {real} was not found.",
        ),
        (
            lambda: iam.delete_access_key(UserName="u", AccessKeyId="AKIAAAAAAAAAAAAAAAAA"),
            "The Access Key with id AKIAAAAAAAAAAAAAAAAA cannot be found.",
        ),
        (
            lambda: iam.put_user_permissions_boundary(UserName="u", PermissionsBoundary=arn),
            f"Policy {arn} does not exist or is not attachable.",
        ),
    ]
    for call, message in cases:
        assert _error(call) == ("NoSuchEntity", 404, message)


def test_entity_already_exists(live: LiveServer) -> None:
    root = live.new_account()
    iam = live.client("iam", root)
    iam.create_user(UserName="u")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=_trust(root.account_id))
    iam.create_group(GroupName="g")
    iam.create_policy(PolicyName="p", PolicyDocument=ECR_PULL)
    cases: list[tuple[Callable[[], Any], str]] = [
        (lambda: iam.create_user(UserName="U"), "User with name U already exists."),
        (
            lambda: iam.create_role(RoleName="r", AssumeRolePolicyDocument=_trust(root.account_id)),
            "Role with name r already exists.",
        ),
        (lambda: iam.create_group(GroupName="g"), "Group with name g already exists."),
        (
            lambda: iam.create_policy(PolicyName="p", PolicyDocument=ECR_PULL),
            "A policy called p already exists. Duplicate names are not allowed.",
        ),
    ]
    for call, message in cases:
        assert _error(call) == ("EntityAlreadyExists", 409, message)


def test_limit_exceeded(live: LiveServer) -> None:
    root = live.new_account()
    iam = live.client("iam", root)
    iam.create_user(UserName="u")
    iam.create_access_key(UserName="u")
    iam.create_access_key(UserName="u")
    assert _error(lambda: iam.create_access_key(UserName="u")) == (
        "LimitExceeded",
        409,
        "Cannot exceed quota for AccessKeysPerUser: 2",
    )
    for index in range(10):
        iam.create_policy(PolicyName=f"p{index}", PolicyDocument=ECR_PULL)
        iam.attach_user_policy(
            UserName="u", PolicyArn=f"arn:aws:iam::{root.account_id}:policy/p{index}"
        )
    iam.create_policy(PolicyName="p10", PolicyDocument=ECR_PULL)
    eleventh = f"arn:aws:iam::{root.account_id}:policy/p10"
    assert _error(lambda: iam.attach_user_policy(UserName="u", PolicyArn=eleventh)) == (
        "LimitExceeded",
        409,
        "Cannot exceed quota for PoliciesPerUser: 10",
    )
    big = _allow(
        ",".join(["ecr:BatchGetImage"] * 1), "arn:aws:ecr:us-east-1:*:repository/" + "x" * 2000
    )
    assert _error(
        lambda: iam.put_user_policy(UserName="u", PolicyName="big", PolicyDocument=big)
    ) == (
        "LimitExceeded",
        409,
        "Maximum policy size of 2048 bytes exceeded for user u",
    )
    huge = _allow("ecr:BatchGetImage", "arn:aws:ecr:us-east-1:*:repository/" + "x" * 6200)
    assert _error(lambda: iam.create_policy(PolicyName="huge", PolicyDocument=huge)) == (
        "LimitExceeded",
        409,
        "Cannot exceed quota for PolicySize: 6144",
    )
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": root.account_id},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": "x" * 2100}},
    }
    trust = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    assert _error(lambda: iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust)) == (
        "LimitExceeded",
        409,
        "Cannot exceed quota for ACLSizePerRole: 2048",
    )


def test_delete_conflict(live: LiveServer) -> None:
    root = live.new_account()
    iam = live.client("iam", root)
    account = root.account_id
    iam.create_user(UserName="u")
    key = iam.create_access_key(UserName="u")["AccessKey"]["AccessKeyId"]
    iam.put_user_policy(UserName="u", PolicyName="p", PolicyDocument=ECR_PULL)
    iam.create_policy(PolicyName="m", PolicyDocument=ECR_PULL)
    arn = f"arn:aws:iam::{account}:policy/m"
    iam.attach_user_policy(UserName="u", PolicyArn=arn)
    iam.create_group(GroupName="g")
    iam.add_user_to_group(GroupName="g", UserName="u")
    steps: list[tuple[str, Callable[[], Any]]] = [
        (
            "Cannot delete entity, must delete access keys first.",
            lambda: iam.delete_access_key(UserName="u", AccessKeyId=key),
        ),
        (
            "Cannot delete entity, must delete policies first.",
            lambda: iam.delete_user_policy(UserName="u", PolicyName="p"),
        ),
        (
            "Cannot delete entity, must detach all policies first.",
            lambda: iam.detach_user_policy(UserName="u", PolicyArn=arn),
        ),
        (
            "Cannot delete entity, must remove user from all groups first.",
            lambda: iam.remove_user_from_group(GroupName="g", UserName="u"),
        ),
    ]
    iam.attach_group_policy(GroupName="g", PolicyArn=arn)
    assert _error(lambda: iam.delete_policy(PolicyArn=arn)) == (
        "DeleteConflict",
        409,
        "Cannot delete a policy attached to entities.",
    )
    iam.detach_group_policy(GroupName="g", PolicyArn=arn)
    for message, resolve in steps:
        assert _error(lambda: iam.delete_user(UserName="u")) == ("DeleteConflict", 409, message)
        resolve()
    iam.delete_user(UserName="u")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=_trust(account))
    iam.put_role_policy(RoleName="r", PolicyName="p", PolicyDocument=ECR_PULL)
    assert _error(lambda: iam.delete_role(RoleName="r")) == (
        "DeleteConflict",
        409,
        "Cannot delete entity, must delete policies first.",
    )
    iam.delete_role_policy(RoleName="r", PolicyName="p")
    iam.attach_role_policy(RoleName="r", PolicyArn=arn)
    assert _error(lambda: iam.delete_role(RoleName="r")) == (
        "DeleteConflict",
        409,
        "Cannot delete entity, must detach all policies first.",
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{", "Syntax errors in policy."),
        (
            json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}
                    ],
                }
            ),
            "Policy document should not specify a principal.",
        ),
        (
            json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}
            ),
            "a statement in an identity policy needs `Resource` (or `NotResource`)"
            " (at /Statement/0)",
        ),
        (
            json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Permit", "Action": "s3:*", "Resource": "*"}],
                }
            ),
            None,
        ),
    ],
)
def test_malformed_policy_document(live: LiveServer, document: str, message: str | None) -> None:
    root = live.new_account()
    iam = live.client("iam", root)
    iam.create_user(UserName="u")
    code, status, text = _error(
        lambda: iam.put_user_policy(UserName="u", PolicyName="p", PolicyDocument=document)
    )
    assert (code, status) == ("MalformedPolicyDocument", 400)
    if message is not None:
        assert text == message
    else:
        assert "Effect" in text
    assert iam.list_user_policies(UserName="u")["PolicyNames"] == []


def test_malformed_trust_policies(live: LiveServer) -> None:
    root = live.new_account()
    iam = live.client("iam", root)
    ghost = f"arn:aws:iam::{root.account_id}:user/ghost"
    assert _error(
        lambda: iam.create_role(RoleName="r", AssumeRolePolicyDocument=_trust(ghost))
    ) == (
        "MalformedPolicyDocument",
        400,
        f'Invalid principal in policy: "AWS":"{ghost}"',
    )
    wrong_action = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": root.account_id}, "Action": "iam:*"}
            ],
        }
    )
    assert _error(lambda: iam.create_role(RoleName="r", AssumeRolePolicyDocument=wrong_action)) == (
        "MalformedPolicyDocument",
        400,
        "AssumeRole policy may only specify STS AssumeRole actions.",
    )
    assert _error(lambda: iam.get_role(RoleName="r"))[0] == "NoSuchEntity"


def test_invalid_input_and_validation_errors(live: LiveServer) -> None:
    root = live.new_account()
    iam = live.client("iam", root)
    duplicate = [{"Key": "team", "Value": "a"}, {"Key": "TEAM", "Value": "b"}]
    assert _error(lambda: iam.create_user(UserName="u", Tags=duplicate)) == (
        "InvalidInput",
        400,
        "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
    )
    assert _error(lambda: iam.create_user(UserName="bad name")) == (
        "ValidationError",
        400,
        "1 validation error detected: Value 'bad name' at 'userName' failed to satisfy"
        " constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+",
    )
    long_name = "x" * 65
    assert _error(lambda: iam.create_user(UserName=long_name)) == (
        "ValidationError",
        400,
        f"1 validation error detected: Value '{long_name}' at 'userName' failed to satisfy"
        " constraint: Member must have length less than or equal to 64",
    )
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    code, status, message = _error(lambda: iam.create_user(UserName="many", Tags=tags))
    assert (code, status) == ("ValidationError", 400)
    assert message.endswith(
        "at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"
    )
    assert [u["UserName"] for u in iam.list_users()["Users"]] == []  # no partial state


def test_create_user_with_tags_needs_tag_user_and_leaves_nothing(live: LiveServer) -> None:
    root = live.new_account()
    key = _user_key(live, root, "admin", _allow("iam:CreateUser"), _allow("iam:GetUser"))
    admin = live.client("iam", key)
    code, status, message = _error(
        lambda: admin.create_user(UserName="t", Tags=[{"Key": "k", "Value": "v"}])
    )
    assert (code, status) == ("AccessDenied", 403)
    assert "iam:TagUser" in message
    assert _error(lambda: admin.get_user(UserName="t"))[0] == "NoSuchEntity"
    admin.create_user(UserName="t")


def test_a_role_session_must_name_the_user(live: LiveServer) -> None:
    root = live.new_account()
    iam = live.client("iam", root)
    arn = iam.create_role(RoleName="r", AssumeRolePolicyDocument=_trust(root.account_id))["Role"][
        "Arn"
    ]
    iam.put_role_policy(RoleName="r", PolicyName="all", PolicyDocument=_allow("iam:*"))
    creds = live.client("sts", root).assume_role(RoleArn=arn, RoleSessionName="sess")["Credentials"]
    session = live.client(
        "iam", (creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    )
    assert _error(lambda: session.get_user()) == (
        "ValidationError",
        400,
        "Must specify userName when calling with non-User credentials",
    )
    session.create_user(UserName="made-by-a-session")


def test_concurrent_writers_all_succeed(live: LiveServer) -> None:
    root = live.new_account()

    def work(index: int) -> str:
        key = _user_key(live, root, f"u{index}", ECR_PULL)
        arn: str = live.client("sts", key).get_caller_identity()["Arn"]
        return arn

    with ThreadPoolExecutor(8) as pool:
        arns = list(pool.map(work, range(16)))
    assert sorted(arns) == sorted(f"arn:aws:iam::{root.account_id}:user/u{i}" for i in range(16))
