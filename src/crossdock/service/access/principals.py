"""Who exists: the accounts, principals and repositories a data dir knows.

Principals are what ``who-can`` and the access matrix list, per account: the account's
root user, every IAM user, and every role as "any session of the role" (a session with no
session policy). Each carries the :class:`~crossdock.auth.principal.Principal` its
decisions are made for, built exactly as the credential resolver builds callers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from crossdock.auth.principal import Principal, SessionInfo
from crossdock.policy.context import Caller, PrincipalError, PrincipalKind
from crossdock.service.access.errors import AccessInputError
from crossdock.service.credentials import root_principal, session_arn
from crossdock.service.ecr.common import RepositoryRef
from crossdock.storage.identity_store import IdentityStores, RoleRecord, UserRecord
from crossdock.storage.registry_store import RepositoryRecord, RepositoryStore

ANY_SESSION = "crossdock-any-session"
"""The session name a role's "any session" is evaluated under."""


class PrincipalType(Enum):
    """What kind of principal a row of ``who-can`` is."""

    ROOT = "root"
    USER = "user"
    ROLE = "role"


@dataclass(frozen=True, slots=True)
class KnownPrincipal:
    """A principal the data dir knows, and the caller its decisions are made for.

    ``arn`` is what people name it by: the root ARN, the user ARN, or the role ARN (for a
    role, ``principal`` is a session of it; for an explicit session ARN, ``arn`` is that).
    """

    kind: PrincipalType
    arn: str
    account_id: str
    name: str
    principal: Principal
    boundary_arn: str | None = None

    @property
    def label(self) -> str:
        """How the principal is shown: ``account root``, ``user bob``, ``any session of
        role deployer``."""
        if self.kind is PrincipalType.ROOT:
            return "account root"
        if self.kind is PrincipalType.USER:
            return f"user {self.name}"
        session = self.principal.session
        if session is not None and session.session_name != ANY_SESSION:
            return f"session {session.session_name} of role {self.name}"
        return f"any session of role {self.name}"


def user_principal(user: UserRecord) -> KnownPrincipal:
    """An IAM user as a caller."""
    principal = Principal(
        account_id=user.account_id,
        kind=PrincipalKind.USER,
        arn=user.arn,
        unique_id=user.user_id,
        access_key_id="",
        user_name=user.name,
        tags=user.tags,
        permissions_boundary_arn=user.boundary_arn,
    )
    return KnownPrincipal(
        PrincipalType.USER, user.arn, user.account_id, user.name, principal, user.boundary_arn
    )


def role_principal(
    role: RoleRecord, now: datetime, session_name: str = ANY_SESSION
) -> KnownPrincipal:
    """A session of ``role`` without a session policy or session tags."""
    arn = session_arn(role.account_id, role.name, session_name)
    principal = Principal(
        account_id=role.account_id,
        kind=PrincipalKind.ASSUMED_ROLE,
        arn=arn,
        unique_id=f"{role.role_id}:{session_name}",
        access_key_id="",
        session=SessionInfo(
            role_arn=role.arn,
            role_id=role.role_id,
            session_name=session_name,
            issued_at=now,
            expires_at=now + timedelta(seconds=role.max_session_duration),
        ),
        tags=role.tags,
        permissions_boundary_arn=role.boundary_arn,
    )
    named = role.arn if session_name == ANY_SESSION else arn
    return KnownPrincipal(
        PrincipalType.ROLE, named, role.account_id, role.name, principal, role.boundary_arn
    )


def account_root(account_id: str) -> KnownPrincipal:
    """The account's root user."""
    principal = root_principal(account_id, "")
    return KnownPrincipal(PrincipalType.ROOT, principal.arn, account_id, "root", principal)


def _name_and_path(resource: str) -> tuple[str, str]:
    """``user/path/name`` → (``/path/``, ``name``)."""
    _, _, rest = resource.partition("/")
    path, _, name = ("/" + rest).rpartition("/")
    return path + "/", name


class Inventory:
    """Reads accounts, principals and repositories from the data dir's stores."""

    def __init__(
        self, stores: IdentityStores, repositories: RepositoryStore, now: datetime
    ) -> None:
        self._stores = stores
        self._repositories = repositories
        self._now = now

    def account_ids(self) -> list[str]:
        """Every account the data dir knows, by id."""
        return [account.account_id for account in self._stores.accounts.list_accounts()]

    def require_account(self, account_id: str) -> str:
        """``account_id`` when the data dir knows it, else AccessInputError."""
        if self._stores.accounts.get_account(account_id) is None:
            known = ", ".join(self.account_ids()) or "none"
            raise AccessInputError(
                f"the account `{account_id}` is not known to this data dir",
                f"known accounts: {known} (create it with `crossdock account create` or a "
                "scenario file)",
            )
        return account_id

    def principals(self, account_id: str) -> list[KnownPrincipal]:
        """The account's root user, its users, then its roles (any session), by name."""
        found = [account_root(account_id)]
        found.extend(user_principal(user) for user in self._stores.users.list_users(account_id))
        found.extend(
            role_principal(role, self._now) for role in self._stores.roles.list_roles(account_id)
        )
        return found

    def principal(self, arn: str) -> KnownPrincipal:
        """The principal a root, user, role or assumed-role session ARN names.

        A role ARN stands for any session of the role; a session ARN for that session
        (without a session policy). Raises AccessInputError for anything unknown.
        """
        try:
            caller = Caller.parse(arn)
        except PrincipalError:
            raise AccessInputError(
                f"`{arn}` is not a principal ARN",
                "use arn:aws:iam::ACCOUNT:user/NAME, :role/NAME, :root or "
                "arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION",
            ) from None
        account = self.require_account(caller.account)
        resource = arn.split(":", 5)[5]
        if caller.kind is PrincipalKind.ROOT:
            return account_root(account)
        if caller.kind is PrincipalKind.USER:
            path, name = _name_and_path(resource)
            user = self._stores.users.get_user(account, name)
            if user is not None and user.path == path:
                return user_principal(user)
            raise self._unknown(arn, "user", account)
        if caller.kind in (PrincipalKind.ROLE, PrincipalKind.ASSUMED_ROLE):
            session, role_path = ANY_SESSION, None  # a session ARN carries no role path
            if caller.kind is PrincipalKind.ASSUMED_ROLE:
                _, role_name, session = resource.split("/")
            else:
                role_path, role_name = _name_and_path(resource)
            role = self._stores.roles.get_role(account, role_name)
            if role is not None and role_path in (None, role.path):
                return role_principal(role, self._now, session)
            raise self._unknown(arn, "role", account)
        raise AccessInputError(
            f"`{arn}` is a {caller.kind.value} principal, which crossdock does not hold",
            "use a user, role, assumed-role session or root ARN",
        )

    def _unknown(self, arn: str, kind: str, account: str) -> AccessInputError:
        return AccessInputError(
            f"the principal `{arn}` does not exist",
            f"check the {kind} name and path in account {account} (who-can lists every principal)",
        )

    def scp_catalog(self, account_id: str) -> dict[str, tuple[str, str]]:
        """SCP id → (name, the root, OU or account it is attached to) on the path from
        the organization root to ``account_id``; empty outside an organization."""
        accounts = self._stores.accounts
        account = accounts.get_account(account_id)
        org = None
        if account is not None and account.org_id is not None:
            org = accounts.get_organization(account.org_id)
        if account is None or org is None:
            return {}
        chain: list[str] = []
        node = account.parent_id or org.root_id
        while node != org.root_id and node not in chain:
            chain.insert(0, node)
            unit = accounts.get_org_unit(node)
            if unit is None:
                break
            node = unit.parent_id
        targets = [org.root_id, *chain, account_id]
        found: dict[str, tuple[str, str]] = {}
        for target, scps in accounts.scps_for(targets).items():
            for scp in scps:
                found.setdefault(scp.policy_id, (scp.name, target))
        return found

    def repositories(self, account_id: str) -> list[RepositoryRecord]:
        """Every repository of the account, in every region."""
        return self._repositories.account_repositories(account_id)

    def repository(self, ref: RepositoryRef) -> RepositoryRecord:
        """The stored repository ``ref`` names, else AccessInputError saying what exists."""
        self.require_account(ref.registry_id)
        record = self._repositories.get_repository(ref.registry_id, ref.region, ref.name)
        if record is not None:
            return record
        elsewhere = [r.region for r in self.repositories(ref.registry_id) if r.name == ref.name]
        if elsewhere:
            hint = f"it exists in {', '.join(elsewhere)}: pass --region {elsewhere[0]}"
        else:
            names = [r.name for r in self.repositories(ref.registry_id)]
            listed = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
            hint = f"repositories of {ref.registry_id}: {listed or 'none'}"
        raise AccessInputError(
            f"the repository `{ref.name}` does not exist in account {ref.registry_id}"
            f" ({ref.region})",
            hint,
        )
