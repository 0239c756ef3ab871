"""Customer managed policies, their versions and their attachments to users, roles, groups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from crossdock.auth.principal import Principal
from crossdock.policy.lint import PolicyKind
from crossdock.policy.variables import ContextValue
from crossdock.service.authz import RequestInfo
from crossdock.service.errors import AlreadyExistsError
from crossdock.service.iam_common import (
    MANAGED_POLICY_LIMIT,
    POLICIES_PER_ENTITY,
    IamContext,
    check_path,
    check_policy_document,
    check_tags,
    limit_exceeded,
    no_such_entity,
    policy_arn_extra,
    quota_error,
    store_errors,
    tag_extra,
)
from crossdock.service.identity_ids import POLICY_PREFIX, new_unique_id
from crossdock.storage.identity_store import (
    AttachedPolicyRecord,
    EntityExistsError,
    ManagedPolicyRecord,
    PolicyVersionRecord,
    QuotaExceededError,
    iam_arn,
    policy_size,
)


class AttachTarget(Enum):
    """Which kind of entity a managed policy is attached to (value: the action's noun)."""

    USER = "User"
    ROLE = "Role"
    GROUP = "Group"


@dataclass(frozen=True, slots=True)
class PolicyOperations:
    """CreatePolicy, GetPolicy, GetPolicyVersion, DeletePolicy, Attach/Detach and
    ListAttached for users, roles and groups."""

    ctx: IamContext

    def create_policy(
        self,
        principal: Principal,
        info: RequestInfo,
        name: str,
        document: str,
        path: str | None = None,
        description: str | None = None,
        tags: Sequence[tuple[str, str]] = (),
    ) -> ManagedPolicyRecord:
        """CreatePolicy: version ``v1`` is the default (``iam:TagPolicy`` too with tags)."""
        ctx, path = self.ctx, check_path(path)
        checked = check_tags(tags)
        arn = iam_arn(principal.account_id, "policy", path, name)
        ctx.require(principal, "iam:CreatePolicy", arn, info, tag_extra(checked) if checked else {})
        if checked:
            ctx.require(principal, "iam:TagPolicy", arn, info, tag_extra(checked))
        if policy_size(document) > MANAGED_POLICY_LIMIT:
            raise limit_exceeded(f"Cannot exceed quota for PolicySize: {MANAGED_POLICY_LIMIT}")
        check_policy_document(document, PolicyKind.IDENTITY)
        now = ctx.clock()
        policy = ManagedPolicyRecord(
            policy_id=new_unique_id(POLICY_PREFIX),
            account_id=principal.account_id,
            name=name,
            path=path,
            default_version_id="v1",
            created_at=now,
            updated_at=now,
            description=description or "",
            tags=checked,
        )
        try:
            ctx.stores.policies.create_managed(policy, document)
        except EntityExistsError as error:
            raise AlreadyExistsError(
                f"A policy called {name} already exists. Duplicate names are not allowed.",
                code="EntityAlreadyExists",
            ) from error
        return policy

    def _policy(
        self, principal: Principal, info: RequestInfo, action: str, arn: str
    ) -> ManagedPolicyRecord:
        self.ctx.require(principal, action, arn, info)
        policy = self.ctx.stores.policies.get_managed(arn)
        if policy is None:
            raise no_such_entity(f"Policy {arn} was not found.")
        return policy

    def get_policy(self, principal: Principal, info: RequestInfo, arn: str) -> ManagedPolicyRecord:
        """GetPolicy (with its attachment count)."""
        return self._policy(principal, info, "iam:GetPolicy", arn)

    def get_policy_version(
        self, principal: Principal, info: RequestInfo, arn: str, version_id: str
    ) -> PolicyVersionRecord:
        """GetPolicyVersion."""
        self.ctx.require(principal, "iam:GetPolicyVersion", arn, info)
        version = self.ctx.stores.policies.get_version(arn, version_id)
        if version is None:
            raise no_such_entity(
                f"Policy {arn} version {version_id} does not exist or is not attachable."
            )
        return version

    def delete_policy(self, principal: Principal, info: RequestInfo, arn: str) -> None:
        """DeletePolicy; DeleteConflict while attached or used as a permissions boundary."""
        self._policy(principal, info, "iam:DeletePolicy", arn)
        with store_errors("policy", arn):
            self.ctx.stores.policies.delete_managed(arn)

    # --- attachments ---------------------------------------------------------------------

    def _owner(
        self,
        principal: Principal,
        info: RequestInfo,
        target: AttachTarget,
        action: str,
        name: str,
        extra: dict[str, ContextValue] | None = None,
    ) -> str:
        """The owner's unique id, once ``action`` on it is allowed."""
        if target is AttachTarget.USER:
            return self.ctx.user(principal, info, action, name, extra).user_id
        if target is AttachTarget.ROLE:
            return self.ctx.role(principal, info, action, name, extra).role_id
        return self.ctx.group(principal, info, action, name, extra).group_id

    def attach(
        self, principal: Principal, info: RequestInfo, target: AttachTarget, name: str, arn: str
    ) -> None:
        """AttachUserPolicy, AttachRolePolicy, AttachGroupPolicy (at most 10 each)."""
        action = f"iam:Attach{target.value}Policy"
        owner = self._owner(principal, info, target, action, name, policy_arn_extra(arn))
        policy = self.ctx.attachable_policy(arn)
        if policy.account_id != principal.account_id:
            raise no_such_entity(f"Policy {arn} does not exist or is not attachable.")
        try:
            self.ctx.stores.policies.attach(arn, owner, POLICIES_PER_ENTITY)
        except QuotaExceededError as error:
            raise quota_error(error, f"PoliciesPer{target.value}") from error

    def detach(
        self, principal: Principal, info: RequestInfo, target: AttachTarget, name: str, arn: str
    ) -> None:
        """DetachUserPolicy, DetachRolePolicy, DetachGroupPolicy."""
        action = f"iam:Detach{target.value}Policy"
        owner = self._owner(principal, info, target, action, name, policy_arn_extra(arn))
        with store_errors("policy", arn):
            if not self.ctx.stores.policies.detach(arn, owner):
                raise no_such_entity(f"Policy {arn} was not found.")

    def list_attached(
        self,
        principal: Principal,
        info: RequestInfo,
        target: AttachTarget,
        name: str,
        path_prefix: str | None = None,
    ) -> list[AttachedPolicyRecord]:
        """ListAttachedUserPolicies, ListAttachedRolePolicies, ListAttachedGroupPolicies."""
        action = f"iam:ListAttached{target.value}Policies"
        owner = self._owner(principal, info, target, action, name)
        attached = self.ctx.stores.policies.attached([owner])[owner]
        prefix = path_prefix or "/"
        return [p for p in attached if _policy_path(p.arn).startswith(prefix)]


def _policy_path(arn: str) -> str:
    resource = arn.split(":", 5)[5]  # policy/<path><name>
    return resource[len("policy") : resource.rfind("/") + 1]
