"""Lint a policy document: every problem AWS would reject, and the ones it would not.

:func:`lint_policy` takes decoded JSON and a :class:`PolicyKind`; :func:`lint_policy_text`
takes the text, so that invalid JSON, duplicate keys and the exact size are seen. Both
return findings (code, severity, message, RFC 6901 pointer); neither raises on content.

The structural problems come from :func:`crossdock.policy.parse.check_policy`, unchanged.
A statement with a structural problem is not looked at further; every other statement
goes through the rules of :mod:`~crossdock.policy.lint_rules` and
:mod:`~crossdock.policy.lint_conditions`, and the document through the rules below and
:mod:`~crossdock.policy.lint_redundancy`. The codes are listed in
:mod:`crossdock.policy.findings` and explained in ``docs/policy-lint.md``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from crossdock.policy.errors import PolicyParseError, Problem
from crossdock.policy.findings import Finding, PolicyKind, Severity
from crossdock.policy.lint_conditions import condition_rule
from crossdock.policy.lint_redundancy import redundancy_findings
from crossdock.policy.lint_rules import (
    Path,
    Rule,
    StatementView,
    action_resource_rule,
    action_rule,
    finding,
    literal_variable_rule,
    principal_presence_rule,
    principal_values_rule,
    public_access_rule,
    resource_presence_rule,
    resource_values_rule,
    sid_rule,
)
from crossdock.policy.model import VERSION_2008, VERSION_2012, Statement
from crossdock.policy.parse import check_policy, load_policy_json, pointer

__all__ = (
    "Finding",
    "PolicyKind",
    "Severity",
    "infer_policy_kind",
    "lint_policy",
    "lint_policy_text",
)

STATEMENT_RULES: tuple[Rule, ...] = (
    sid_rule,
    principal_presence_rule,
    principal_values_rule,
    public_access_rule,
    action_rule,
    resource_presence_rule,
    resource_values_rule,
    action_resource_rule,
    literal_variable_rule,
    condition_rule,
)
"""The rules run on every statement that parsed cleanly, in this order."""

_TRUST_ACTION_PREFIX = "sts:assumerole"


def lint_policy(raw: Any, kind: PolicyKind) -> list[Finding]:
    """Lint decoded JSON as a policy of type ``kind``.

    The size is measured on the compact JSON form of ``raw``; duplicate keys are seen
    only when ``raw`` came from :func:`crossdock.policy.parse.load_policy_json`.
    """
    return _size_findings(_compact(raw), kind) + _lint(raw, kind)


def lint_policy_text(text: str, kind: PolicyKind) -> list[Finding]:
    """Lint policy text as a policy of type ``kind`` (the size is measured on ``text``)."""
    findings = _size_findings(text, kind)
    try:
        raw = load_policy_json(text)
    except PolicyParseError as error:
        return findings + [_from_problem(problem) for problem in error.problems]
    return findings + _lint(raw, kind)


def infer_policy_kind(raw: Any) -> PolicyKind:
    """Guess the type of a policy from its content (SCPs are never guessed).

    Statements with a principal make it a resource-based policy: a trust policy when
    an action is ``sts:AssumeRole*``, a registry policy when a statement with a principal
    also has a resource and an action is ``ecr:``, otherwise a repository policy. A
    policy without principals is an identity policy.
    """
    statements = _raw_statements(raw)
    named = [s for s in statements if "Principal" in s or "NotPrincipal" in s]
    if not named:
        return PolicyKind.IDENTITY
    actions = [a.lower() for s in statements for a in _texts(s.get("Action"))]
    if any(action.startswith(_TRUST_ACTION_PREFIX) for action in actions):
        return PolicyKind.TRUST
    with_resource = any("Resource" in s or "NotResource" in s for s in named)
    if with_resource and any(action.startswith("ecr:") for action in actions):
        return PolicyKind.REGISTRY
    return PolicyKind.REPOSITORY


def _raw_statements(raw: Any) -> list[dict[str, Any]]:
    return [item for item, _ in _entries(raw) if isinstance(item, dict)]


def _texts(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, str)]


# --- the whole document ----------------------------------------------------------------------


def _lint(raw: Any, kind: PolicyKind) -> list[Finding]:
    policy, problems = check_policy(raw)
    findings = [_from_problem(problem) for problem in problems]
    views = _views(raw, kind, policy.statements if policy else None, problems)
    findings.extend(_document_findings(raw, views))
    for view in views:
        for rule in STATEMENT_RULES:
            findings.extend(rule(view))
    findings.extend(redundancy_findings(views))
    return findings


def _from_problem(problem: Problem) -> Finding:
    return Finding.of(problem.code, problem.message, problem.pointer)


def _compact(raw: Any) -> str | None:
    try:
        return json.dumps(raw, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        return None


def _size_findings(text: str | None, kind: PolicyKind) -> list[Finding]:
    if text is None or len(text) <= kind.size_limit:
        return []
    size = len(text) if kind.counts_whitespace else len("".join(text.split()))
    if size <= kind.size_limit:
        return []
    counted = "characters" if kind.counts_whitespace else "characters, not counting whitespace"
    message = (
        f"the {kind.label} is {size:,} {counted}; the limit is {kind.size_limit:,}"
        f"{_LIMIT_NOTES.get(kind, '')}: split it or shorten it"
    )
    return [finding("POLICY_TOO_LARGE", message, ())]


_LIMIT_NOTES = MappingProxyType(
    {
        PolicyKind.IDENTITY: (
            " for a managed policy (inline policies share 2,048 per user, 5,120 per group "
            "and 10,240 per role)"
        ),
        PolicyKind.TRUST: " by default (the quota can be raised to 4,096)",
    }
)


def _views(
    raw: Any,
    kind: PolicyKind,
    statements: Sequence[Statement] | None,
    problems: Sequence[Problem],
) -> list[StatementView]:
    """The statements the rules look at: all of them, or those without a problem."""
    entries = _entries(raw)
    if not entries:
        return []
    version = raw.get("Version") if raw.get("Version") in (VERSION_2012, VERSION_2008) else None
    variables = version == VERSION_2012
    views: list[StatementView] = []
    for index, (item, path) in enumerate(entries):
        if statements is not None:
            statement: Statement | None = statements[index]
        elif _has_problem(path, problems):
            continue
        else:
            statement = _parse_alone(item, index, version)
        if statement is not None:
            views.append(StatementView(kind, statement, item, path, variables))
    return views


def _entries(raw: Any) -> list[tuple[Any, Path]]:
    """Each raw statement (any JSON value) with its location."""
    body = raw.get("Statement") if isinstance(raw, dict) else None
    if isinstance(body, dict):
        return [(body, ("Statement",))]
    if isinstance(body, list):
        return [(item, ("Statement", i)) for i, item in enumerate(body)]
    return []


def _has_problem(path: Path, problems: Sequence[Problem]) -> bool:
    where = pointer(*path)
    return any(p.pointer == where or p.pointer.startswith(where + "/") for p in problems)


def _parse_alone(item: dict[str, Any], index: int, version: str | None) -> Statement | None:
    document: dict[str, Any] = {"Statement": item}
    if version is not None:
        document["Version"] = version
    policy, _ = check_policy(document)
    return replace(policy.statements[0], index=index) if policy is not None else None


def _document_findings(raw: Any, views: Sequence[StatementView]) -> Iterator[Finding]:
    if not isinstance(raw, dict):
        return
    if "Version" not in raw:
        message = (
            "the policy has no `Version`, so variables such as ${aws:username} are literal "
            'text: add "Version": "2012-10-17"'
        )
        yield finding("MISSING_VERSION", message, ())
    if raw.get("Statement") == []:
        message = "`Statement` is empty: the policy allows and denies nothing"
        yield finding("EMPTY_STATEMENT", message, ("Statement",))
    yield from _duplicate_sids(views)


def _duplicate_sids(views: Sequence[StatementView]) -> Iterator[Finding]:
    first: dict[str, StatementView] = {}
    for view in views:
        sid = view.statement.sid
        if sid is None:
            continue
        if sid in first:
            message = f"`Sid` `{sid}` is already used by statement #{first[sid].statement.index}"
            yield finding("DUPLICATE_SID", message, view.at("Sid"))
        else:
            first[sid] = view
