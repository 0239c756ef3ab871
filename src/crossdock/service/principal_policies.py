"""The IAM side of every decision: the caller's policies, IAM resources, who exists.

* :class:`IdentityPolicyLoader` (a ``PrincipalPolicyLoader``): a user's inline and
  attached policies and those of its groups; a role session's role policies; the
  permissions boundary; the SCP levels root → OUs → account and the org keys.
* :class:`IamResourceLookup` (a ``ResourceLookup`` for ``arn:aws:iam::``): a role with its
  trust policy (the resource policy of ``sts:AssumeRole``), users with their tags.
* :class:`IdentityDirectory` (a ``PrincipalDirectory``): user and role ARNs ↔ unique ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from crossdock.auth.principal import Principal
from crossdock.core.arn import is_account_id
from crossdock.policy.context import PrincipalKind
from crossdock.service.authz import PolicyDocument, PrincipalPolicies, ResourceInfo
from crossdock.service.identity_cache import GenerationCache
from crossdock.storage.identity_store import AccountRecord, IdentityStores, RoleRecord, UserRecord

FULL_AWS_ACCESS = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
)
"""FullAWSAccess: AWS attaches it to every root, OU and account; crossdock assumes it
wherever a level of an organization has no SCP of its own."""


_PrincipalKey = tuple[str, str, str, str | None, str | None]


class IdentityPolicyLoader:
    """Reads the caller's side of a decision from the identity store (cached for as long
    as the store's generation holds)."""

    def __init__(self, stores: IdentityStores) -> None:
        self.stores = stores
        self._cache: GenerationCache[_PrincipalKey, PrincipalPolicies] = GenerationCache(
            stores.generations
        )

    def principal_policies(self, principal: Principal) -> PrincipalPolicies:
        """Identity policies, boundary, SCP levels and org facts of ``principal``."""
        session = principal.session
        key: _PrincipalKey = (
            principal.account_id,
            principal.kind.value,
            principal.unique_id,
            session.role_id if session is not None else None,
            principal.permissions_boundary_arn,
        )
        return self._cache.get(key, lambda: self._load(principal))

    def _load(self, principal: Principal) -> PrincipalPolicies:
        identity: list[PolicyDocument] = []
        if principal.kind is PrincipalKind.USER:
            identity = self._user_policies(principal)
        elif principal.session is not None:
            role = self.stores.roles.get_role_by_id(principal.session.role_id)
            if role is not None:
                identity = self._owned([(role.role_id, role.arn)])
        boundary = None
        if principal.permissions_boundary_arn is not None:
            arn = principal.permissions_boundary_arn
            document = self.stores.policies.documents([arn]).get(arn)
            boundary = None if document is None else PolicyDocument(arn, document)
        account = self.stores.accounts.get_account(principal.account_id)
        org = _OrgView.of(self.stores, account) if account is not None else None
        return PrincipalPolicies(
            identity=tuple(identity),
            boundary=boundary,
            scp_levels=org.scp_levels if org is not None else None,
            org_id=org.org_id if org is not None else None,
            org_paths=(org.path,) if org is not None else (),
        )

    def _user_policies(self, principal: Principal) -> list[PolicyDocument]:
        owners = [(principal.unique_id, principal.arn)]
        for group in self.stores.groups.groups_of(principal.unique_id):
            owners.append((group.group_id, group.arn))
        return self._owned(owners)

    def _owned(self, owners: list[tuple[str, str]]) -> list[PolicyDocument]:
        """Inline then attached policies of each owner, in order."""
        found: list[PolicyDocument] = []
        attached = self.stores.policies.attached([owner for owner, _ in owners])
        for owner, owner_arn in owners:
            for inline in self.stores.policies.list_inline(owner):
                found.append(PolicyDocument(f"{owner_arn} {inline.name}", inline.document))
            for policy in attached[owner]:
                found.append(PolicyDocument(policy.arn, policy.document))
        return found


@dataclass(frozen=True, slots=True)
class _OrgView:
    org_id: str
    path: str
    scp_levels: tuple[tuple[PolicyDocument, ...], ...] | None

    @classmethod
    def of(cls, stores: IdentityStores, account: AccountRecord) -> _OrgView | None:
        """The organization facts of ``account``; None outside an organization."""
        if account.org_id is None:
            return None
        org = stores.accounts.get_organization(account.org_id)
        if org is None:
            return None
        chain: list[str] = []
        node = account.parent_id or org.root_id
        while node != org.root_id:
            unit = stores.accounts.get_org_unit(node)
            if unit is None or node in chain:
                break
            chain.insert(0, node)
            node = unit.parent_id
        path = "/".join([org.org_id, org.root_id, *chain]) + "/"
        if org.management_account_id == account.account_id:
            return cls(org.org_id, path, None)  # SCPs never restrict the management account
        targets = [org.root_id, *chain, account.account_id]
        attached = stores.accounts.scps_for(targets)
        levels = tuple(
            tuple(PolicyDocument(scp.policy_id, scp.document) for scp in attached[target])
            or (PolicyDocument("FullAWSAccess", FULL_AWS_ACCESS),)
            for target in targets
        )
        return cls(org.org_id, path, levels)


def _iam_parts(arn: str) -> tuple[str, str, str, str] | None:
    """(account, kind, path, name) of an IAM user, role, group or policy ARN."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or not is_account_id(parts[4]):
        return None
    kind, slash, rest = parts[5].partition("/")
    if not slash or not rest or rest.endswith("/"):
        return None
    path, _, name = ("/" + rest).rpartition("/")
    return parts[4], kind, path + "/", name


class IamResourceLookup:
    """The ``iam`` ResourceLookup: roles carry their trust policy, users their tags (cached
    for as long as the store's generation holds)."""

    def __init__(self, stores: IdentityStores) -> None:
        self.stores = stores
        self._cache: GenerationCache[str, ResourceInfo | None] = GenerationCache(stores.generations)

    def resource(self, resource_arn: str) -> ResourceInfo | None:
        """The IAM resource's owner, policy and tags; None when it does not exist."""
        return self._cache.get(resource_arn, lambda: self._load(resource_arn))

    def _load(self, resource_arn: str) -> ResourceInfo | None:
        parts = _iam_parts(resource_arn)
        if parts is None:
            return None
        account, kind, path, name = parts
        if kind == "role":
            role = self.stores.roles.get_role(account, name)
            if role is None or role.path != path:
                return None
            text = role.trust_evaluated or role.trust_policy
            trust = PolicyDocument(f"{role.arn} trust policy", text)
            return ResourceInfo(resource_arn, account, trust, role.tags)
        if kind == "user":
            user = self.stores.users.get_user(account, name)
            if user is None or user.path != path:
                return None
            return ResourceInfo(resource_arn, account, None, user.tags)
        return ResourceInfo(resource_arn, account)


@dataclass(frozen=True, slots=True)
class IdentityDirectory:
    """A ``PrincipalDirectory`` over the identity store."""

    stores: IdentityStores

    def account_exists(self, account_id: str) -> bool:
        """True when crossdock knows the account."""
        return self.stores.accounts.get_account(account_id) is not None

    def unique_id(self, arn: str) -> str | None:
        """``AIDA...`` for an existing user ARN, ``AROA...`` for an existing role ARN."""
        entity = self._entity(arn)
        if isinstance(entity, UserRecord):
            return entity.user_id
        if isinstance(entity, RoleRecord):
            return entity.role_id
        return None

    def _entity(self, arn: str) -> UserRecord | RoleRecord | None:
        parts = _iam_parts(arn)
        if parts is None:
            return None
        account, kind, path, name = parts
        entity: UserRecord | RoleRecord | None = None
        if kind == "user":
            entity = self.stores.users.get_user(account, name)
        elif kind == "role":
            entity = self.stores.roles.get_role(account, name)
        return entity if entity is not None and entity.path == path else None

    def arn_of(self, unique_id: str) -> str | None:
        """The current ARN of the user or role with ``unique_id``; None once deleted."""
        if unique_id.startswith("AIDA"):
            user = self.stores.users.get_user_by_id(unique_id)
            return None if user is None else user.arn
        if unique_id.startswith("AROA"):
            role = self.stores.roles.get_role_by_id(unique_id)
            return None if role is None else role.arn
        return None
