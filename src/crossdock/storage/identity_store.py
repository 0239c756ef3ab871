"""The identity store: accounts, Organizations, IAM entities, access keys and STS sessions.

Small protocols split by concern (each method is one transaction; a failed write leaves
nothing behind), the records they exchange, and the store's own errors, which the
service layer turns into AWS errors::

    IdentityStoreError
    ├── EntityExistsError       a name (or id) is taken
    ├── EntityMissingError      a referenced entity does not exist
    ├── EntityInUseError        the entity still has dependents (``reason`` says which)
    └── QuotaExceededError      a per-entity quota would be exceeded

Records carry AWS's values; secrets only in sealed form (``secret_sealed``) or hashed
(``token_hash``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Protocol

from crossdock.core.errors import CrossdockError

Tags = tuple[tuple[str, str], ...]
"""Tags in the order they were added: ``((key, value), ...)``."""
Bindings = tuple[tuple[str, str], ...]
"""Principal ARNs bound to unique ids when a policy was saved: ``((arn, id), ...)``."""


# --- errors ------------------------------------------------------------------------------


class IdentityStoreError(CrossdockError):
    """Root of the identity store's errors."""


class EntityExistsError(IdentityStoreError):
    """An entity with this name (or id) exists already."""

    def __init__(self, kind: str, name: str) -> None:
        self.kind = kind
        self.name = name
        super().__init__(f"the {kind} `{name}` exists already")


class EntityMissingError(IdentityStoreError):
    """A referenced entity does not exist."""

    def __init__(self, kind: str, name: str) -> None:
        self.kind = kind
        self.name = name
        super().__init__(f"the {kind} `{name}` does not exist")


class InUseReason(Enum):
    """Why an entity cannot be deleted yet."""

    ACCESS_KEYS = "access keys"
    INLINE_POLICIES = "inline policies"
    ATTACHED_POLICIES = "attached policies"
    GROUP_MEMBERSHIPS = "group memberships"
    GROUP_MEMBERS = "group members"
    POLICY_ATTACHMENTS = "policy attachments"
    BOUNDARY_USE = "permissions boundary use"


class EntityInUseError(IdentityStoreError):
    """The entity still has dependents; ``reason`` names the first kind found."""

    def __init__(self, kind: str, name: str, reason: InUseReason) -> None:
        self.kind = kind
        self.name = name
        self.reason = reason
        super().__init__(f"the {kind} `{name}` still has {reason.value}")


class QuotaExceededError(IdentityStoreError):
    """A write would exceed a per-entity quota (``quota`` is AWS's quota name)."""

    def __init__(self, quota: str, limit: int) -> None:
        self.quota = quota
        self.limit = limit
        super().__init__(f"the quota {quota} of {limit} would be exceeded")


# --- records -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrganizationRecord:
    """An AWS Organization: its id, its root and (optionally) its management account."""

    org_id: str
    root_id: str
    management_account_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OrgUnitRecord:
    """An organizational unit; ``parent_id`` is the root id or another OU id."""

    ou_id: str
    org_id: str
    parent_id: str
    name: str


@dataclass(frozen=True, slots=True)
class ScpRecord:
    """A service control policy of an organization."""

    policy_id: str
    org_id: str
    name: str
    document: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """An account; ``parent_id`` is the root or OU that holds it inside its organization."""

    account_id: str
    org_id: str | None
    parent_id: str | None
    created_at: datetime


def policy_size(document: str) -> int:
    """The size IAM counts against its quotas: characters, whitespace excluded."""
    return sum(1 for char in document if not char.isspace())


def iam_arn(account_id: str, kind: str, path: str, name: str) -> str:
    """``arn:aws:iam::<account>:<kind><path><name>`` (``kind`` is user, role, group, policy)."""
    return f"arn:aws:iam::{account_id}:{kind}{path}{name}"


@dataclass(frozen=True, slots=True)
class UserRecord:
    """An IAM user."""

    user_id: str
    account_id: str
    name: str
    path: str
    created_at: datetime
    boundary_arn: str | None = None
    tags: Tags = ()

    @property
    def arn(self) -> str:
        """The user's ARN, with its path."""
        return iam_arn(self.account_id, "user", self.path, self.name)


@dataclass(frozen=True, slots=True)
class GroupRecord:
    """An IAM group."""

    group_id: str
    account_id: str
    name: str
    path: str
    created_at: datetime

    @property
    def arn(self) -> str:
        """The group's ARN, with its path."""
        return iam_arn(self.account_id, "group", self.path, self.name)


@dataclass(frozen=True, slots=True)
class RoleRecord:
    """An IAM role with its trust policy (the text as submitted)."""

    role_id: str
    account_id: str
    name: str
    path: str
    trust_policy: str
    created_at: datetime
    description: str = ""
    max_session_duration: int = 3600
    boundary_arn: str | None = None
    tags: Tags = ()
    trust_evaluated: str | None = None
    """The trust policy with bound principals (user and role ARNs → unique ids)."""
    trust_bindings: Bindings = ()

    @property
    def arn(self) -> str:
        """The role's ARN, with its path."""
        return iam_arn(self.account_id, "role", self.path, self.name)


@dataclass(frozen=True, slots=True)
class ManagedPolicyRecord:
    """A customer managed policy (its documents are :class:`PolicyVersionRecord`)."""

    policy_id: str
    account_id: str
    name: str
    path: str
    default_version_id: str
    created_at: datetime
    updated_at: datetime
    description: str = ""
    attachment_count: int = 0
    boundary_usage_count: int = 0
    tags: Tags = ()

    @property
    def arn(self) -> str:
        """The policy's ARN, with its path."""
        return iam_arn(self.account_id, "policy", self.path, self.name)


@dataclass(frozen=True, slots=True)
class PolicyVersionRecord:
    """One version of a managed policy."""

    policy_arn: str
    version_id: str
    document: str
    is_default: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class InlinePolicyRecord:
    """An inline policy embedded in a user, group or role."""

    owner_id: str
    name: str
    document: str


@dataclass(frozen=True, slots=True)
class AttachedPolicyRecord:
    """A managed policy attached to an owner, with its default document."""

    arn: str
    name: str
    document: str


@dataclass(frozen=True, slots=True)
class AccessKeyRecord:
    """A long-term access key; ``user_id`` is None for the account root user's keys."""

    access_key_id: str
    account_id: str
    user_id: str | None
    secret_sealed: str
    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """An STS role session (its ``ASIA...`` key)."""

    access_key_id: str
    secret_sealed: str
    token_hash: str
    account_id: str
    role_id: str
    role_arn: str
    session_name: str
    source_arn: str
    issued_at: datetime
    expires_at: datetime
    session_policy: str | None = None
    session_tags: Tags = ()


# --- protocols ---------------------------------------------------------------------------


class AccountStore(Protocol):
    """Accounts, organizations, organizational units and SCPs."""

    def create_account(self, account: AccountRecord) -> None:
        """Add ``account``; EntityExistsError when the id is taken."""
        ...

    def get_account(self, account_id: str) -> AccountRecord | None:
        """The account, or None."""
        ...

    def list_accounts(self) -> list[AccountRecord]:
        """Every account, by id."""
        ...

    def create_organization(self, organization: OrganizationRecord) -> None:
        """Add an organization; EntityExistsError when the id or root id is taken."""
        ...

    def get_organization(self, org_id: str) -> OrganizationRecord | None:
        """The organization, or None."""
        ...

    def create_org_unit(self, unit: OrgUnitRecord) -> None:
        """Add an OU; EntityExistsError when the id is taken."""
        ...

    def get_org_unit(self, ou_id: str) -> OrgUnitRecord | None:
        """The OU, or None."""
        ...

    def put_scp(self, scp: ScpRecord) -> None:
        """Add or replace an SCP (by policy id)."""
        ...

    def attach_scp(self, policy_id: str, target_id: str) -> None:
        """Attach an SCP to a root, OU or account id (idempotent)."""
        ...

    def detach_scp(self, policy_id: str, target_id: str) -> None:
        """Detach an SCP; EntityMissingError when it is not attached."""
        ...

    def scps_for(self, target_ids: Sequence[str]) -> dict[str, list[ScpRecord]]:
        """The SCPs attached to each of ``target_ids`` (every id is a key)."""
        ...


class UserStore(Protocol):
    """IAM users and their group memberships."""

    def create_user(self, user: UserRecord) -> None:
        """Add a user with its tags; EntityExistsError when the name is taken."""
        ...

    def get_user(self, account_id: str, name: str) -> UserRecord | None:
        """The user named ``name`` (case-insensitively), with its tags, or None."""
        ...

    def get_user_by_id(self, user_id: str) -> UserRecord | None:
        """The user with unique id ``user_id``, or None."""
        ...

    def list_users(self, account_id: str, path_prefix: str = "/") -> list[UserRecord]:
        """The account's users under ``path_prefix``, by name."""
        ...

    def delete_user(self, user_id: str) -> None:
        """Delete a user and its tags; EntityInUseError while it has keys, policies or
        group memberships."""
        ...

    def set_user_boundary(self, user_id: str, boundary_arn: str | None) -> None:
        """Set or clear the user's permissions boundary (a managed policy ARN)."""
        ...


class GroupStore(Protocol):
    """IAM groups and their members."""

    def create_group(self, group: GroupRecord) -> None:
        """Add a group; EntityExistsError when the name is taken."""
        ...

    def get_group(self, account_id: str, name: str) -> GroupRecord | None:
        """The group named ``name`` (case-insensitively), or None."""
        ...

    def add_member(self, group_id: str, user_id: str) -> None:
        """Add a user to a group (idempotent)."""
        ...

    def remove_member(self, group_id: str, user_id: str) -> bool:
        """Remove a user from a group; False when it was not a member."""
        ...

    def groups_of(self, user_id: str) -> list[GroupRecord]:
        """The groups ``user_id`` belongs to, by name."""
        ...


class RoleStore(Protocol):
    """IAM roles."""

    def create_role(self, role: RoleRecord) -> None:
        """Add a role with its tags; EntityExistsError when the name is taken."""
        ...

    def get_role(self, account_id: str, name: str) -> RoleRecord | None:
        """The role named ``name`` (case-insensitively), with its tags, or None."""
        ...

    def get_role_by_id(self, role_id: str) -> RoleRecord | None:
        """The role with unique id ``role_id``, or None."""
        ...

    def list_roles(self, account_id: str) -> list[RoleRecord]:
        """The account's roles, by name."""
        ...

    def delete_role(self, role_id: str) -> None:
        """Delete a role and its tags; EntityInUseError while it has policies."""
        ...

    def update_trust_policy(
        self, role_id: str, document: str, evaluated: str | None, bindings: Bindings
    ) -> None:
        """Replace the role's trust policy (as submitted, as evaluated, its bindings)."""
        ...

    def set_role_boundary(self, role_id: str, boundary_arn: str | None) -> None:
        """Set or clear the role's permissions boundary (a managed policy ARN)."""
        ...


class TagStore(Protocol):
    """Tags of users, roles and policies (keys are case-insensitive)."""

    def tag(self, owner_id: str, tags: Tags, limit: int) -> None:
        """Add or overwrite tags; QuotaExceededError beyond ``limit`` tags."""
        ...

    def untag(self, owner_id: str, keys: Sequence[str]) -> None:
        """Remove tags by key (absent keys are ignored)."""
        ...


class PolicyStore(Protocol):
    """Inline policies, customer managed policies and their attachments."""

    def put_inline(self, owner_id: str, name: str, document: str, limit: int) -> None:
        """Add or replace an inline policy; QuotaExceededError when the owner's inline
        policies would exceed ``limit`` characters (whitespace not counted)."""
        ...

    def get_inline(self, owner_id: str, name: str) -> InlinePolicyRecord | None:
        """The inline policy, or None."""
        ...

    def delete_inline(self, owner_id: str, name: str) -> bool:
        """Delete an inline policy; False when it did not exist."""
        ...

    def list_inline(self, owner_id: str) -> list[InlinePolicyRecord]:
        """The owner's inline policies, by name."""
        ...

    def create_managed(self, policy: ManagedPolicyRecord, document: str) -> None:
        """Add a managed policy with its version ``v1``; EntityExistsError for a taken name."""
        ...

    def get_managed(self, arn: str) -> ManagedPolicyRecord | None:
        """The managed policy with ``arn`` (with its attachment counts), or None."""
        ...

    def get_version(self, arn: str, version_id: str) -> PolicyVersionRecord | None:
        """One version of a managed policy, or None."""
        ...

    def delete_managed(self, arn: str) -> None:
        """Delete a managed policy; EntityInUseError while attached or used as a boundary."""
        ...

    def attach(self, arn: str, owner_id: str, limit: int) -> None:
        """Attach a managed policy (idempotent); QuotaExceededError beyond ``limit``."""
        ...

    def detach(self, arn: str, owner_id: str) -> bool:
        """Detach a managed policy; False when it was not attached."""
        ...

    def attached(self, owner_ids: Sequence[str]) -> dict[str, list[AttachedPolicyRecord]]:
        """The managed policies attached to each owner, with their default documents."""
        ...

    def documents(self, arns: Sequence[str]) -> dict[str, str]:
        """The default document of each managed policy in ``arns`` that exists."""
        ...


class KeyStore(Protocol):
    """Long-term access keys and STS sessions."""

    def add_access_key(self, key: AccessKeyRecord, limit: int) -> None:
        """Add a key; QuotaExceededError when the owner has ``limit`` keys already."""
        ...

    def get_access_key(self, access_key_id: str) -> AccessKeyRecord | None:
        """The key, or None."""
        ...

    def list_access_keys(self, account_id: str, user_id: str | None) -> list[AccessKeyRecord]:
        """The keys of a user (or of the root user when ``user_id`` is None)."""
        ...

    def set_access_key_status(self, access_key_id: str, status: str) -> None:
        """Set ``Active`` or ``Inactive``."""
        ...

    def delete_access_key(self, access_key_id: str) -> bool:
        """Delete a key; False when it did not exist."""
        ...

    def add_session(self, session: SessionRecord) -> None:
        """Record a new role session."""
        ...

    def get_session(self, access_key_id: str) -> SessionRecord | None:
        """The session of an ``ASIA...`` key (expired or not), or None."""
        ...

    def delete_sessions_expired_before(self, moment: datetime) -> int:
        """Forget sessions that expired before ``moment``; the number removed."""
        ...


class GenerationStore(Protocol):
    """How many identity changes have been committed: a cache stays valid while it holds."""

    def generation(self) -> int:
        """The number of identity changes committed so far, by any process."""
        ...


@dataclass(frozen=True, slots=True)
class IdentityStores:
    """The identity store, one protocol per concern."""

    accounts: AccountStore
    users: UserStore
    groups: GroupStore
    roles: RoleStore
    tags: TagStore
    policies: PolicyStore
    keys: KeyStore
    generations: GenerationStore
