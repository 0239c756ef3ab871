"""IAM users: the users themselves, their access keys, inline policies, boundary and tags."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from crossdock.auth.principal import Principal
from crossdock.policy.lint import PolicyKind
from crossdock.service.authz import RequestInfo
from crossdock.service.errors import NotFoundError
from crossdock.service.iam_common import (
    ACCESS_KEYS_PER_USER,
    INLINE_LIMITS,
    TAGS_PER_ENTITY,
    IamContext,
    boundary_extra,
    check_path,
    check_policy_document,
    check_tags,
    limit_exceeded,
    no_such_entity,
    quota_error,
    self_user_name,
    store_errors,
    tag_extra,
    validation_error,
)
from crossdock.service.identity_ids import (
    USER_PREFIX,
    new_access_key_id,
    new_secret_access_key,
    new_unique_id,
)
from crossdock.storage.identity_store import (
    AccessKeyRecord,
    AccountRecord,
    InlinePolicyRecord,
    QuotaExceededError,
    Tags,
    UserRecord,
    iam_arn,
)
from crossdock.storage.secrets import SecretBox

KEY_STATUSES = ("Active", "Inactive")


@dataclass(frozen=True, slots=True)
class NewAccessKey:
    """A key just created: the only time its secret is shown."""

    record: AccessKeyRecord
    user_name: str | None
    secret_access_key: str


@dataclass(frozen=True, slots=True)
class UserOperations:
    """CreateUser, GetUser, ListUsers, DeleteUser and the user's keys, policies and tags."""

    ctx: IamContext
    box: SecretBox

    # --- users ---------------------------------------------------------------------------

    def create_user(
        self,
        principal: Principal,
        info: RequestInfo,
        name: str,
        path: str | None = None,
        boundary: str | None = None,
        tags: Sequence[tuple[str, str]] = (),
    ) -> UserRecord:
        """CreateUser (with ``iam:TagUser`` too when tags are given)."""
        ctx, path = self.ctx, check_path(path)
        checked = check_tags(tags)
        arn = iam_arn(principal.account_id, "user", path, name)
        extra = {**boundary_extra(boundary), **(tag_extra(checked) if checked else {})}
        ctx.require(principal, "iam:CreateUser", arn, info, extra)
        if checked:
            ctx.require(principal, "iam:TagUser", arn, info, tag_extra(checked))
        if boundary is not None:
            ctx.attachable_policy(boundary)
        user = UserRecord(
            user_id=new_unique_id(USER_PREFIX),
            account_id=principal.account_id,
            name=name,
            path=path,
            created_at=ctx.clock(),
            boundary_arn=boundary,
            tags=checked,
        )
        with store_errors("user", name):
            ctx.stores.users.create_user(user)
        return user

    def get_user(
        self, principal: Principal, info: RequestInfo, name: str | None = None
    ) -> UserRecord | AccountRecord:
        """GetUser; without a name, the calling user (or the root user, as an account)."""
        own = self_user_name(principal, name)
        if own is None:
            self.ctx.require(principal, "iam:GetUser", principal.arn, info)
            account = self.ctx.stores.accounts.get_account(principal.account_id)
            if account is None:  # pragma: no cover - the caller's account always exists
                raise no_such_entity(f"The account {principal.account_id} cannot be found.")
            return account
        return self.ctx.user(principal, info, "iam:GetUser", own)

    def list_users(
        self, principal: Principal, info: RequestInfo, path_prefix: str | None = None
    ) -> list[UserRecord]:
        """ListUsers (authorized on ``*``: the action has no resource type)."""
        self.ctx.require(principal, "iam:ListUsers", "*", info)
        return self.ctx.stores.users.list_users(principal.account_id, path_prefix or "/")

    def delete_user(self, principal: Principal, info: RequestInfo, name: str) -> None:
        """DeleteUser; DeleteConflict while it has keys, policies or group memberships."""
        user = self.ctx.user(principal, info, "iam:DeleteUser", name)
        with store_errors("user", name):
            self.ctx.stores.users.delete_user(user.user_id)

    # --- access keys ---------------------------------------------------------------------

    def _key_owner(
        self, principal: Principal, info: RequestInfo, action: str, name: str | None
    ) -> UserRecord | None:
        own = self_user_name(principal, name)
        if own is None:
            self.ctx.require(principal, action, principal.arn, info)
            return None
        return self.ctx.user(principal, info, action, own)

    def create_access_key(
        self, principal: Principal, info: RequestInfo, name: str | None = None
    ) -> NewAccessKey:
        """CreateAccessKey for a user, or for the root user when the root calls it alone."""
        user = self._key_owner(principal, info, "iam:CreateAccessKey", name)
        secret = new_secret_access_key()
        record = AccessKeyRecord(
            access_key_id=new_access_key_id(),
            account_id=principal.account_id,
            user_id=None if user is None else user.user_id,
            secret_sealed=self.box.seal(secret),
            status="Active",
            created_at=self.ctx.clock(),
        )
        try:
            self.ctx.stores.keys.add_access_key(record, ACCESS_KEYS_PER_USER)
        except QuotaExceededError as error:
            raise quota_error(error, "AccessKeysPerUser") from error
        return NewAccessKey(record, None if user is None else user.name, secret)

    def list_access_keys(
        self, principal: Principal, info: RequestInfo, name: str | None = None
    ) -> tuple[str | None, list[AccessKeyRecord]]:
        """ListAccessKeys: the user's name (None for root) and its keys."""
        user = self._key_owner(principal, info, "iam:ListAccessKeys", name)
        user_id = None if user is None else user.user_id
        keys = self.ctx.stores.keys.list_access_keys(principal.account_id, user_id)
        return (None if user is None else user.name), keys

    def _owned_key(self, principal: Principal, user: UserRecord | None, key_id: str) -> str:
        key = self.ctx.stores.keys.get_access_key(key_id)
        owner = None if user is None else user.user_id
        if key is None or key.account_id != principal.account_id or key.user_id != owner:
            raise no_such_entity(f"The Access Key with id {key_id} cannot be found.")
        return key.access_key_id

    def delete_access_key(
        self, principal: Principal, info: RequestInfo, key_id: str, name: str | None = None
    ) -> None:
        """DeleteAccessKey (the key must belong to the named, or calling, user)."""
        user = self._key_owner(principal, info, "iam:DeleteAccessKey", name)
        self.ctx.stores.keys.delete_access_key(self._owned_key(principal, user, key_id))

    def update_access_key(
        self,
        principal: Principal,
        info: RequestInfo,
        key_id: str,
        status: str,
        name: str | None = None,
    ) -> None:
        """UpdateAccessKey: make a key ``Active`` or ``Inactive``."""
        if status not in KEY_STATUSES:
            raise validation_error(
                f"1 validation error detected: Value '{status}' at 'status' failed to satisfy"
                " constraint: Member must satisfy enum value set: [Active, Inactive]"
            )
        user = self._key_owner(principal, info, "iam:UpdateAccessKey", name)
        owned = self._owned_key(principal, user, key_id)
        self.ctx.stores.keys.set_access_key_status(owned, status)

    # --- inline policies -----------------------------------------------------------------

    def put_user_policy(
        self, principal: Principal, info: RequestInfo, name: str, policy_name: str, document: str
    ) -> None:
        """PutUserPolicy: the user's inline policies share 2,048 characters."""
        user = self.ctx.user(principal, info, "iam:PutUserPolicy", name)
        check_policy_document(document, PolicyKind.IDENTITY)
        limit = INLINE_LIMITS["user"]
        try:
            self.ctx.stores.policies.put_inline(user.user_id, policy_name, document, limit)
        except QuotaExceededError as error:
            raise limit_exceeded(
                f"Maximum policy size of {limit} bytes exceeded for user {user.name}"
            ) from error

    def get_user_policy(
        self, principal: Principal, info: RequestInfo, name: str, policy_name: str
    ) -> tuple[UserRecord, InlinePolicyRecord]:
        """GetUserPolicy."""
        user = self.ctx.user(principal, info, "iam:GetUserPolicy", name)
        found = self.ctx.stores.policies.get_inline(user.user_id, policy_name)
        if found is None:
            raise no_inline_policy("user", policy_name)
        return user, found

    def delete_user_policy(
        self, principal: Principal, info: RequestInfo, name: str, policy_name: str
    ) -> None:
        """DeleteUserPolicy."""
        user = self.ctx.user(principal, info, "iam:DeleteUserPolicy", name)
        if not self.ctx.stores.policies.delete_inline(user.user_id, policy_name):
            raise no_inline_policy("user", policy_name)

    def list_user_policies(self, principal: Principal, info: RequestInfo, name: str) -> list[str]:
        """ListUserPolicies: the names of the user's inline policies."""
        user = self.ctx.user(principal, info, "iam:ListUserPolicies", name)
        return [p.name for p in self.ctx.stores.policies.list_inline(user.user_id)]

    # --- boundary and tags ---------------------------------------------------------------

    def put_boundary(self, principal: Principal, info: RequestInfo, name: str, arn: str) -> None:
        """PutUserPermissionsBoundary."""
        extra = boundary_extra(arn)
        user = self.ctx.user(principal, info, "iam:PutUserPermissionsBoundary", name, extra)
        self.ctx.attachable_policy(arn)
        self.ctx.stores.users.set_user_boundary(user.user_id, arn)

    def delete_boundary(self, principal: Principal, info: RequestInfo, name: str) -> None:
        """DeleteUserPermissionsBoundary (idempotent)."""
        current = self.ctx.stores.users.get_user(principal.account_id, name)
        extra = boundary_extra(current.boundary_arn if current is not None else None)
        user = self.ctx.user(principal, info, "iam:DeleteUserPermissionsBoundary", name, extra)
        self.ctx.stores.users.set_user_boundary(user.user_id, None)

    def tag_user(
        self, principal: Principal, info: RequestInfo, name: str, tags: Sequence[tuple[str, str]]
    ) -> None:
        """TagUser: add or overwrite tags (at most 50 per user)."""
        checked = check_tags(tags)
        user = self.ctx.user(principal, info, "iam:TagUser", name, tag_extra(checked))
        tag_entity(self.ctx, user.user_id, checked, "TagsPerUser")

    def untag_user(
        self, principal: Principal, info: RequestInfo, name: str, keys: Sequence[str]
    ) -> None:
        """UntagUser."""
        extra = {"aws:TagKeys": tuple(keys)}
        user = self.ctx.user(principal, info, "iam:UntagUser", name, extra)
        self.ctx.stores.tags.untag(user.user_id, keys)


def tag_entity(ctx: IamContext, owner_id: str, tags: Tags, quota: str) -> None:
    """Add tags to a user, role or policy, within the 50-tag quota."""
    try:
        ctx.stores.tags.tag(owner_id, tags, TAGS_PER_ENTITY)
    except QuotaExceededError as error:
        raise quota_error(error, quota) from error


def no_inline_policy(kind: str, policy_name: str) -> NotFoundError:
    """NoSuchEntity for a missing inline policy of a ``kind`` (user, role, group)."""
    return no_such_entity(f"The {kind} policy with name {policy_name} cannot be found.")
