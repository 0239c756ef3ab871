"""Redundant statements: ones that another statement, with the same effect and no
conditions, already covers (every action, resource and principal).

The check compares every pair of statements, so it is capped: above
:data:`MAX_STATEMENTS` statements or :data:`MAX_VALUES` values in all it is skipped, and
a ``REDUNDANCY_CHECK_SKIPPED`` suggestion says so. Coverage is decided soundly but not
completely: a wildcard pattern is taken as covered only by ``*``, by itself, or by a
``prefix*`` pattern whose prefix it starts with.
"""

from __future__ import annotations

from collections.abc import Sequence

from crossdock.core.arn import is_account_id
from crossdock.policy.findings import Finding
from crossdock.policy.lint_rules import StatementView, finding
from crossdock.policy.model import PrincipalSpec, Statement
from crossdock.policy.wildcard import GlobStyle, glob_match, has_wildcard

MAX_STATEMENTS = 100
MAX_VALUES = 500


def redundancy_findings(views: Sequence[StatementView]) -> list[Finding]:
    """A REDUNDANT_STATEMENT finding for each statement another one covers."""
    if len(views) < 2:
        return []
    values = sum(_size(view.statement) for view in views)
    if len(views) > MAX_STATEMENTS or values > MAX_VALUES:
        message = (
            f"redundant statements were not looked for: the policy has {len(views)} statements "
            f"and {values} values (the check stops above {MAX_STATEMENTS} and {MAX_VALUES}); "
            f"consider splitting the policy"
        )
        return [finding("REDUNDANCY_CHECK_SKIPPED", message, ("Statement",))]
    found: list[Finding] = []
    for position, view in enumerate(views):
        cover = _coverer(view, position, views)
        if cover is not None:
            message = (
                f"this statement adds nothing: statement {_name(cover)} has the same effect, "
                f"no conditions, and covers all its actions, resources and principals"
            )
            found.append(finding("REDUNDANT_STATEMENT", message, view.path))
    return found


def _coverer(
    view: StatementView, position: int, views: Sequence[StatementView]
) -> StatementView | None:
    for other_position, other in enumerate(views):
        if other_position == position or not covers(other.statement, view.statement):
            continue
        # Two equivalent statements: only the later one is redundant.
        if other_position > position and covers(view.statement, other.statement):
            continue
        return other
    return None


def _name(view: StatementView) -> str:
    sid = view.statement.sid
    return f"`{sid}`" if sid else f"#{view.statement.index}"


def _size(statement: Statement) -> int:
    groups = (statement.action, statement.not_action, statement.resource, statement.not_resource)
    count = sum(len(group) for group in groups if group is not None)
    for spec in (statement.principal, statement.not_principal):
        if spec is not None:
            count += sum(len(values) for _, values in spec.entries)
    return count


def covers(wide: Statement, narrow: Statement) -> bool:
    """True when ``wide`` (with no conditions) applies wherever ``narrow`` does."""
    return (
        wide.effect is narrow.effect
        and not wide.conditions
        and _elements_cover(wide.action, wide.not_action, narrow.action, narrow.not_action, True)
        and _elements_cover(
            wide.resource, wide.not_resource, narrow.resource, narrow.not_resource, False
        )
        and _principals_cover(wide, narrow)
    )


def _elements_cover(
    wide: tuple[str, ...] | None,
    wide_not: tuple[str, ...] | None,
    narrow: tuple[str, ...] | None,
    narrow_not: tuple[str, ...] | None,
    is_action: bool,
) -> bool:
    if wide is not None and "*" in wide:
        return True
    if wide is not None and narrow is not None:
        return all(any(_pattern_covers(w, n, is_action) for w in wide) for n in narrow)
    if wide_not is not None and narrow_not is not None:
        # narrow excludes more than wide: each of wide's exclusions is one of narrow's.
        return all(any(_pattern_covers(n, w, is_action) for n in narrow_not) for w in wide_not)
    return (wide, wide_not, narrow, narrow_not) == (None, None, None, None)


def _pattern_covers(pattern: str, value: str, is_action: bool) -> bool:
    """True when every string ``value`` matches also matches ``pattern``."""
    if is_action:
        pattern, value = pattern.lower(), value.lower()
    if pattern == value:
        return True
    if "${" in pattern or "${" in value:
        return False
    if not has_wildcard(value):
        style = GlobStyle.PLAIN if is_action else GlobStyle.ARN_RESOURCE
        return glob_match(pattern, value, style=style)
    prefix = pattern[:-1]
    return pattern.endswith("*") and not has_wildcard(prefix) and value.startswith(prefix)


def _principals_cover(wide: Statement, narrow: Statement) -> bool:
    if wide.not_principal is not None or narrow.not_principal is not None:
        return (wide.principal, wide.not_principal) == (narrow.principal, narrow.not_principal)
    if wide.principal is None or narrow.principal is None:
        return wide.principal is None and narrow.principal is None
    if _is_star(wide.principal):
        return True
    if _is_star(narrow.principal):
        return False
    return all(
        _normal(kind, value) in _names(wide.principal, kind)
        for kind, values in narrow.principal.entries
        for value in values
    )


def _is_star(spec: PrincipalSpec) -> bool:
    return spec.star or "*" in spec.values("AWS")


def _names(spec: PrincipalSpec, kind: str) -> set[str]:
    return {_normal(kind, value) for value in spec.values(kind)}


def _normal(kind: str, value: str) -> str:
    if kind == "AWS" and is_account_id(value):
        return f"arn:aws:iam::{value}:root"
    return value.lower() if kind == "Service" else value
