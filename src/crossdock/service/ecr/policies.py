"""SetRepositoryPolicy, GetRepositoryPolicy, DeleteRepositoryPolicy, and the lookup that
hands repository policies to the authorizer.

Validation follows ECR (spec §5.1). User and role principals are bound to the entity's
unique id when the policy is saved: the authorizer sees the unique id, so a deleted and
recreated user with the same name no longer matches, and GetRepositoryPolicy then shows
the raw id, as AWS does. ``NotPrincipal`` values stay ARNs (their entities must exist when
the policy is saved, like every principal).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crossdock.core.arn import account_principal, is_account_id
from crossdock.policy.errors import PolicyParseError
from crossdock.policy.findings import PolicyKind, Severity
from crossdock.policy.lint import lint_policy
from crossdock.policy.parse import load_policy_json
from crossdock.service.authz import Authorizer, PolicyDocument, ResourceInfo
from crossdock.service.directory import PrincipalDirectory
from crossdock.service.ecr.common import Actor, authorize, repository_ref
from crossdock.service.ecr.errors import RepositoryPolicyNotFoundError, invalid_parameter
from crossdock.service.ecr.policy_text import (
    aws_principal_values,
    jackson_dumps,
    rewrite_principals,
)
from crossdock.service.ecr.repositories import RepositoryService
from crossdock.service.ecr.stores import EcrStores
from crossdock.service.errors import InvalidParameterError
from crossdock.storage.registry_store import PolicyBinding

MAX_POLICY_LENGTH = 10_240
_INVALID = "Invalid repository policy provided"
_NOT_FOUND = "Principal not found"


def _rejected(reason: str) -> InvalidParameterError:
    return invalid_parameter("PolicyText", reason)


@dataclass(frozen=True, slots=True)
class StoredPolicy:
    """What Set/Get/DeleteRepositoryPolicy return."""

    registry_id: str
    repository_name: str
    policy_text: str


@dataclass(frozen=True, slots=True)
class ValidatedPolicy:
    """A policy ready to store: its text, its evaluated form, and its bindings."""

    text: str
    evaluated: str
    bindings: tuple[PolicyBinding, ...]


def _bound_kind(value: str) -> bool:
    parts = value.split(":", 5)
    return (
        len(parts) == 6
        and parts[0] == "arn"
        and parts[2] == "iam"
        and (parts[5].startswith("user/") or parts[5].startswith("role/"))
    )


def validate_repository_policy(text: str, directory: PrincipalDirectory) -> ValidatedPolicy:
    """Check ``text`` as ECR does; raise InvalidParameterError with ECR's reason."""
    if len(text) > MAX_POLICY_LENGTH:
        raise _rejected(f"Member must have length less than or equal to {MAX_POLICY_LENGTH}")
    try:
        raw = load_policy_json(text)
    except PolicyParseError:
        raise _rejected(_INVALID) from None
    if not isinstance(raw, dict) or raw.get("Statement") in (None, [], {}):
        raise _rejected(_INVALID)
    findings = lint_policy(raw, PolicyKind.REPOSITORY)
    if any(f.severity is Severity.ERROR for f in findings):
        raise _rejected(_INVALID)
    bindings: dict[str, str] = {}
    for value in aws_principal_values(raw):
        account = account_principal(value)
        if value == "*":
            continue
        if account is not None:
            if not directory.account_exists(account):
                raise _rejected(_NOT_FOUND)
            continue
        parts = value.split(":", 5)
        if len(parts) != 6 or not is_account_id(parts[4]):
            raise _rejected(_INVALID)
        if _bound_kind(value):
            unique_id = directory.unique_id(value)
            if unique_id is None:
                raise _rejected(_NOT_FOUND)
            bindings[value] = unique_id
        elif not directory.account_exists(parts[4]):
            raise _rejected(_NOT_FOUND)

    def to_root(value: str) -> str:
        return f"arn:aws:iam::{value}:root" if is_account_id(value) else value

    stored = rewrite_principals(raw, to_root, include_not_principal=True)
    evaluated = rewrite_principals(
        stored, lambda v: bindings.get(v, v), include_not_principal=False
    )
    return ValidatedPolicy(
        text=jackson_dumps(stored),
        evaluated=jackson_dumps(evaluated),
        bindings=tuple(PolicyBinding(arn, uid) for arn, uid in bindings.items()),
    )


class PolicyService:
    """Repository policies, each call authorized first."""

    def __init__(
        self,
        stores: EcrStores,
        authorizer: Authorizer,
        directory: PrincipalDirectory,
        repositories: RepositoryService,
    ) -> None:
        self._stores = stores
        self._authorizer = authorizer
        self._directory = directory
        self._repositories = repositories

    def set_policy(
        self, actor: Actor, registry_id: str | None, name: str, text: str
    ) -> StoredPolicy:
        """SetRepositoryPolicy: validate, bind principals, store (the old policy stays on
        any failure)."""
        ref = repository_ref(actor, registry_id, name)
        authorize(self._authorizer, actor, "ecr:SetRepositoryPolicy", ref.arn)
        record = self._repositories.require(ref)
        policy = validate_repository_policy(text, self._directory)
        self._stores.repositories.set_policy(
            record.id, policy.text, policy.evaluated, policy.bindings
        )
        return StoredPolicy(ref.registry_id, ref.name, policy.text)

    def get_policy(self, actor: Actor, registry_id: str | None, name: str) -> StoredPolicy:
        """GetRepositoryPolicy: the stored text, deleted principals shown as their ids."""
        ref = repository_ref(actor, registry_id, name)
        authorize(self._authorizer, actor, "ecr:GetRepositoryPolicy", ref.arn)
        record = self._repositories.require(ref)
        if record.policy_text is None:
            raise RepositoryPolicyNotFoundError(ref.name, ref.registry_id)
        text = self._current_text(record.id, record.policy_text)
        return StoredPolicy(ref.registry_id, ref.name, text)

    def delete_policy(self, actor: Actor, registry_id: str | None, name: str) -> StoredPolicy:
        """DeleteRepositoryPolicy: remove it and return the removed text."""
        ref = repository_ref(actor, registry_id, name)
        authorize(self._authorizer, actor, "ecr:DeleteRepositoryPolicy", ref.arn)
        record = self._repositories.require(ref)
        if record.policy_text is None:
            raise RepositoryPolicyNotFoundError(ref.name, ref.registry_id)
        text = self._current_text(record.id, record.policy_text)
        if self._stores.repositories.delete_policy(record.id) is None:
            raise RepositoryPolicyNotFoundError(ref.name, ref.registry_id)
        return StoredPolicy(ref.registry_id, ref.name, text)

    def _current_text(self, repository_id: int, text: str) -> str:
        bindings = self._stores.repositories.policy_bindings(repository_id)
        gone = {
            b.arn: b.unique_id for b in bindings if self._directory.arn_of(b.unique_id) != b.arn
        }
        if not gone:
            return text
        raw: Any = load_policy_json(text)
        return jackson_dumps(
            rewrite_principals(raw, lambda v: gone.get(v, v), include_not_principal=True)
        )


class RepositoryLookup:
    """The authorizer's :class:`~crossdock.service.authz.ResourceLookup` for ECR ARNs.

    One indexed query (plus tags) per call: it runs on every ECR call and every pull.
    """

    def __init__(self, stores: EcrStores) -> None:
        self._stores = stores

    def resource(self, resource_arn: str) -> ResourceInfo | None:
        """Owner, evaluated repository policy and tags of a repository ARN."""
        parts = resource_arn.split(":", 5)
        if len(parts) != 6 or not parts[5].startswith("repository/"):
            return None
        name = parts[5][len("repository/") :]
        if "*" in name:  # ``repository/*`` (DescribeRepositories) names no repository
            return None
        record = self._stores.repositories.get_repository(parts[4], parts[3], name)
        if record is None:
            return None
        policy = None
        if record.policy_eval is not None:
            policy = PolicyDocument(f"{resource_arn} repository policy", record.policy_eval)
        return ResourceInfo(resource_arn, record.account_id, policy, record.tags)
