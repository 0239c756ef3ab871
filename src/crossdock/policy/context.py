"""The request being authorized: who, what, on which resource, with which context keys."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from crossdock.core.arn import Arn, is_account_id
from crossdock.core.errors import ArnError
from crossdock.policy.variables import Context, ContextValue

_PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
_SERVICE_PRINCIPAL = re.compile(r"^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(\.cn)?$")
_TRUST_ACTIONS = frozenset(
    {"sts:assumerole", "sts:assumerolewithsaml", "sts:assumerolewithwebidentity"}
)


class PrincipalKind(Enum):
    """What kind of identity is calling."""

    ROOT = "Account"
    USER = "User"
    ROLE = "Role"
    ASSUMED_ROLE = "AssumedRole"
    FEDERATED_USER = "FederatedUser"
    SERVICE = "Service"


class PrincipalError(ValueError):
    """A string does not name a principal that can make a request."""


@dataclass(frozen=True, slots=True)
class Caller:
    """The calling principal with every identity it can be matched by.

    ``arn`` is the caller's own ARN (the session ARN for a role session);
    ``role_arn`` is the role, with its path, for ``ROLE`` and ``ASSUMED_ROLE``.
    ``unique_ids`` are the stored ids (``AIDA...``) that bound principals match directly;
    ``role_id`` is the session's role id (``AROA...``), which matches as a role grant.
    ``permissions_boundary`` tells whether a boundary is attached to the user or role.
    """

    arn: str
    kind: PrincipalKind
    account: str
    partition: str = "aws"
    role_arn: str | None = None
    unique_ids: frozenset[str] = frozenset()
    permissions_boundary: bool = False
    role_id: str | None = None

    @property
    def root_arn(self) -> str:
        """The ARN that stands for the caller's whole account."""
        return f"arn:{self.partition}:iam::{self.account}:root"

    @property
    def identity_owner(self) -> str:
        """The ARN whose identity policies apply: the role for sessions, else the caller."""
        return self.role_arn if self.role_arn is not None else self.arn

    def identities(self) -> frozenset[str]:
        """Every ARN that names this caller, as ``NotPrincipal`` must list them all."""
        names = {self.arn}
        if self.kind is not PrincipalKind.SERVICE:
            names.add(self.root_arn)
        if self.role_arn is not None:
            names.add(self.role_arn)
        return frozenset(names)

    @classmethod
    def parse(cls, value: str, principal_arn_key: str | None = None) -> Caller:
        """Read a caller ARN (user, role, assumed-role session, federated user, root) or a
        service principal name.

        ``principal_arn_key`` is the request's ``aws:PrincipalArn``: for a session it
        carries the role's path, which the session ARN omits.
        """
        if _SERVICE_PRINCIPAL.match(value):
            return cls(arn=value, kind=PrincipalKind.SERVICE, account="")
        try:
            arn = Arn.parse(value)
        except ArnError as error:
            raise PrincipalError(str(error)) from error
        if arn.partition not in _PARTITIONS or not is_account_id(arn.account):
            raise PrincipalError(f"`{value}` is not a principal ARN with a 12-digit account id")
        kind, role_arn = _classify(arn, principal_arn_key)
        return cls(value, kind, arn.account, arn.partition, role_arn)


def _classify(arn: Arn, principal_arn_key: str | None) -> tuple[PrincipalKind, str | None]:
    service, resource = arn.service, arn.resource
    if service == "iam" and resource == "root":
        return PrincipalKind.ROOT, None
    if service == "iam" and resource.startswith("user/") and len(resource) > 5:
        return PrincipalKind.USER, None
    if service == "iam" and resource.startswith("role/") and len(resource) > 5:
        return PrincipalKind.ROLE, str(arn)
    if service == "sts" and resource.startswith("assumed-role/"):
        parts = resource.split("/")
        if len(parts) == 3 and all(parts):
            role_arn = f"arn:{arn.partition}:iam::{arn.account}:role/{parts[1]}"
            if principal_arn_key and _same_role(principal_arn_key, role_arn):
                role_arn = principal_arn_key
            return PrincipalKind.ASSUMED_ROLE, role_arn
    if service == "sts" and resource.startswith("federated-user/") and len(resource) > 15:
        return PrincipalKind.FEDERATED_USER, None
    raise PrincipalError(
        f"`{arn}` is not a user, role, assumed-role session, federated user or root ARN"
    )


def _same_role(candidate: str, pathless: str) -> bool:
    prefix, _, name = pathless.rpartition("/")
    return candidate.startswith(prefix + "/") and candidate.rsplit("/", 1)[-1] == name


def normalize_context(raw: Mapping[str, ContextValue]) -> dict[str, ContextValue]:
    """Key the context by lower-cased key: condition keys match case-insensitively."""
    return {key.lower(): value for key, value in raw.items()}


@dataclass(frozen=True, slots=True)
class Request:
    """One authorization question. ``resource`` is an ARN or ``"*"``."""

    caller: Caller
    action: str
    resource: str
    context: Context = field(default_factory=dict)

    @property
    def resource_account(self) -> str:
        """The account that owns the resource; the caller's own for ``"*"``."""
        if self.resource != "*":
            parts = self.resource.split(":", 5)
            if len(parts) == 6 and parts[4]:
                return parts[4]
        return self.caller.account

    @property
    def same_account(self) -> bool:
        """True when the caller's account owns the resource."""
        return self.caller.account == self.resource_account

    @property
    def is_trust_request(self) -> bool:
        """True for the sts:AssumeRole family, whose resource policy is a role trust policy."""
        return self.action.lower() in _TRUST_ACTIONS
