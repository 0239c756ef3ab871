"""Accounts and Organizations, administered from the data dir (CLI and scenario files).

These operations are not AWS API calls: whoever can open the data dir administers it, so
they are not authorized by the policy engine. An account is created with its root user's
access key; an organization with its root (``r-...``); OUs (``ou-...``) along a path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from crossdock.core.arn import require_account_id
from crossdock.core.errors import AccountIdError
from crossdock.policy.lint import PolicyKind
from crossdock.service.errors import AlreadyExistsError, InvalidParameterError
from crossdock.service.iam_common import check_policy_document, quota_error
from crossdock.service.identity_ids import new_access_key_id, new_org_suffix, new_secret_access_key
from crossdock.service.principal_policies import FULL_AWS_ACCESS
from crossdock.storage.identity_store import (
    AccessKeyRecord,
    AccountRecord,
    EntityExistsError,
    IdentityStores,
    OrganizationRecord,
    OrgUnitRecord,
    QuotaExceededError,
    ScpRecord,
)
from crossdock.storage.secrets import SecretBox

ROOT_KEYS_PER_ACCOUNT = 2
ORG_ID = re.compile(r"o-[a-z0-9]{10,32}")
ROOT_ID = re.compile(r"r-[0-9a-z]{4,32}")
OU_ID = re.compile(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}")


def full_access_id(org_id: str) -> str:
    """The id of an organization's FullAWSAccess SCP (attached to every new node, as AWS
    does; detach it to keep only an allow list)."""
    return f"p-FullAWSAccess-{org_id}"


_FIXED_KEY_ID = re.compile(r"AKIA[A-Z0-9]{16}")
_FIXED_SECRET = re.compile(r"\S{16,128}")


@dataclass(frozen=True, slots=True)
class RootKey:
    """An account with one of its root user's access keys (and the key's secret)."""

    account_id: str
    access_key_id: str
    secret_access_key: str


def parse_ou_path(value: str) -> tuple[str, tuple[str, ...]]:
    """``r-xxxx/ou-xxxx-yyyyyyyy/...`` → (root id, OU ids); InvalidParameterError if bad."""
    parts = [part for part in value.strip().split("/") if part]
    if not parts or not ROOT_ID.fullmatch(parts[0]):
        raise InvalidParameterError(
            f"`{value}` is not an OU path: start with the root id, e.g. r-ab12/ou-ab12-11111111/"
        )
    for part in parts[1:]:
        if not OU_ID.fullmatch(part):
            raise InvalidParameterError(
                f"`{part}` in `{value}` is not an OU id (ou-<4-32 lowercase alphanumerics>-<8-32>)"
            )
    return parts[0], tuple(parts[1:])


@dataclass(frozen=True, slots=True)
class AccountAdmin:
    """Creates accounts (with root keys), organizations, OUs and SCPs."""

    stores: IdentityStores
    box: SecretBox
    clock: Callable[[], datetime]

    def create_account(
        self,
        account_id: str,
        org_id: str | None = None,
        ou_path: str | None = None,
        *,
        exist_ok: bool = False,
    ) -> RootKey:
        """Create an account and a root access key; with ``exist_ok`` an existing account
        answers with its first active root key (a new one only when it has none)."""
        try:
            require_account_id(account_id)
        except AccountIdError as error:
            raise InvalidParameterError(str(error)) from error
        if self.stores.accounts.get_account(account_id) is None:
            org, parent = self._placement(org_id, ou_path)
            record = AccountRecord(account_id, org, parent, self.clock())
            try:
                self.stores.accounts.create_account(record)
            except EntityExistsError:
                pass  # created meanwhile by another process: treat as existing
            else:
                if org is not None:
                    self.stores.accounts.attach_scp(full_access_id(org), account_id)
                return self.create_root_key(account_id)
        if not exist_ok:
            raise AlreadyExistsError(
                f"the account `{account_id}` exists already: pass --if-not-exists to reuse it",
                code="EntityAlreadyExists",
            )
        return self._existing_root_key(account_id)

    def _placement(self, org_id: str | None, ou_path: str | None) -> tuple[str | None, str | None]:
        if org_id is None:
            if ou_path is not None:
                raise InvalidParameterError("--ou-path needs --org-id")
            return None, None
        if not ORG_ID.fullmatch(org_id):
            raise InvalidParameterError(
                f"`{org_id}` is not an organization id (o- and 10-32 lowercase alphanumerics)"
            )
        root_id, units = parse_ou_path(ou_path) if ou_path is not None else (None, ())
        org = self.ensure_organization(org_id, root_id)
        parent = org.root_id
        for unit in units:
            self._ensure_unit(org, unit, parent)
            parent = unit
        return org.org_id, parent

    def ensure_organization(
        self, org_id: str, root_id: str | None = None, management_account_id: str | None = None
    ) -> OrganizationRecord:
        """The organization ``org_id``, created (with a root) when it does not exist."""
        existing = self.stores.accounts.get_organization(org_id)
        if existing is None:
            root = root_id or f"r-{new_org_suffix(4)}"
            record = OrganizationRecord(org_id, root, management_account_id, self.clock())
            try:
                self.stores.accounts.create_organization(record)
            except EntityExistsError:
                existing = self.stores.accounts.get_organization(org_id)
                if existing is None:
                    raise InvalidParameterError(
                        f"the root id `{root}` belongs to another organization"
                    ) from None
            else:
                self.stores.accounts.put_scp(
                    ScpRecord(full_access_id(org_id), org_id, "FullAWSAccess", FULL_AWS_ACCESS)
                )
                self.stores.accounts.attach_scp(full_access_id(org_id), root)
                return record
        if root_id is not None and existing.root_id != root_id:
            raise InvalidParameterError(
                f"the organization `{org_id}` has the root `{existing.root_id}`, not `{root_id}`"
            )
        return existing

    def _ensure_unit(self, org: OrganizationRecord, ou_id: str, parent_id: str) -> None:
        unit = self.stores.accounts.get_org_unit(ou_id)
        if unit is None:
            try:
                self.stores.accounts.create_org_unit(
                    OrgUnitRecord(ou_id, org.org_id, parent_id, ou_id)
                )
            except EntityExistsError:
                unit = self.stores.accounts.get_org_unit(ou_id)
            else:
                self.stores.accounts.attach_scp(full_access_id(org.org_id), ou_id)
        if unit is not None and (unit.org_id != org.org_id or unit.parent_id != parent_id):
            raise InvalidParameterError(
                f"the OU `{ou_id}` exists under `{unit.parent_id}` in `{unit.org_id}`"
            )

    def create_root_key(self, account_id: str) -> RootKey:
        """A new access key for the account's root user (at most two)."""
        secret = new_secret_access_key()
        key = AccessKeyRecord(
            access_key_id=new_access_key_id(),
            account_id=account_id,
            user_id=None,
            secret_sealed=self.box.seal(secret),
            status="Active",
            created_at=self.clock(),
        )
        try:
            self.stores.keys.add_access_key(key, ROOT_KEYS_PER_ACCOUNT)
        except QuotaExceededError as error:
            raise quota_error(error, "AccessKeysPerUser") from error
        return RootKey(account_id, key.access_key_id, secret)

    def import_access_key(
        self, account_id: str, user_id: str | None, access_key_id: str, secret: str
    ) -> bool:
        """Store a fixed access key for the root user (``user_id`` None) or a user.

        Scenario files use this so that tests and CI know their credentials in advance.
        Returns False when the key is already there for the same owner.
        """
        if not _FIXED_KEY_ID.fullmatch(access_key_id):
            raise InvalidParameterError(
                f"`{access_key_id}` is not an access key id: use AKIA and 16 of A-Z, 0-9"
            )
        if not _FIXED_SECRET.fullmatch(secret):
            raise InvalidParameterError(
                f"the secret of `{access_key_id}` must be 16 to 128 characters with no spaces"
            )
        existing = self.stores.keys.get_access_key(access_key_id)
        if existing is not None:
            if existing.account_id != account_id or existing.user_id != user_id:
                raise InvalidParameterError(f"`{access_key_id}` already belongs to someone else")
            return False
        key = AccessKeyRecord(
            access_key_id=access_key_id,
            account_id=account_id,
            user_id=user_id,
            secret_sealed=self.box.seal(secret),
            status="Active",
            created_at=self.clock(),
        )
        try:
            self.stores.keys.add_access_key(key, ROOT_KEYS_PER_ACCOUNT)
        except QuotaExceededError as error:
            raise quota_error(error, "AccessKeysPerUser") from error
        return True

    def _existing_root_key(self, account_id: str) -> RootKey:
        for key in self.stores.keys.list_access_keys(account_id, None):
            if key.status == "Active":
                secret = self.box.open(key.secret_sealed)
                return RootKey(account_id, key.access_key_id, secret)
        return self.create_root_key(account_id)

    def put_scp(
        self, org_id: str, policy_id: str, name: str, document: str, targets: Sequence[str] = ()
    ) -> ScpRecord:
        """Add or replace an SCP and attach it to root, OU or account ids."""
        check_policy_document(document, PolicyKind.SCP)
        scp = ScpRecord(policy_id, org_id, name, document)
        self.stores.accounts.put_scp(scp)
        for target in targets:
            self.stores.accounts.attach_scp(policy_id, target)
        return scp
