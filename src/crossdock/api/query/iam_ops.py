"""IAM over the Query protocol: the one operation table, and the records as IAM shapes.

Each handler takes the IAM service, the call context and the parsed parameters (AWS
casing, checked against botocore's model) and returns the result members. Policy
documents go out URL-encoded, as IAM sends them (botocore decodes them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

from crossdock.api.context import CallContext
from crossdock.api.query.shapes import ParsedValue
from crossdock.service.errors import InvalidParameterError
from crossdock.service.iam_policies import AttachTarget
from crossdock.service.identities import IdentityService
from crossdock.storage.identity_store import (
    AccessKeyRecord,
    AccountRecord,
    ManagedPolicyRecord,
    RoleRecord,
    Tags,
    UserRecord,
)

Params = Mapping[str, ParsedValue]
Result = dict[str, Any] | None
IamHandler = Callable[[IdentityService, CallContext, Params], Result]
T = TypeVar("T")


# --- records as IAM shapes ---------------------------------------------------------------


def _tags(tags: Tags) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags]


def _boundary(arn: str | None) -> dict[str, str] | None:
    if arn is None:
        return None
    return {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn}


def user_shape(user: UserRecord | AccountRecord, *, full: bool = True) -> dict[str, Any]:
    """An IAM ``User`` (the root user as GetUser shows it: id, ARN and date only)."""
    if isinstance(user, AccountRecord):
        arn = f"arn:aws:iam::{user.account_id}:root"
        return {"UserId": user.account_id, "Arn": arn, "CreateDate": user.created_at}
    shape: dict[str, Any] = {
        "Path": user.path,
        "UserName": user.name,
        "UserId": user.user_id,
        "Arn": user.arn,
        "CreateDate": user.created_at,
    }
    if full:
        shape["PermissionsBoundary"] = _boundary(user.boundary_arn)
        shape["Tags"] = _tags(user.tags) or None
    return shape


def role_shape(role: RoleRecord) -> dict[str, Any]:
    """An IAM ``Role`` with its URL-encoded trust policy."""
    return {
        "Path": role.path,
        "RoleName": role.name,
        "RoleId": role.role_id,
        "Arn": role.arn,
        "CreateDate": role.created_at,
        "AssumeRolePolicyDocument": quote(role.trust_policy, safe=""),
        "Description": role.description or None,
        "MaxSessionDuration": role.max_session_duration,
        "PermissionsBoundary": _boundary(role.boundary_arn),
        "Tags": _tags(role.tags) or None,
        "RoleLastUsed": {},
    }


def policy_shape(policy: ManagedPolicyRecord) -> dict[str, Any]:
    """An IAM ``Policy``."""
    return {
        "PolicyName": policy.name,
        "PolicyId": policy.policy_id,
        "Arn": policy.arn,
        "Path": policy.path,
        "DefaultVersionId": policy.default_version_id,
        "AttachmentCount": policy.attachment_count,
        "PermissionsBoundaryUsageCount": policy.boundary_usage_count,
        "IsAttachable": True,
        "Description": policy.description or None,
        "CreateDate": policy.created_at,
        "UpdateDate": policy.updated_at,
        "Tags": _tags(policy.tags) or None,
    }


def _key_metadata(key: AccessKeyRecord, user_name: str | None) -> dict[str, Any]:
    return {
        "UserName": user_name,
        "AccessKeyId": key.access_key_id,
        "Status": key.status,
        "CreateDate": key.created_at,
    }


def page(items: Sequence[T], params: Params, name: str) -> dict[str, Any]:
    """One page of ``items`` under ``name``, with ``IsTruncated`` and ``Marker``."""
    marker = params.get("Marker")
    start = 0
    if marker is not None:
        if not str(marker).isdigit() or int(marker) > len(items):
            raise InvalidParameterError("Invalid Marker.", code="ValidationError")
        start = int(marker)
    size = int(params.get("MaxItems") or 100)
    chunk = list(items[start : start + size])
    truncated = start + size < len(items)
    return {
        name: chunk,
        "IsTruncated": truncated,
        "Marker": str(start + size) if truncated else None,
    }


def _tag_pairs(params: Params) -> list[tuple[str, str]]:
    return [(tag["Key"], tag.get("Value", "")) for tag in params.get("Tags") or ()]


# --- users, keys, user policies ----------------------------------------------------------


def _create_user(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    user = iam.users.create_user(
        ctx.principal,
        ctx.info,
        p["UserName"],
        p.get("Path"),
        p.get("PermissionsBoundary"),
        _tag_pairs(p),
    )
    return {"User": user_shape(user)}


def _get_user(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    return {"User": user_shape(iam.users.get_user(ctx.principal, ctx.info, p.get("UserName")))}


def _list_users(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    users = iam.users.list_users(ctx.principal, ctx.info, p.get("PathPrefix"))
    return page([user_shape(u, full=False) for u in users], p, "Users")


def _delete_user(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    iam.users.delete_user(ctx.principal, ctx.info, p["UserName"])
    return None


def _create_access_key(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    new = iam.users.create_access_key(ctx.principal, ctx.info, p.get("UserName"))
    shape = _key_metadata(new.record, new.user_name)
    shape["SecretAccessKey"] = new.secret_access_key
    return {"AccessKey": shape}


def _list_access_keys(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    name, keys = iam.users.list_access_keys(ctx.principal, ctx.info, p.get("UserName"))
    return page([_key_metadata(k, name) for k in keys], p, "AccessKeyMetadata")


def _delete_access_key(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    iam.users.delete_access_key(ctx.principal, ctx.info, p["AccessKeyId"], p.get("UserName"))
    return None


def _update_access_key(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    iam.users.update_access_key(
        ctx.principal, ctx.info, p["AccessKeyId"], p["Status"], p.get("UserName")
    )
    return None


def _put_user_policy(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    iam.users.put_user_policy(
        ctx.principal, ctx.info, p["UserName"], p["PolicyName"], p["PolicyDocument"]
    )
    return None


def _get_user_policy(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    user, policy = iam.users.get_user_policy(
        ctx.principal, ctx.info, p["UserName"], p["PolicyName"]
    )
    return {
        "UserName": user.name,
        "PolicyName": policy.name,
        "PolicyDocument": quote(policy.document, safe=""),
    }


def _delete_user_policy(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    iam.users.delete_user_policy(ctx.principal, ctx.info, p["UserName"], p["PolicyName"])
    return None


def _list_user_policies(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    names = iam.users.list_user_policies(ctx.principal, ctx.info, p["UserName"])
    return page(names, p, "PolicyNames")


def _put_user_boundary(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    iam.users.put_boundary(ctx.principal, ctx.info, p["UserName"], p["PermissionsBoundary"])
    return None


def _delete_user_boundary(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    iam.users.delete_boundary(ctx.principal, ctx.info, p["UserName"])
    return None


def _tag_user(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    iam.users.tag_user(ctx.principal, ctx.info, p["UserName"], _tag_pairs(p))
    return None


def _untag_user(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    iam.users.untag_user(ctx.principal, ctx.info, p["UserName"], p["TagKeys"])
    return None


# --- roles -------------------------------------------------------------------------------


def _create_role(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    role = iam.roles.create_role(
        ctx.principal,
        ctx.info,
        p["RoleName"],
        p["AssumeRolePolicyDocument"],
        p.get("Path"),
        p.get("Description"),
        p.get("MaxSessionDuration"),
        p.get("PermissionsBoundary"),
        _tag_pairs(p),
    )
    return {"Role": role_shape(role)}


def _get_role(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    return {"Role": role_shape(iam.roles.get_role(ctx.principal, ctx.info, p["RoleName"]))}


def _delete_role(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    iam.roles.delete_role(ctx.principal, ctx.info, p["RoleName"])
    return None


def _update_trust(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    iam.roles.update_trust_policy(ctx.principal, ctx.info, p["RoleName"], p["PolicyDocument"])
    return None


def _put_role_policy(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    iam.roles.put_role_policy(
        ctx.principal, ctx.info, p["RoleName"], p["PolicyName"], p["PolicyDocument"]
    )
    return None


def _get_role_policy(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    role, policy = iam.roles.get_role_policy(
        ctx.principal, ctx.info, p["RoleName"], p["PolicyName"]
    )
    return {
        "RoleName": role.name,
        "PolicyName": policy.name,
        "PolicyDocument": quote(policy.document, safe=""),
    }


def _delete_role_policy(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    iam.roles.delete_role_policy(ctx.principal, ctx.info, p["RoleName"], p["PolicyName"])
    return None


def _list_role_policies(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    return page(
        iam.roles.list_role_policies(ctx.principal, ctx.info, p["RoleName"]), p, "PolicyNames"
    )


def _put_role_boundary(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    iam.roles.put_boundary(ctx.principal, ctx.info, p["RoleName"], p["PermissionsBoundary"])
    return None


def _delete_role_boundary(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    iam.roles.delete_boundary(ctx.principal, ctx.info, p["RoleName"])
    return None


def _tag_role(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    iam.roles.tag_role(ctx.principal, ctx.info, p["RoleName"], _tag_pairs(p))
    return None


def _untag_role(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    iam.roles.untag_role(ctx.principal, ctx.info, p["RoleName"], p["TagKeys"])
    return None


# --- managed policies and groups ---------------------------------------------------------


def _create_policy(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    policy = iam.policies.create_policy(
        ctx.principal,
        ctx.info,
        p["PolicyName"],
        p["PolicyDocument"],
        p.get("Path"),
        p.get("Description"),
        _tag_pairs(p),
    )
    return {"Policy": policy_shape(policy)}


def _get_policy(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    return {
        "Policy": policy_shape(iam.policies.get_policy(ctx.principal, ctx.info, p["PolicyArn"]))
    }


def _get_policy_version(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    version = iam.policies.get_policy_version(
        ctx.principal, ctx.info, p["PolicyArn"], p["VersionId"]
    )
    return {
        "PolicyVersion": {
            "Document": quote(version.document, safe=""),
            "VersionId": version.version_id,
            "IsDefaultVersion": version.is_default,
            "CreateDate": version.created_at,
        }
    }


def _delete_policy(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    iam.policies.delete_policy(ctx.principal, ctx.info, p["PolicyArn"])
    return None


def _attach(target: AttachTarget, name_key: str) -> IamHandler:
    def handler(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
        """Attach the managed policy ``PolicyArn`` to the named entity."""
        iam.policies.attach(ctx.principal, ctx.info, target, p[name_key], p["PolicyArn"])
        return None

    return handler


def _detach(target: AttachTarget, name_key: str) -> IamHandler:
    def handler(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
        """Detach the managed policy ``PolicyArn`` from the named entity."""
        iam.policies.detach(ctx.principal, ctx.info, target, p[name_key], p["PolicyArn"])
        return None

    return handler


def _list_attached(target: AttachTarget, name_key: str) -> IamHandler:
    def handler(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
        """List the managed policies attached to the named entity."""
        found = iam.policies.list_attached(
            ctx.principal, ctx.info, target, p[name_key], p.get("PathPrefix")
        )
        shapes = [{"PolicyName": a.name, "PolicyArn": a.arn} for a in found]
        return page(shapes, p, "AttachedPolicies")

    return handler


def _create_group(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    group = iam.groups.create_group(ctx.principal, ctx.info, p["GroupName"], p.get("Path"))
    return {
        "Group": {
            "Path": group.path,
            "GroupName": group.name,
            "GroupId": group.group_id,
            "Arn": group.arn,
            "CreateDate": group.created_at,
        }
    }


def _add_user_to_group(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    iam.groups.add_user(ctx.principal, ctx.info, p["GroupName"], p["UserName"])
    return None


def _remove_user_from_group(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    iam.groups.remove_user(ctx.principal, ctx.info, p["GroupName"], p["UserName"])
    return None


def _put_group_policy(iam: IdentityService, ctx: CallContext, p: Params) -> Result:
    iam.groups.put_group_policy(
        ctx.principal, ctx.info, p["GroupName"], p["PolicyName"], p["PolicyDocument"]
    )
    return None


_USER, _ROLE, _GROUP = AttachTarget.USER, AttachTarget.ROLE, AttachTarget.GROUP

IAM_OPERATIONS: Mapping[str, IamHandler] = {
    "CreateUser": _create_user,
    "GetUser": _get_user,
    "ListUsers": _list_users,
    "DeleteUser": _delete_user,
    "CreateAccessKey": _create_access_key,
    "ListAccessKeys": _list_access_keys,
    "DeleteAccessKey": _delete_access_key,
    "UpdateAccessKey": _update_access_key,
    "PutUserPolicy": _put_user_policy,
    "GetUserPolicy": _get_user_policy,
    "DeleteUserPolicy": _delete_user_policy,
    "ListUserPolicies": _list_user_policies,
    "PutUserPermissionsBoundary": _put_user_boundary,
    "DeleteUserPermissionsBoundary": _delete_user_boundary,
    "TagUser": _tag_user,
    "UntagUser": _untag_user,
    "CreateRole": _create_role,
    "GetRole": _get_role,
    "DeleteRole": _delete_role,
    "UpdateAssumeRolePolicy": _update_trust,
    "PutRolePolicy": _put_role_policy,
    "GetRolePolicy": _get_role_policy,
    "DeleteRolePolicy": _delete_role_policy,
    "ListRolePolicies": _list_role_policies,
    "PutRolePermissionsBoundary": _put_role_boundary,
    "DeleteRolePermissionsBoundary": _delete_role_boundary,
    "TagRole": _tag_role,
    "UntagRole": _untag_role,
    "CreatePolicy": _create_policy,
    "GetPolicy": _get_policy,
    "GetPolicyVersion": _get_policy_version,
    "DeletePolicy": _delete_policy,
    "AttachUserPolicy": _attach(_USER, "UserName"),
    "DetachUserPolicy": _detach(_USER, "UserName"),
    "AttachRolePolicy": _attach(_ROLE, "RoleName"),
    "DetachRolePolicy": _detach(_ROLE, "RoleName"),
    "AttachGroupPolicy": _attach(_GROUP, "GroupName"),
    "DetachGroupPolicy": _detach(_GROUP, "GroupName"),
    "ListAttachedUserPolicies": _list_attached(_USER, "UserName"),
    "ListAttachedRolePolicies": _list_attached(_ROLE, "RoleName"),
    "ListAttachedGroupPolicies": _list_attached(_GROUP, "GroupName"),
    "CreateGroup": _create_group,
    "AddUserToGroup": _add_user_to_group,
    "RemoveUserFromGroup": _remove_user_from_group,
    "PutGroupPolicy": _put_group_policy,
}
"""The IAM operations crossdock serves, by AWS name."""
