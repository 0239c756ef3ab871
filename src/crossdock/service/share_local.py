"""What a crossdock data dir tells ``share``: access keys it holds, and principals by ARN.

crossdock keeps every account's root access key (and its users' keys) sealed in the data
dir; with ``--data-dir`` the operator's ``share`` can act as the owner and the consumer
without a profile for either. The principals built here are the ones the server would
authenticate, so simulated decisions see their tags, boundaries and unique ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from crossdock.auth.principal import Principal, SessionInfo
from crossdock.policy.context import PrincipalKind
from crossdock.service.credentials import root_principal, session_arn
from crossdock.service.share_policy import Target, TargetKind
from crossdock.storage.identity_store import IdentityStores
from crossdock.storage.secrets import SecretBox

SIMULATED_SESSION = "crossdock-share"
"""The session name of the role session a simulated decision stands for."""


@dataclass(frozen=True, slots=True)
class AccessKey:
    """An access key id and its secret."""

    access_key_id: str
    secret_access_key: str


def _first_active(
    stores: IdentityStores, box: SecretBox, account: str, user_id: str | None
) -> AccessKey | None:
    for key in stores.keys.list_access_keys(account, user_id):
        if key.status == "Active":
            return AccessKey(key.access_key_id, box.open(key.secret_sealed))
    return None


def account_known(stores: IdentityStores, account: str) -> bool:
    """True when the data dir has the account."""
    return stores.accounts.get_account(account) is not None


def root_key(stores: IdentityStores, box: SecretBox, account: str) -> AccessKey | None:
    """The account root user's first active access key; None when there is none."""
    return _first_active(stores, box, account, None)


def user_key(stores: IdentityStores, box: SecretBox, account: str, name: str) -> AccessKey | None:
    """The first active access key of the IAM user ``name`` in ``account``."""
    user = stores.users.get_user(account, name)
    return None if user is None else _first_active(stores, box, account, user.user_id)


def principal_exists(stores: IdentityStores, target: Target) -> bool:
    """True when the user or role that ``target`` names exists (accounts: the account)."""
    account = target.account or ""
    if target.kind is TargetKind.USER:
        user = stores.users.get_user(account, target.entity_name or "")
        return user is not None and user.arn == target.value
    if target.kind is TargetKind.ROLE:
        role = stores.roles.get_role(account, target.entity_name or "")
        return role is not None and role.arn == target.value
    if target.kind is TargetKind.SESSION:
        return stores.roles.get_role(account, target.entity_name or "") is not None
    if target.kind is TargetKind.ACCOUNT:
        return account_known(stores, account)
    return True


def stored_principal(stores: IdentityStores, arn: str, now: datetime) -> Principal | None:
    """The principal the server would see for ``arn`` (root, user, or a session of a role);
    None when the user or role does not exist."""
    parts = arn.split(":", 5)
    account, resource = parts[4], parts[5]
    if resource == "root":
        return root_principal(account, "")
    kind, _, rest = resource.partition("/")
    if kind == "user":
        user = stores.users.get_user(account, rest.rsplit("/", 1)[-1])
        if user is None:
            return None
        return Principal(
            account_id=account,
            kind=PrincipalKind.USER,
            arn=user.arn,
            unique_id=user.user_id,
            access_key_id="",
            user_name=user.name,
            tags=user.tags,
            permissions_boundary_arn=user.boundary_arn,
        )
    if kind in ("role", "assumed-role"):
        name = rest.rsplit("/", 1)[-1] if kind == "role" else rest.split("/")[0]
        session = SIMULATED_SESSION if kind == "role" else rest.split("/")[1]
        role = stores.roles.get_role(account, name)
        if role is None:
            return None
        return Principal(
            account_id=account,
            kind=PrincipalKind.ASSUMED_ROLE,
            arn=session_arn(account, role.name, session),
            unique_id=f"{role.role_id}:{session}",
            access_key_id="",
            session=SessionInfo(role.arn, role.role_id, session, now, now + timedelta(hours=1)),
            tags=role.tags,
            permissions_boundary_arn=role.boundary_arn,
        )
    return None


def organization_members(stores: IdentityStores, org_id: str) -> list[str]:
    """The account ids of the organization's members, in order."""
    return sorted(a.account_id for a in stores.accounts.list_accounts() if a.org_id == org_id)


def utc_now() -> datetime:
    """The current time (UTC)."""
    return datetime.now(UTC)
