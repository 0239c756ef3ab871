"""IAM roles: trust policies, inline policies, boundary and tags."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from crossdock.auth.principal import Principal
from crossdock.policy.lint import PolicyKind
from crossdock.service.authz import RequestInfo
from crossdock.service.iam_common import (
    INLINE_LIMITS,
    TRUST_POLICY_LIMIT,
    BoundTrust,
    IamContext,
    boundary_extra,
    check_path,
    check_policy_document,
    check_tags,
    check_trust_policy,
    displayed_trust,
    limit_exceeded,
    store_errors,
    tag_extra,
)
from crossdock.service.iam_users import no_inline_policy, tag_entity
from crossdock.service.identity_ids import ROLE_PREFIX, new_unique_id
from crossdock.storage.identity_store import (
    InlinePolicyRecord,
    QuotaExceededError,
    RoleRecord,
    iam_arn,
    policy_size,
)

DEFAULT_MAX_SESSION_DURATION = 3600


def _check_trust(ctx: IamContext, document: str) -> BoundTrust:
    if policy_size(document) > TRUST_POLICY_LIMIT:
        raise limit_exceeded(f"Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_LIMIT}")
    return check_trust_policy(document, ctx.directory)


@dataclass(frozen=True, slots=True)
class RoleOperations:
    """CreateRole, GetRole, DeleteRole, UpdateAssumeRolePolicy, inline policies, boundary
    and tags of roles."""

    ctx: IamContext

    def create_role(
        self,
        principal: Principal,
        info: RequestInfo,
        name: str,
        trust_policy: str,
        path: str | None = None,
        description: str | None = None,
        max_session_duration: int | None = None,
        boundary: str | None = None,
        tags: Sequence[tuple[str, str]] = (),
    ) -> RoleRecord:
        """CreateRole with its AssumeRolePolicyDocument (``iam:TagRole`` too with tags)."""
        ctx, path = self.ctx, check_path(path)
        checked = check_tags(tags)
        arn = iam_arn(principal.account_id, "role", path, name)
        extra = {**boundary_extra(boundary), **(tag_extra(checked) if checked else {})}
        ctx.require(principal, "iam:CreateRole", arn, info, extra)
        if checked:
            ctx.require(principal, "iam:TagRole", arn, info, tag_extra(checked))
        bound = _check_trust(ctx, trust_policy)
        if boundary is not None:
            ctx.attachable_policy(boundary)
        role = RoleRecord(
            role_id=new_unique_id(ROLE_PREFIX),
            account_id=principal.account_id,
            name=name,
            path=path,
            trust_policy=trust_policy,
            created_at=ctx.clock(),
            description=description or "",
            max_session_duration=max_session_duration or DEFAULT_MAX_SESSION_DURATION,
            boundary_arn=boundary,
            tags=checked,
            trust_evaluated=bound.evaluated,
            trust_bindings=bound.bindings,
        )
        with store_errors("role", name):
            ctx.stores.roles.create_role(role)
        return role

    def get_role(self, principal: Principal, info: RequestInfo, name: str) -> RoleRecord:
        """GetRole (principals deleted since the trust policy was saved show as ids)."""
        role = self.ctx.role(principal, info, "iam:GetRole", name)
        return replace(role, trust_policy=displayed_trust(role, self.ctx.directory))

    def delete_role(self, principal: Principal, info: RequestInfo, name: str) -> None:
        """DeleteRole; DeleteConflict while it has inline or attached policies."""
        role = self.ctx.role(principal, info, "iam:DeleteRole", name)
        with store_errors("role", name):
            self.ctx.stores.roles.delete_role(role.role_id)

    def update_trust_policy(
        self, principal: Principal, info: RequestInfo, name: str, document: str
    ) -> None:
        """UpdateAssumeRolePolicy."""
        role = self.ctx.role(principal, info, "iam:UpdateAssumeRolePolicy", name)
        bound = _check_trust(self.ctx, document)
        self.ctx.stores.roles.update_trust_policy(
            role.role_id, document, bound.evaluated, bound.bindings
        )

    # --- inline policies -----------------------------------------------------------------

    def put_role_policy(
        self, principal: Principal, info: RequestInfo, name: str, policy_name: str, document: str
    ) -> None:
        """PutRolePolicy: the role's inline policies share 10,240 characters."""
        role = self.ctx.role(principal, info, "iam:PutRolePolicy", name)
        check_policy_document(document, PolicyKind.IDENTITY)
        limit = INLINE_LIMITS["role"]
        try:
            self.ctx.stores.policies.put_inline(role.role_id, policy_name, document, limit)
        except QuotaExceededError as error:
            raise limit_exceeded(
                f"Maximum policy size of {limit} bytes exceeded for role {role.name}"
            ) from error

    def get_role_policy(
        self, principal: Principal, info: RequestInfo, name: str, policy_name: str
    ) -> tuple[RoleRecord, InlinePolicyRecord]:
        """GetRolePolicy."""
        role = self.ctx.role(principal, info, "iam:GetRolePolicy", name)
        found = self.ctx.stores.policies.get_inline(role.role_id, policy_name)
        if found is None:
            raise no_inline_policy("role", policy_name)
        return role, found

    def delete_role_policy(
        self, principal: Principal, info: RequestInfo, name: str, policy_name: str
    ) -> None:
        """DeleteRolePolicy."""
        role = self.ctx.role(principal, info, "iam:DeleteRolePolicy", name)
        if not self.ctx.stores.policies.delete_inline(role.role_id, policy_name):
            raise no_inline_policy("role", policy_name)

    def list_role_policies(self, principal: Principal, info: RequestInfo, name: str) -> list[str]:
        """ListRolePolicies: the names of the role's inline policies."""
        role = self.ctx.role(principal, info, "iam:ListRolePolicies", name)
        return [p.name for p in self.ctx.stores.policies.list_inline(role.role_id)]

    # --- boundary and tags ---------------------------------------------------------------

    def put_boundary(self, principal: Principal, info: RequestInfo, name: str, arn: str) -> None:
        """PutRolePermissionsBoundary."""
        extra = boundary_extra(arn)
        role = self.ctx.role(principal, info, "iam:PutRolePermissionsBoundary", name, extra)
        self.ctx.attachable_policy(arn)
        self.ctx.stores.roles.set_role_boundary(role.role_id, arn)

    def delete_boundary(self, principal: Principal, info: RequestInfo, name: str) -> None:
        """DeleteRolePermissionsBoundary (idempotent)."""
        current = self.ctx.stores.roles.get_role(principal.account_id, name)
        extra = boundary_extra(current.boundary_arn if current is not None else None)
        role = self.ctx.role(principal, info, "iam:DeleteRolePermissionsBoundary", name, extra)
        self.ctx.stores.roles.set_role_boundary(role.role_id, None)

    def tag_role(
        self, principal: Principal, info: RequestInfo, name: str, tags: Sequence[tuple[str, str]]
    ) -> None:
        """TagRole: add or overwrite tags (at most 50 per role)."""
        checked = check_tags(tags)
        role = self.ctx.role(principal, info, "iam:TagRole", name, tag_extra(checked))
        tag_entity(self.ctx, role.role_id, checked, "TagsPerRole")

    def untag_role(
        self, principal: Principal, info: RequestInfo, name: str, keys: Sequence[str]
    ) -> None:
        """UntagRole."""
        extra = {"aws:TagKeys": tuple(keys)}
        role = self.ctx.role(principal, info, "iam:UntagRole", name, extra)
        self.ctx.stores.tags.untag(role.role_id, keys)
