"""IAM groups: CreateGroup, membership and group inline policies."""

from __future__ import annotations

from dataclasses import dataclass

from crossdock.auth.principal import Principal
from crossdock.policy.lint import PolicyKind
from crossdock.service.authz import RequestInfo
from crossdock.service.iam_common import (
    INLINE_LIMITS,
    IamContext,
    check_path,
    check_policy_document,
    limit_exceeded,
    no_such_entity,
    store_errors,
)
from crossdock.service.identity_ids import GROUP_PREFIX, new_unique_id
from crossdock.storage.identity_store import GroupRecord, QuotaExceededError, UserRecord, iam_arn


@dataclass(frozen=True, slots=True)
class GroupOperations:
    """CreateGroup, AddUserToGroup, RemoveUserFromGroup and PutGroupPolicy."""

    ctx: IamContext

    def create_group(
        self, principal: Principal, info: RequestInfo, name: str, path: str | None = None
    ) -> GroupRecord:
        """CreateGroup."""
        path = check_path(path)
        arn = iam_arn(principal.account_id, "group", path, name)
        self.ctx.require(principal, "iam:CreateGroup", arn, info)
        group = GroupRecord(
            group_id=new_unique_id(GROUP_PREFIX),
            account_id=principal.account_id,
            name=name,
            path=path,
            created_at=self.ctx.clock(),
        )
        with store_errors("group", name):
            self.ctx.stores.groups.create_group(group)
        return group

    def _member(self, principal: Principal, user_name: str) -> UserRecord:
        user = self.ctx.stores.users.get_user(principal.account_id, user_name)
        if user is None:
            raise no_such_entity(f"The user with name {user_name} cannot be found.")
        return user

    def add_user(
        self, principal: Principal, info: RequestInfo, group_name: str, user_name: str
    ) -> None:
        """AddUserToGroup (authorized on the group)."""
        group = self.ctx.group(principal, info, "iam:AddUserToGroup", group_name)
        user = self._member(principal, user_name)
        self.ctx.stores.groups.add_member(group.group_id, user.user_id)

    def remove_user(
        self, principal: Principal, info: RequestInfo, group_name: str, user_name: str
    ) -> None:
        """RemoveUserFromGroup (authorized on the group)."""
        group = self.ctx.group(principal, info, "iam:RemoveUserFromGroup", group_name)
        user = self._member(principal, user_name)
        if not self.ctx.stores.groups.remove_member(group.group_id, user.user_id):
            raise no_such_entity(
                f"The user with name {user.name} is not in the group {group.name}."
            )

    def put_group_policy(
        self,
        principal: Principal,
        info: RequestInfo,
        group_name: str,
        policy_name: str,
        document: str,
    ) -> None:
        """PutGroupPolicy: the group's inline policies share 5,120 characters."""
        group = self.ctx.group(principal, info, "iam:PutGroupPolicy", group_name)
        check_policy_document(document, PolicyKind.IDENTITY)
        limit = INLINE_LIMITS["group"]
        try:
            self.ctx.stores.policies.put_inline(group.group_id, policy_name, document, limit)
        except QuotaExceededError as error:
            raise limit_exceeded(
                f"Maximum policy size of {limit} bytes exceeded for group {group.name}"
            ) from error
