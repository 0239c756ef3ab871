"""Policy → JSON-ready data, the inverse of :func:`crossdock.policy.parse.parse_policy`.

Single values are written as strings and several as arrays, so that parsing the output
gives back an equal :class:`~crossdock.policy.model.Policy`.
"""

from __future__ import annotations

from typing import Any

from crossdock.policy.model import Condition, Policy, PrincipalSpec, Statement


def _values(values: tuple[str, ...]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)


def _principal(spec: PrincipalSpec) -> str | dict[str, Any]:
    if spec.star:
        return "*"
    merged: dict[str, list[str]] = {}
    for kind, values in spec.entries:
        merged.setdefault(kind, []).extend(values)
    return {kind: _values(tuple(values)) for kind, values in merged.items()}


def _conditions(conditions: tuple[Condition, ...]) -> dict[str, dict[str, Any]]:
    block: dict[str, dict[str, Any]] = {}
    for condition in conditions:
        block.setdefault(condition.operator, {})[condition.key] = list(condition.values)
    return block


def statement_to_json(statement: Statement) -> dict[str, Any]:
    """One statement as JSON-ready data, elements in AWS's usual order."""
    out: dict[str, Any] = {}
    if statement.sid is not None:
        out["Sid"] = statement.sid
    out["Effect"] = statement.effect.value
    if statement.principal is not None:
        out["Principal"] = _principal(statement.principal)
    if statement.not_principal is not None:
        out["NotPrincipal"] = _principal(statement.not_principal)
    for key, values in (
        ("Action", statement.action),
        ("NotAction", statement.not_action),
        ("Resource", statement.resource),
        ("NotResource", statement.not_resource),
    ):
        if values is not None:
            out[key] = _values(values)
    if statement.conditions:
        out["Condition"] = _conditions(statement.conditions)
    return out


def policy_to_json(policy: Policy) -> dict[str, Any]:
    """A whole policy as JSON-ready data."""
    out: dict[str, Any] = {}
    if policy.version is not None:
        out["Version"] = policy.version
    if policy.id is not None:
        out["Id"] = policy.id
    out["Statement"] = [statement_to_json(s) for s in policy.statements]
    return out
