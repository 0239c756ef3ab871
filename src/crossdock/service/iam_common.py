"""What every IAM operation shares: authorization, lookups, validation and AWS's errors.

IAM error codes (spec §4.8): NoSuchEntity 404, EntityAlreadyExists 409, LimitExceeded 409,
DeleteConflict 409, MalformedPolicyDocument 400, InvalidInput 400, ValidationError 400.
Messages follow the ones AWS returns; the Query protocol's error table sets the status.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from crossdock.auth.principal import Principal
from crossdock.policy.context import PrincipalKind
from crossdock.policy.errors import PolicyParseError
from crossdock.policy.findings import Severity
from crossdock.policy.lint import PolicyKind, lint_policy_text
from crossdock.policy.parse import parse_policy_text
from crossdock.policy.variables import ContextValue
from crossdock.service.authz import Authorizer, RequestInfo
from crossdock.service.directory import PrincipalDirectory
from crossdock.service.errors import (
    AlreadyExistsError,
    ConflictError,
    InvalidParameterError,
    MalformedPolicyError,
    NotFoundError,
)
from crossdock.storage.identity_store import (
    Bindings,
    EntityExistsError,
    EntityInUseError,
    EntityMissingError,
    GroupRecord,
    IdentityStores,
    InUseReason,
    ManagedPolicyRecord,
    QuotaExceededError,
    RoleRecord,
    Tags,
    UserRecord,
    iam_arn,
)

NO_SUCH_ENTITY = "NoSuchEntity"
ENTITY_ALREADY_EXISTS = "EntityAlreadyExists"
LIMIT_EXCEEDED = "LimitExceeded"
DELETE_CONFLICT = "DeleteConflict"
INVALID_INPUT = "InvalidInput"
VALIDATION_ERROR = "ValidationError"

ACCESS_KEYS_PER_USER = 2
POLICIES_PER_ENTITY = 10
TAGS_PER_ENTITY = 50
INLINE_LIMITS = MappingProxyType({"user": 2_048, "group": 5_120, "role": 10_240})
MANAGED_POLICY_LIMIT = 6_144
TRUST_POLICY_LIMIT = 2_048

_IGNORED_FINDINGS = frozenset({"POLICY_TOO_LARGE", "UNKNOWN_ACTION", "NON_REPOSITORY_ACTION"})
"""IAM sizes policies itself (LimitExceeded) and accepts action names it does not know."""

_AWS_TEXT = {
    "INVALID_JSON": "Syntax errors in policy.",
    "PRINCIPAL_NOT_ALLOWED": "Policy document should not specify a principal.",
    "RESOURCE_IN_TRUST_POLICY": "Has prohibited field Resource",
}
"""MalformedPolicyDocument messages as AWS words them, where that wording is known."""

_IN_USE_TEXT = {
    InUseReason.ACCESS_KEYS: "Cannot delete entity, must delete access keys first.",
    InUseReason.INLINE_POLICIES: "Cannot delete entity, must delete policies first.",
    InUseReason.ATTACHED_POLICIES: "Cannot delete entity, must detach all policies first.",
    InUseReason.GROUP_MEMBERSHIPS: "Cannot delete entity, must remove user from all groups first.",
    InUseReason.GROUP_MEMBERS: "Cannot delete entity, must remove users from group first.",
    InUseReason.POLICY_ATTACHMENTS: "Cannot delete a policy attached to entities.",
    InUseReason.BOUNDARY_USE: "Cannot delete a policy attached to entities.",
}


def no_such_entity(message: str) -> NotFoundError:
    """IAM's NoSuchEntity (404)."""
    return NotFoundError(message, code=NO_SUCH_ENTITY)


def validation_error(message: str) -> InvalidParameterError:
    """IAM's ValidationError (400)."""
    return InvalidParameterError(message, code=VALIDATION_ERROR)


def invalid_input(message: str) -> InvalidParameterError:
    """IAM's InvalidInput (400)."""
    return InvalidParameterError(message, code=INVALID_INPUT)


def limit_exceeded(message: str) -> ConflictError:
    """IAM's LimitExceeded (409)."""
    return ConflictError(message, code=LIMIT_EXCEEDED)


def delete_conflict(reason: InUseReason) -> ConflictError:
    """IAM's DeleteConflict (409) for ``reason``."""
    return ConflictError(_IN_USE_TEXT[reason], code=DELETE_CONFLICT)


@dataclass(frozen=True, slots=True)
class IamContext:
    """The store, the authorizer, the clock and the directory every IAM operation uses."""

    stores: IdentityStores
    authorizer: Authorizer
    clock: Callable[[], datetime]
    directory: PrincipalDirectory

    def require(
        self,
        principal: Principal,
        action: str,
        resource: str,
        info: RequestInfo,
        extra: Mapping[str, ContextValue] | None = None,
    ) -> None:
        """Authorize ``action`` on ``resource``; AccessDeniedError when denied."""
        self.authorizer.require(principal, action, resource, info, extra)

    # --- targets: look up, authorize on the ARN, then report a missing entity ----------

    def user(
        self,
        principal: Principal,
        info: RequestInfo,
        action: str,
        name: str,
        extra: Mapping[str, ContextValue] | None = None,
    ) -> UserRecord:
        """The user ``name`` of the caller's account, once ``action`` on it is allowed."""
        account = principal.account_id
        user = self.stores.users.get_user(account, name)
        arn = user.arn if user is not None else iam_arn(account, "user", "/", name)
        self.require(principal, action, arn, info, extra)
        if user is None:
            raise no_such_entity(f"The user with name {name} cannot be found.")
        return user

    def role(
        self,
        principal: Principal,
        info: RequestInfo,
        action: str,
        name: str,
        extra: Mapping[str, ContextValue] | None = None,
    ) -> RoleRecord:
        """The role ``name`` of the caller's account, once ``action`` on it is allowed."""
        account = principal.account_id
        role = self.stores.roles.get_role(account, name)
        arn = role.arn if role is not None else iam_arn(account, "role", "/", name)
        self.require(principal, action, arn, info, extra)
        if role is None:
            raise no_such_entity(f"The role with name {name} cannot be found.")
        return role

    def group(
        self,
        principal: Principal,
        info: RequestInfo,
        action: str,
        name: str,
        extra: Mapping[str, ContextValue] | None = None,
    ) -> GroupRecord:
        """The group ``name`` of the caller's account, once ``action`` on it is allowed."""
        account = principal.account_id
        group = self.stores.groups.get_group(account, name)
        arn = group.arn if group is not None else iam_arn(account, "group", "/", name)
        self.require(principal, action, arn, info, extra)
        if group is None:
            raise no_such_entity(f"The group with name {name} cannot be found.")
        return group

    def attachable_policy(self, arn: str) -> ManagedPolicyRecord:
        """The managed policy ``arn``; NoSuchEntity unless it exists and is attachable."""
        policy = self.stores.policies.get_managed(arn)
        if policy is None:
            raise no_such_entity(f"Policy {arn} does not exist or is not attachable.")
        return policy


def policy_arn_extra(arn: str) -> dict[str, ContextValue]:
    """The ``iam:PolicyARN`` condition key of attach and detach operations."""
    return {"iam:PolicyARN": arn}


def boundary_extra(arn: str | None) -> dict[str, ContextValue]:
    """The ``iam:PermissionsBoundary`` condition key, when a boundary is involved."""
    return {} if arn is None else {"iam:PermissionsBoundary": arn}


def tag_extra(tags: Tags) -> dict[str, ContextValue]:
    """``aws:RequestTag/<key>`` for each tag and ``aws:TagKeys``."""
    keys: dict[str, ContextValue] = {f"aws:RequestTag/{key}": value for key, value in tags}
    keys["aws:TagKeys"] = tuple(key for key, _ in tags)
    return keys


def self_user_name(principal: Principal, user_name: str | None) -> str | None:
    """The user an operation without ``UserName`` acts on: the calling user, or None for
    the root user; ValidationError for a role session."""
    if user_name is not None:
        return user_name
    if principal.kind is PrincipalKind.USER and principal.user_name is not None:
        return principal.user_name
    if principal.kind is PrincipalKind.ROOT:
        return None
    raise validation_error("Must specify userName when calling with non-User credentials")


@contextmanager
def store_errors(kind: str, name: str) -> Iterator[None]:
    """Turn the store's errors into IAM errors about the ``kind`` named ``name``."""
    try:
        yield
    except EntityExistsError as error:
        raise AlreadyExistsError(
            f"{kind.capitalize()} with name {name} already exists.", code=ENTITY_ALREADY_EXISTS
        ) from error
    except EntityInUseError as error:
        raise delete_conflict(error.reason) from error
    except EntityMissingError as error:
        raise no_such_entity(f"Policy {error.name} was not found.") from error


def quota_error(error: QuotaExceededError, quota: str) -> ConflictError:
    """LimitExceeded for a per-entity quota, as IAM words it."""
    return limit_exceeded(f"Cannot exceed quota for {quota}: {error.limit}")


# --- policy documents --------------------------------------------------------------------


def check_policy_document(text: str, kind: PolicyKind) -> None:
    """MalformedPolicyDocument for the first ERROR the engine's linter finds."""
    for finding in lint_policy_text(text, kind):
        if finding.severity is not Severity.ERROR or finding.code in _IGNORED_FINDINGS:
            continue
        message = _AWS_TEXT.get(finding.code)
        if message is None:
            where = f" (at {finding.path})" if finding.path else ""
            message = f"{finding.message}{where}"
        raise MalformedPolicyError(message)


@dataclass(frozen=True, slots=True)
class BoundTrust:
    """A valid trust policy's evaluated form: user and role principals bound to their ids."""

    evaluated: str | None
    bindings: Bindings


def check_trust_policy(text: str, directory: PrincipalDirectory) -> BoundTrust:
    """Validate a role trust policy as IAM does (structure, actions, principals) and bind
    its user and role principals to their unique ids."""
    check_policy_document(text, PolicyKind.TRUST)
    try:
        policy = parse_policy_text(text)
    except PolicyParseError as error:
        raise MalformedPolicyError("Syntax errors in policy.") from error
    bindings: dict[str, str] = {}
    for statement in policy.statements:
        actions = statement.action or statement.not_action or ()
        if statement.not_action is not None or any(
            not action.lower().startswith("sts:") for action in actions
        ):
            raise MalformedPolicyError("AssumeRole policy may only specify STS AssumeRole actions.")
        spec = statement.principal
        for kind, values in spec.entries if spec is not None else ():
            for value in values:
                if kind == "AWS" and _bound_kind(value):
                    unique_id = directory.unique_id(value)
                    if unique_id is None:
                        raise MalformedPolicyError(f'Invalid principal in policy: "AWS":"{value}"')
                    bindings[value] = unique_id
    evaluated = rewrite_principals(text, bindings) if bindings else None
    return BoundTrust(evaluated, tuple(bindings.items()))


def _bound_kind(value: str) -> bool:
    """True for a user or role ARN (the principals IAM binds to unique ids)."""
    parts = value.split(":", 5)
    return len(parts) == 6 and parts[2] == "iam" and parts[5].startswith(("user/", "role/"))


def rewrite_principals(text: str, mapping: Mapping[str, str]) -> str:
    """``text`` with each ``Principal.AWS`` value found in ``mapping`` replaced (compact
    JSON; only for documents that already passed validation)."""
    raw = json.loads(text)
    statements = raw["Statement"] if isinstance(raw["Statement"], list) else [raw["Statement"]]
    for statement in statements:
        principal = statement.get("Principal")
        if not isinstance(principal, dict) or "AWS" not in principal:
            continue
        values = principal["AWS"]
        if isinstance(values, list):
            principal["AWS"] = [mapping.get(v, v) for v in values]
        else:
            principal["AWS"] = mapping.get(values, values)
    return json.dumps(raw, separators=(",", ":"))


def displayed_trust(role: RoleRecord, directory: PrincipalDirectory) -> str:
    """The trust policy as GetRole shows it: as submitted, except that principals deleted
    since then appear as their unique ids."""
    gone = {arn: uid for arn, uid in role.trust_bindings if directory.arn_of(uid) != arn}
    return rewrite_principals(role.trust_policy, gone) if gone else role.trust_policy


def check_tags(tags: Sequence[tuple[str, str]]) -> Tags:
    """Reject duplicate keys (case-insensitively) and keys in the reserved ``aws:`` space."""
    seen: set[str] = set()
    for key, _ in tags:
        lower = key.lower()
        if lower in seen:
            raise invalid_input(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive."
            )
        if lower.startswith("aws:"):
            raise invalid_input("User-defined tag keys can't start with aws:.")
        seen.add(lower)
    return tuple(tags)


def check_path(path: str | None) -> str:
    """The entity path (``/`` by default); IAM's model already checked its pattern."""
    return "/" if path is None else path
