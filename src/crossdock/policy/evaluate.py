"""One policy against one request: which statements apply, and why the others do not.

A :class:`CompiledPolicy` is built once per policy (wildcards turned into regular
expressions, condition values read into their types) and reused for every request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from crossdock.core.arn import is_account_id
from crossdock.policy.conditions import ConditionTest, compile_condition, parse_operator
from crossdock.policy.context import Caller, PrincipalKind, Request
from crossdock.policy.model import Effect, Policy, PrincipalSpec, Statement
from crossdock.policy.variables import Template, parse_template, resolve, to_chunks
from crossdock.policy.wildcard import GlobStyle, chunks_to_regex, compiled_regex, has_wildcard


class Grant(Enum):
    """How a resource-policy statement's principal matched the caller (strongest first)."""

    DIRECT = "direct"
    """By the caller's own ARN, its session ARN, a service name, or ``*``."""
    ROLE = "role"
    """By the ARN of the role whose session is calling."""
    ACCOUNT = "account"
    """By the caller's account: a delegation to that account's IAM."""


_GRANT_ORDER = (Grant.DIRECT, Grant.ROLE, Grant.ACCOUNT)


@dataclass(frozen=True, slots=True)
class StatementOutcome:
    """Whether one statement applies to a request; if not, the first element that missed."""

    label: str
    statement: Statement
    applies: bool
    mismatch: str | None = None
    grant: Grant | None = None

    @property
    def effect(self) -> Effect:
        """The statement's effect."""
        return self.statement.effect


# --- action ----------------------------------------------------------------------------


class _ActionSet:
    __slots__ = ("exact", "patterns")

    def __init__(self, values: tuple[str, ...]) -> None:
        self.exact = frozenset(v.lower() for v in values if not has_wildcard(v))
        self.patterns = tuple(compiled_regex(v.lower()) for v in values if has_wildcard(v))

    def matches(self, folded_action: str) -> bool:
        if folded_action in self.exact:
            return True
        return any(p.fullmatch(folded_action) for p in self.patterns)


# --- resource --------------------------------------------------------------------------

ResourceTest = Callable[[str, Request], bool]


def _resource_test(template: Template) -> ResourceTest:
    if template.source == "*":
        return lambda resource, request: True
    if not template.has_variables:
        regex = compiled_regex(template.source, GlobStyle.ARN_RESOURCE)
        return lambda resource, request: regex.fullmatch(resource) is not None

    def dynamic(resource: str, request: Request) -> bool:
        pieces = resolve(template, request.context)
        if pieces is None:
            return False
        pattern = chunks_to_regex(to_chunks(pieces), GlobStyle.ARN_RESOURCE)
        return re.fullmatch(pattern, resource, re.DOTALL) is not None

    return dynamic


def _resource_template(value: str, variables: bool) -> Template:
    # Variables are honoured only after the fifth colon (in the resource id).
    head, sep, tail = _split_resource_id(value)
    if not sep:
        return parse_template(value, variables_enabled=False)
    tail_template = parse_template(tail, variables_enabled=variables)
    if not tail_template.has_variables:
        return parse_template(value, variables_enabled=False)
    return Template(value, (head + sep, *tail_template.pieces))


def _split_resource_id(value: str) -> tuple[str, str, str]:
    parts = value.split(":", 5)
    if len(parts) < 6:
        return value, "", ""
    return ":".join(parts[:5]), ":", parts[5]


# --- principal -------------------------------------------------------------------------


def _account_of_root(value: str) -> str | None:
    if is_account_id(value):
        return value
    parts = value.split(":")
    if len(parts) == 6 and parts[0] == "arn" and parts[2] == "iam" and parts[5] == "root":
        return parts[4]
    return None


def principal_grant(spec: PrincipalSpec, caller: Caller) -> Grant | None:
    """The strongest way ``spec`` (a ``Principal`` value) names ``caller``, if any."""
    if spec.star:
        return Grant.DIRECT
    found: set[Grant] = set()
    for kind, values in spec.entries:
        for value in values:
            grant = _match_one(kind, value, caller)
            if grant is Grant.DIRECT:
                return grant
            if grant is not None:
                found.add(grant)
    return next((grant for grant in _GRANT_ORDER if grant in found), None)


def _match_one(kind: str, value: str, caller: Caller) -> Grant | None:
    if kind == "Service":
        is_service = caller.kind is PrincipalKind.SERVICE
        return Grant.DIRECT if is_service and value.lower() == caller.arn.lower() else None
    if kind != "AWS":
        return None
    if value == "*":
        return Grant.DIRECT
    if caller.kind is PrincipalKind.SERVICE:
        return None
    if value == caller.arn or value in caller.unique_ids:
        return Grant.DIRECT
    if caller.role_arn is not None and value == caller.role_arn:
        return Grant.ROLE
    if _account_of_root(value) == caller.account:
        return Grant.ACCOUNT
    return None


def not_principal_excludes(spec: PrincipalSpec, caller: Caller) -> bool:
    """True when ``NotPrincipal`` lists every identity of the caller, so it escapes."""
    if spec.star:
        return True
    listed: set[str] = set()
    for kind, values in spec.entries:
        for value in values:
            if kind == "Service":
                listed.add(value.lower())
            elif kind == "AWS":
                account = _account_of_root(value)
                listed.add(f"arn:{caller.partition}:iam::{account}:root" if account else value)
    if "*" in listed:
        return True
    identities = caller.identities()
    if caller.kind is PrincipalKind.SERVICE:
        identities = frozenset(i.lower() for i in identities)
    return identities <= listed


# --- statements and policies -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompiledStatement:
    """A statement ready to be evaluated many times."""

    statement: Statement
    actions: _ActionSet | None
    not_actions: _ActionSet | None
    resources: tuple[ResourceTest, ...] | None
    not_resources: tuple[ResourceTest, ...] | None
    conditions: tuple[ConditionTest, ...]

    def evaluate(self, request: Request, folded_action: str, label: str) -> StatementOutcome:
        """Decide whether this statement applies to ``request``."""
        statement = self.statement
        if self.actions is not None and not self.actions.matches(folded_action):
            return StatementOutcome(label, statement, False, "Action")
        if self.not_actions is not None and self.not_actions.matches(folded_action):
            return StatementOutcome(label, statement, False, "NotAction")
        resource = request.resource
        if self.resources is not None and not any(t(resource, request) for t in self.resources):
            return StatementOutcome(label, statement, False, "Resource")
        if self.not_resources is not None and any(t(resource, request) for t in self.not_resources):
            return StatementOutcome(label, statement, False, "NotResource")
        grant: Grant | None = None
        if statement.principal is not None:
            grant = principal_grant(statement.principal, request.caller)
            if grant is None:
                return StatementOutcome(label, statement, False, "Principal")
        if statement.not_principal is not None:
            if not_principal_excludes(statement.not_principal, request.caller):
                return StatementOutcome(label, statement, False, "NotPrincipal")
            grant = Grant.DIRECT
        for test in self.conditions:
            if not test.evaluate(request.context):
                return StatementOutcome(label, statement, False, _condition_label(test))
        return StatementOutcome(label, statement, True, None, grant)


def _condition_label(test: ConditionTest) -> str:
    return f"Condition {test.spec.text} {test.key}"


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """A policy whose statements are compiled; evaluate it with :meth:`evaluate`."""

    policy: Policy
    statements: tuple[CompiledStatement, ...]

    def evaluate(self, request: Request, policy_id: str) -> tuple[StatementOutcome, ...]:
        """The outcome of every statement, in document order."""
        folded = request.action.lower()
        return tuple(
            compiled.evaluate(request, folded, compiled.statement.label(policy_id))
            for compiled in self.statements
        )


def compile_policy(policy: Policy) -> CompiledPolicy:
    """Compile every statement of a parsed policy."""
    variables = policy.variables_enabled
    return CompiledPolicy(policy, tuple(_compile(s, variables) for s in policy.statements))


def _compile(statement: Statement, variables: bool) -> CompiledStatement:
    def resources(values: tuple[str, ...] | None) -> tuple[ResourceTest, ...] | None:
        if values is None:
            return None
        return tuple(_resource_test(_resource_template(v, variables)) for v in values)

    conditions: list[ConditionTest] = []
    for condition in statement.conditions:
        spec = parse_operator(condition.operator)
        if spec is None:  # parse_policy rejects these; a hand-built model may not
            raise ValueError(f"unknown condition operator `{condition.operator}`")
        with_variables = variables and spec.base.variables
        templates = tuple(
            parse_template(v, variables_enabled=with_variables) for v in condition.values
        )
        conditions.append(compile_condition(spec, condition.key, templates))
    return CompiledStatement(
        statement=statement,
        actions=_ActionSet(statement.action) if statement.action is not None else None,
        not_actions=_ActionSet(statement.not_action) if statement.not_action is not None else None,
        resources=resources(statement.resource),
        not_resources=resources(statement.not_resource),
        conditions=tuple(conditions),
    )
