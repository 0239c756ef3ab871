"""The policy language as frozen values: Policy, Statement, PrincipalSpec, Condition.

These mirror the JSON elements one for one (AWS casing stays at the parser and the
serializer). Every multi-valued element is a tuple, whatever form the JSON used.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

VERSION_2012 = "2012-10-17"
VERSION_2008 = "2008-10-17"


class Effect(Enum):
    """The ``Effect`` of a statement."""

    ALLOW = "Allow"
    DENY = "Deny"


@dataclass(frozen=True, slots=True)
class PrincipalSpec:
    """A ``Principal`` or ``NotPrincipal`` value.

    ``star`` is the bare string ``"*"``; otherwise ``entries`` maps principal types
    (``AWS``, ``Service``, ``Federated``, ``CanonicalUser``) to their values, in
    document order.
    """

    star: bool
    entries: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def values(self, kind: str) -> tuple[str, ...]:
        """All values of one principal type (``AWS``, ``Service``, ...)."""
        found: tuple[str, ...] = ()
        for entry_kind, values in self.entries:
            if entry_kind == kind:
                found += values
        return found


@dataclass(frozen=True, slots=True)
class Condition:
    """One ``operator: {key: values}`` test; values are strings as IAM compares them."""

    operator: str
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement. Exactly one of each ``X`` / ``NotX`` pair is set, or neither."""

    index: int
    sid: str | None
    effect: Effect
    principal: PrincipalSpec | None = None
    not_principal: PrincipalSpec | None = None
    action: tuple[str, ...] | None = None
    not_action: tuple[str, ...] | None = None
    resource: tuple[str, ...] | None = None
    not_resource: tuple[str, ...] | None = None
    conditions: tuple[Condition, ...] = ()

    def label(self, policy_id: str) -> str:
        """The statement id used in decisions: ``<policy>#<Sid>`` or ``<policy>#<index>``."""
        return f"{policy_id}#{self.sid}" if self.sid else f"{policy_id}#{self.index}"


@dataclass(frozen=True, slots=True)
class Policy:
    """A whole policy document."""

    version: str | None
    statements: tuple[Statement, ...]
    id: str | None = None

    @property
    def variables_enabled(self) -> bool:
        """Policy variables are substituted only under Version 2012-10-17."""
        return self.version == VERSION_2012
