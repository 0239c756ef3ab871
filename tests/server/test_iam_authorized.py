"""Every IAM operation is authorized: a user with no policy is denied each one, with
AccessDenied 403, and nothing changes. Also: the served operations are exactly these."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore import xform_name
from botocore.exceptions import ClientError
from live_server import LiveServer

from crossdock.api.query.iam_ops import IAM_OPERATIONS
from crossdock.api.query.sts_ops import STS_OPERATIONS

DOC = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
)
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "sts:AssumeRole"}
        ],
    }
)
ARN = "arn:aws:iam::111111111111:policy/p"
TAGS = [{"Key": "k", "Value": "v"}]

PARAMS: dict[str, dict[str, Any]] = {
    "CreateUser": {"UserName": "u"},
    "GetUser": {"UserName": "u"},
    "ListUsers": {},
    "DeleteUser": {"UserName": "u"},
    "CreateAccessKey": {"UserName": "u"},
    "ListAccessKeys": {"UserName": "u"},
    "DeleteAccessKey": {"UserName": "u", "AccessKeyId": "AKIAAAAAAAAAAAAAAAAA"},
    "UpdateAccessKey": {"UserName": "u", "AccessKeyId": "AKIAAAAAAAAAAAAAAAAA", "Status": "Active"},
    "PutUserPolicy": {"UserName": "u", "PolicyName": "p", "PolicyDocument": DOC},
    "GetUserPolicy": {"UserName": "u", "PolicyName": "p"},
    "DeleteUserPolicy": {"UserName": "u", "PolicyName": "p"},
    "ListUserPolicies": {"UserName": "u"},
    "PutUserPermissionsBoundary": {"UserName": "u", "PermissionsBoundary": ARN},
    "DeleteUserPermissionsBoundary": {"UserName": "u"},
    "TagUser": {"UserName": "u", "Tags": TAGS},
    "UntagUser": {"UserName": "u", "TagKeys": ["k"]},
    "CreateRole": {"RoleName": "r", "AssumeRolePolicyDocument": TRUST},
    "GetRole": {"RoleName": "r"},
    "DeleteRole": {"RoleName": "r"},
    "UpdateAssumeRolePolicy": {"RoleName": "r", "PolicyDocument": TRUST},
    "PutRolePolicy": {"RoleName": "r", "PolicyName": "p", "PolicyDocument": DOC},
    "GetRolePolicy": {"RoleName": "r", "PolicyName": "p"},
    "DeleteRolePolicy": {"RoleName": "r", "PolicyName": "p"},
    "ListRolePolicies": {"RoleName": "r"},
    "PutRolePermissionsBoundary": {"RoleName": "r", "PermissionsBoundary": ARN},
    "DeleteRolePermissionsBoundary": {"RoleName": "r"},
    "TagRole": {"RoleName": "r", "Tags": TAGS},
    "UntagRole": {"RoleName": "r", "TagKeys": ["k"]},
    "CreatePolicy": {"PolicyName": "p", "PolicyDocument": DOC},
    "GetPolicy": {"PolicyArn": ARN},
    "GetPolicyVersion": {"PolicyArn": ARN, "VersionId": "v1"},
    "DeletePolicy": {"PolicyArn": ARN},
    "AttachUserPolicy": {"UserName": "u", "PolicyArn": ARN},
    "DetachUserPolicy": {"UserName": "u", "PolicyArn": ARN},
    "AttachRolePolicy": {"RoleName": "r", "PolicyArn": ARN},
    "DetachRolePolicy": {"RoleName": "r", "PolicyArn": ARN},
    "AttachGroupPolicy": {"GroupName": "g", "PolicyArn": ARN},
    "DetachGroupPolicy": {"GroupName": "g", "PolicyArn": ARN},
    "ListAttachedUserPolicies": {"UserName": "u"},
    "ListAttachedRolePolicies": {"RoleName": "r"},
    "ListAttachedGroupPolicies": {"GroupName": "g"},
    "CreateGroup": {"GroupName": "g"},
    "AddUserToGroup": {"GroupName": "g", "UserName": "u"},
    "RemoveUserFromGroup": {"GroupName": "g", "UserName": "u"},
    "PutGroupPolicy": {"GroupName": "g", "PolicyName": "p", "PolicyDocument": DOC},
}


def test_the_served_operations() -> None:
    assert set(IAM_OPERATIONS) == set(PARAMS)
    assert set(STS_OPERATIONS) == {"GetCallerIdentity", "AssumeRole"}


@pytest.fixture(scope="module")
def nobody(live: LiveServer) -> Any:
    """An IAM client of a user with no policy in account 111111111111."""
    root = live.identity.accounts.create_account("111111111111", exist_ok=True)
    iam = live.client("iam", root)
    iam.create_user(UserName="nobody")
    key = iam.create_access_key(UserName="nobody")["AccessKey"]
    return live.client("iam", (key["AccessKeyId"], key["SecretAccessKey"]))


@pytest.mark.parametrize("operation", sorted(PARAMS))
def test_every_operation_is_authorized(nobody: Any, operation: str) -> None:
    with pytest.raises(ClientError) as caught:
        getattr(nobody, xform_name(operation))(**PARAMS[operation])
    error = caught.value.response
    assert error["Error"]["Code"] == "AccessDenied"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Error"]["Message"].startswith(
        "User: arn:aws:iam::111111111111:user/nobody is not authorized to perform:"
        f" iam:{operation} on resource: "
    )
