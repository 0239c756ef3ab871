"""The scenario file: accounts, an organization with SCPs, IAM entities and repositories.

``load_scenario`` reads the decoded YAML into frozen values, checking shapes and names and
reporting the first problem with its path (``accounts[1].users[0].name``). Applying a
scenario is ``service.scenario``'s job. The format is documented in docs/scenarios.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from crossdock.core.arn import is_account_id
from crossdock.core.errors import CrossdockError


class ScenarioError(CrossdockError, ValueError):
    """A scenario file is malformed; ``path`` locates the problem."""

    def __init__(self, message: str, path: str) -> None:
        self.path = path
        super().__init__(f"{path or 'scenario'}: {message}")


@dataclass(frozen=True, slots=True)
class NamedDocument:
    """A named policy document (inline policy, managed policy or SCP), as JSON text."""

    name: str
    document: str


@dataclass(frozen=True, slots=True)
class AccessKeySpec:
    """A fixed access key, so tests and CI know the credentials in advance."""

    access_key_id: str
    secret_access_key: str


@dataclass(frozen=True, slots=True)
class UserSpec:
    """An IAM user."""

    name: str
    path: str = "/"
    tags: tuple[tuple[str, str], ...] = ()
    groups: tuple[str, ...] = ()
    policies: tuple[NamedDocument, ...] = ()
    managed_policies: tuple[str, ...] = ()
    permissions_boundary: str | None = None
    access_keys: tuple[AccessKeySpec, ...] = ()


@dataclass(frozen=True, slots=True)
class GroupSpec:
    """An IAM group."""

    name: str
    path: str = "/"
    policies: tuple[NamedDocument, ...] = ()
    managed_policies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RoleSpec:
    """An IAM role with its trust policy."""

    name: str
    trust_policy: str
    path: str = "/"
    description: str = ""
    max_session_duration: int = 3600
    tags: tuple[tuple[str, str], ...] = ()
    policies: tuple[NamedDocument, ...] = ()
    managed_policies: tuple[str, ...] = ()
    permissions_boundary: str | None = None


@dataclass(frozen=True, slots=True)
class RepositorySpec:
    """An ECR repository, optionally with its repository policy."""

    name: str
    region: str | None = None
    tag_mutability: str = "MUTABLE"
    tags: tuple[tuple[str, str], ...] = ()
    policy: str | None = None


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """An account and everything in it."""

    account_id: str
    root_access_keys: tuple[AccessKeySpec, ...] = ()
    scps: tuple[NamedDocument, ...] = ()
    managed_policies: tuple[NamedDocument, ...] = ()
    users: tuple[UserSpec, ...] = ()
    groups: tuple[GroupSpec, ...] = ()
    roles: tuple[RoleSpec, ...] = ()
    repositories: tuple[RepositorySpec, ...] = ()


@dataclass(frozen=True, slots=True)
class UnitSpec:
    """An organizational unit, its SCPs, member accounts and child units."""

    ou_id: str
    name: str
    scps: tuple[NamedDocument, ...] = ()
    accounts: tuple[str, ...] = ()
    units: tuple[UnitSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class OrganizationSpec:
    """The organization: its id, root id, root SCPs, units and accounts under the root."""

    org_id: str
    root_id: str
    scps: tuple[NamedDocument, ...] = ()
    accounts: tuple[str, ...] = ()
    units: tuple[UnitSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class Scenario:
    """A whole scenario file."""

    accounts: tuple[AccountSpec, ...]
    organization: OrganizationSpec | None = None


_T = TypeVar("_T")


class _Reader:
    """Walks the decoded YAML, remembering where it is for error messages."""

    def __init__(self, value: Any, path: str) -> None:
        self.value = value
        self.path = path

    def mapping(self, allowed: tuple[str, ...]) -> Mapping[str, Any]:
        if not isinstance(self.value, dict):
            raise ScenarioError("expected a mapping", self.path)
        unknown = sorted(set(self.value) - set(allowed))
        if unknown:
            raise ScenarioError(
                f"unknown key `{unknown[0]}` (allowed: {', '.join(allowed)})", self.path
            )
        return self.value

    def child(self, key: str) -> _Reader:
        value = self.value.get(key) if isinstance(self.value, dict) else None
        return _Reader(value, f"{self.path}.{key}" if self.path else key)

    def text(self, key: str, default: str | None = None) -> str:
        value = self.child(key).value
        if value is None and default is not None:
            return default
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # an account id written without quotes
        if not isinstance(value, str) or not value:
            raise ScenarioError("expected a non-empty string", self.child(key).path)
        return value

    def optional_text(self, key: str) -> str | None:
        return None if self.child(key).value is None else self.text(key)

    def items(self, key: str, read: Callable[[_Reader], _T]) -> tuple[_T, ...]:
        node = self.child(key)
        if node.value is None:
            return ()
        if not isinstance(node.value, list):
            raise ScenarioError("expected a list", node.path)
        return tuple(read(_Reader(item, f"{node.path}[{i}]")) for i, item in enumerate(node.value))

    def tags(self, key: str) -> tuple[tuple[str, str], ...]:
        node = self.child(key)
        if node.value is None:
            return ()
        if not isinstance(node.value, dict):
            raise ScenarioError("expected a mapping of tag keys to values", node.path)
        return tuple((str(k), str(v)) for k, v in node.value.items())

    def document(self, key: str) -> str:
        node = self.child(key)
        if isinstance(node.value, str):
            return node.value
        if not isinstance(node.value, dict):
            raise ScenarioError("expected a policy document (a mapping or JSON text)", node.path)
        return json.dumps(node.value, indent=2)

    def integer(self, key: str, default: int) -> int:
        value = self.child(key).value
        if value is None:
            return default
        if not isinstance(value, int) or isinstance(value, bool):
            raise ScenarioError("expected a whole number", self.child(key).path)
        return value


def _account_id(reader: _Reader) -> str:
    value = reader.value
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not is_account_id(text):
        shown = json.dumps(value) if isinstance(value, str | int) else type(value).__name__
        raise ScenarioError(f"{shown} is not a 12-digit account id (quote it in YAML)", reader.path)
    return text


def _named(reader: _Reader) -> NamedDocument:
    reader.mapping(("name", "document"))
    return NamedDocument(reader.text("name"), reader.document("document"))


def _key(reader: _Reader) -> AccessKeySpec:
    reader.mapping(("id", "secret"))
    return AccessKeySpec(reader.text("id"), reader.text("secret"))


def _names(reader: _Reader) -> str:
    if not isinstance(reader.value, str) or not reader.value:
        raise ScenarioError("expected a name", reader.path)
    return reader.value


def _user(reader: _Reader) -> UserSpec:
    reader.mapping(
        (
            "name",
            "path",
            "tags",
            "groups",
            "policies",
            "managed_policies",
            "permissions_boundary",
            "access_keys",
        )
    )
    return UserSpec(
        name=reader.text("name"),
        path=reader.text("path", "/"),
        tags=reader.tags("tags"),
        groups=reader.items("groups", _names),
        policies=reader.items("policies", _named),
        managed_policies=reader.items("managed_policies", _names),
        permissions_boundary=reader.optional_text("permissions_boundary"),
        access_keys=reader.items("access_keys", _key),
    )


def _group(reader: _Reader) -> GroupSpec:
    reader.mapping(("name", "path", "policies", "managed_policies"))
    return GroupSpec(
        name=reader.text("name"),
        path=reader.text("path", "/"),
        policies=reader.items("policies", _named),
        managed_policies=reader.items("managed_policies", _names),
    )


def _role(reader: _Reader) -> RoleSpec:
    reader.mapping(
        (
            "name",
            "path",
            "description",
            "trust_policy",
            "max_session_duration",
            "tags",
            "policies",
            "managed_policies",
            "permissions_boundary",
        )
    )
    return RoleSpec(
        name=reader.text("name"),
        trust_policy=reader.document("trust_policy"),
        path=reader.text("path", "/"),
        description=reader.optional_text("description") or "",
        max_session_duration=reader.integer("max_session_duration", 3600),
        tags=reader.tags("tags"),
        policies=reader.items("policies", _named),
        managed_policies=reader.items("managed_policies", _names),
        permissions_boundary=reader.optional_text("permissions_boundary"),
    )


def _repository(reader: _Reader) -> RepositorySpec:
    reader.mapping(("name", "region", "tag_mutability", "tags", "policy"))
    policy = None if reader.child("policy").value is None else reader.document("policy")
    return RepositorySpec(
        name=reader.text("name"),
        region=reader.optional_text("region"),
        tag_mutability=reader.text("tag_mutability", "MUTABLE"),
        tags=reader.tags("tags"),
        policy=policy,
    )


def _account(reader: _Reader) -> AccountSpec:
    reader.mapping(
        (
            "id",
            "root_access_keys",
            "scps",
            "managed_policies",
            "users",
            "groups",
            "roles",
            "repositories",
        )
    )
    return AccountSpec(
        account_id=_account_id(reader.child("id")),
        root_access_keys=reader.items("root_access_keys", _key),
        scps=reader.items("scps", _named),
        managed_policies=reader.items("managed_policies", _named),
        users=reader.items("users", _user),
        groups=reader.items("groups", _group),
        roles=reader.items("roles", _role),
        repositories=reader.items("repositories", _repository),
    )


def _unit(reader: _Reader) -> UnitSpec:
    reader.mapping(("id", "name", "scps", "accounts", "units"))
    return UnitSpec(
        ou_id=reader.text("id"),
        name=reader.text("name", reader.text("id")),
        scps=reader.items("scps", _named),
        accounts=reader.items("accounts", _account_id),
        units=reader.items("units", _unit),
    )


def _organization(reader: _Reader) -> OrganizationSpec:
    reader.mapping(("id", "root", "scps", "accounts", "units"))
    return OrganizationSpec(
        org_id=reader.text("id"),
        root_id=reader.text("root"),
        scps=reader.items("scps", _named),
        accounts=reader.items("accounts", _account_id),
        units=reader.items("units", _unit),
    )


def load_scenario(data: Any) -> Scenario:
    """Read a decoded scenario document; raise ScenarioError naming the first problem."""
    root = _Reader(data, "")
    root.mapping(("accounts", "organization"))
    accounts = root.items("accounts", _account)
    org_node = root.child("organization")
    organization = None if org_node.value is None else _organization(org_node)
    seen: set[str] = set()
    for index, account in enumerate(accounts):
        if account.account_id in seen:
            raise ScenarioError(
                f"account {account.account_id} is declared twice", f"accounts[{index}].id"
            )
        seen.add(account.account_id)
    return Scenario(accounts, organization)
