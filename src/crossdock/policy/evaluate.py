"""One policy against one request: which statements apply, and why the others do not.

A :class:`CompiledPolicy` is built once per policy (wildcards turned into regular
expressions, condition values read into their types) and reused for every request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import NamedTuple, cast

from crossdock.core.arn import account_principal
from crossdock.policy.conditions import ConditionTest, compile_condition, parse_operator
from crossdock.policy.context import Caller, PrincipalKind, Request
from crossdock.policy.model import Effect, Policy, PrincipalSpec, Statement
from crossdock.policy.variables import Template, parse_template, resolve, to_chunks
from crossdock.policy.wildcard import GlobStyle, chunks_to_regex, glob_to_regex, has_wildcard


class Grant(Enum):
    """How a resource-policy statement's principal matched the caller (strongest first)."""

    DIRECT = "direct"
    """By the caller's own ARN, its session ARN, a service name, or ``*``."""
    ROLE = "role"
    """By the ARN of the role whose session is calling."""
    ACCOUNT = "account"
    """By the caller's account: a delegation to that account's IAM."""


# Module-level aliases: Enum attribute lookups cost ~140 ns each on CPython 3.11, and
# these run for every statement of every request.
_DIRECT, _ROLE, _ACCOUNT = Grant.DIRECT, Grant.ROLE, Grant.ACCOUNT
_SERVICE = PrincipalKind.SERVICE
_DENY = Effect.DENY
_GRANT_ORDER = (_DIRECT, _ROLE, _ACCOUNT)


class StatementOutcome(NamedTuple):
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


def _union(regexes: list[str]) -> re.Pattern[str] | None:
    if not regexes:
        return None
    return re.compile("|".join(f"(?:{r})" for r in regexes), re.DOTALL)


class _ActionSet:
    """Action patterns: exact names in a set, every wildcard in one alternation."""

    __slots__ = ("exact", "pattern")

    def __init__(self, values: tuple[str, ...]) -> None:
        self.exact = frozenset(v.lower() for v in values if not has_wildcard(v))
        self.pattern = _union([glob_to_regex(v.lower()) for v in values if has_wildcard(v)])

    def matches(self, folded_action: str) -> bool:
        if folded_action in self.exact:
            return True
        return self.pattern is not None and self.pattern.fullmatch(folded_action) is not None


# --- resource --------------------------------------------------------------------------


class _ResourceSet:
    """Resource patterns: ``*``, variable-free ARNs in one alternation, and templates."""

    __slots__ = ("any", "pattern", "templates")

    def __init__(self, templates: tuple[Template, ...]) -> None:
        self.any = any(t.source == "*" for t in templates)
        static = [t.source for t in templates if t.is_plain]
        self.pattern = _union([glob_to_regex(v, GlobStyle.ARN_RESOURCE) for v in static])
        self.templates = tuple(t for t in templates if not t.is_plain)

    def matches(self, resource: str, request: Request) -> bool:
        if self.any:
            return True
        if self.pattern is not None and self.pattern.fullmatch(resource) is not None:
            return True
        return any(_template_matches(t, resource, request) for t in self.templates)


def _template_matches(template: Template, resource: str, request: Request) -> bool:
    pieces = resolve(template, request.context)
    if pieces is None:
        return False
    pattern = chunks_to_regex(to_chunks(pieces), GlobStyle.ARN_RESOURCE)
    return re.fullmatch(pattern, resource, re.DOTALL) is not None


def _resource_template(value: str, variables: bool) -> Template:
    # Variables are honoured only after the fifth colon (in the resource id).
    head, sep, tail = _split_resource_id(value)
    if not sep:
        return parse_template(value, variables_enabled=False)
    tail_template = parse_template(tail, variables_enabled=variables)
    if tail_template.is_plain:
        return parse_template(value, variables_enabled=False)
    return Template(value, (head + sep, *tail_template.pieces))


def _split_resource_id(value: str) -> tuple[str, str, str]:
    parts = value.split(":", 5)
    if len(parts) < 6:
        return value, "", ""
    return ":".join(parts[:5]), ":", parts[5]


# --- principal -------------------------------------------------------------------------


def principal_grant(spec: PrincipalSpec, caller: Caller) -> Grant | None:
    """The strongest way ``spec`` (a ``Principal`` value) names ``caller``, if any."""
    if spec.star:
        return _DIRECT
    found: set[Grant] = set()
    for kind, values in spec.entries:
        for value in values:
            grant = _match_one(kind, value, caller)
            if grant is _DIRECT:
                return grant
            if grant is not None:
                found.add(grant)
    return next((grant for grant in _GRANT_ORDER if grant in found), None)


def _match_one(kind: str, value: str, caller: Caller) -> Grant | None:
    if kind == "Service":
        is_service = caller.kind is _SERVICE
        return _DIRECT if is_service and value.lower() == caller.arn.lower() else None
    if kind != "AWS":
        return None
    if value == "*":
        return _DIRECT
    if caller.kind is _SERVICE:
        return None
    # The role ARN first: a caller given as the role itself is still one of its sessions.
    if caller.role_arn is not None and (value == caller.role_arn or value == caller.role_id):
        return _ROLE
    if value == caller.arn or value in caller.unique_ids:
        return _DIRECT
    if account_principal(value) == caller.account:
        return _ACCOUNT
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
                account = account_principal(value)
                listed.add(f"arn:{caller.partition}:iam::{account}:root" if account else value)
    if "*" in listed:
        return True
    identities = caller.identities()
    if caller.kind is _SERVICE:
        identities = frozenset(i.lower() for i in identities)
    return identities <= listed


# --- statements and policies -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompiledStatement:
    """A statement ready to be evaluated many times."""

    statement: Statement
    actions: _ActionSet | None
    not_actions: _ActionSet | None
    resources: _ResourceSet | None
    not_resources: _ResourceSet | None
    conditions: tuple[ConditionTest, ...]

    @property
    def static_target(self) -> bool:
        """True when Action and Resource alone decide the target (no policy variables)."""
        return all(r is None or not r.templates for r in (self.resources, self.not_resources))

    def target_mismatch(self, request: Request, folded_action: str) -> str | None:
        """The first of Action, NotAction, Resource, NotResource that excludes the request."""
        if self.actions is not None and not self.actions.matches(folded_action):
            return "Action"
        if self.not_actions is not None and self.not_actions.matches(folded_action):
            return "NotAction"
        resource = request.resource
        if self.resources is not None and not self.resources.matches(resource, request):
            return "Resource"
        if self.not_resources is not None and self.not_resources.matches(resource, request):
            return "NotResource"
        return None

    def evaluate(
        self, request: Request, folded_action: str, label: str, boundary_attached: bool = False
    ) -> StatementOutcome:
        """Decide whether this statement applies to ``request``."""
        mismatch = self.target_mismatch(request, folded_action)
        if mismatch is not None:
            return StatementOutcome(label, self.statement, False, mismatch)
        return self.evaluate_principal_and_conditions(request, label, boundary_attached)

    def evaluate_principal_and_conditions(
        self, request: Request, label: str, boundary_attached: bool = False
    ) -> StatementOutcome:
        """The rest of :meth:`evaluate`, once Action and Resource are known to match."""
        statement = self.statement
        grant: Grant | None = None
        if statement.principal is not None:
            grant = principal_grant(statement.principal, request.caller)
            if grant is None:
                return StatementOutcome(label, statement, False, "Principal")
        if statement.not_principal is not None:
            # IAM UG, NotPrincipal: a Deny with NotPrincipal always denies a principal that
            # has a permissions boundary, whatever NotPrincipal lists.
            caller = request.caller
            has_boundary = boundary_attached or caller.permissions_boundary
            boundary_deny = has_boundary and statement.effect is _DENY
            if not boundary_deny and not_principal_excludes(statement.not_principal, caller):
                return StatementOutcome(label, statement, False, "NotPrincipal")
            grant = _DIRECT
        for test in self.conditions:
            if not test.evaluate(request.context):
                return StatementOutcome(label, statement, False, _condition_label(test))
        return StatementOutcome(label, statement, True, None, grant)


def _condition_label(test: ConditionTest) -> str:
    return f"Condition {test.spec.text} {test.key}"


_APPLIES = "applies"
"""Target marker: Action and Resource match; the principal and conditions decide."""
_DYNAMIC = "dynamic"
"""Target marker: a Resource holds policy variables, so evaluate the whole statement."""
_MEMO_LIMIT = 4096

_Target = StatementOutcome | str
_Targets = tuple[tuple[_Target, ...], tuple[StatementOutcome, ...] | None]
"""Per statement a finished outcome or a marker; and all outcomes when every one is final."""


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """A policy whose statements are compiled; evaluate it with :meth:`evaluate`.

    What Action and Resource alone decide for an (action, resource, labels) triple is
    remembered in a small bounded memo: the finished outcome of each statement they
    exclude (outcomes are immutable, so one object serves every request), and a marker for
    the others. A warm evaluation then only checks principals and conditions.
    """

    policy: Policy
    statements: tuple[CompiledStatement, ...]
    _memo: dict[tuple[str, str, tuple[str, ...]], _Targets] = field(
        default_factory=dict, compare=False, repr=False
    )

    def labels(self, policy_id: str) -> tuple[str, ...]:
        """The decision labels of the statements when the policy is known as ``policy_id``."""
        return tuple(compiled.statement.label(policy_id) for compiled in self.statements)

    def _target(
        self, compiled: CompiledStatement, label: str, request: Request, folded_action: str
    ) -> _Target:
        if not compiled.static_target:
            return _DYNAMIC
        mismatch = compiled.target_mismatch(request, folded_action)
        if mismatch is not None:
            return StatementOutcome(label, compiled.statement, False, mismatch)
        statement = compiled.statement
        unconditional = not compiled.conditions
        if unconditional and statement.principal is None and statement.not_principal is None:
            return StatementOutcome(label, statement, True)  # nothing else can decide
        return _APPLIES

    def _targets(self, request: Request, folded_action: str, labels: tuple[str, ...]) -> _Targets:
        key = (folded_action, request.resource, labels)
        found = self._memo.get(key)
        if found is None:
            targets = tuple(
                self._target(compiled, label, request, folded_action)
                for compiled, label in zip(self.statements, labels, strict=True)
            )
            final = [t for t in targets if isinstance(t, StatementOutcome)]
            found = (targets, tuple(final) if len(final) == len(targets) else None)
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = found
        return found

    def evaluate(
        self, request: Request, labels: tuple[str, ...], boundary_attached: bool = False
    ) -> tuple[StatementOutcome, ...]:
        """The outcome of every statement, in document order, labelled with ``labels``.

        ``boundary_attached`` says the caller has a permissions boundary (NotPrincipal
        needs it), whether or not its ``Caller`` records one.
        """
        folded = request.action.lower()
        targets, final = self._targets(request, folded, labels)
        if final is not None:  # Action, Resource and the absence of anything else decided
            return final
        outcomes: list[StatementOutcome] = []
        for compiled, label, target in zip(self.statements, labels, targets, strict=True):
            if target is _APPLIES:
                outcomes.append(
                    compiled.evaluate_principal_and_conditions(request, label, boundary_attached)
                )
            elif target is _DYNAMIC:
                outcomes.append(compiled.evaluate(request, folded, label, boundary_attached))
            else:
                outcomes.append(cast(StatementOutcome, target))
        return tuple(outcomes)


def compile_policy(policy: Policy) -> CompiledPolicy:
    """Compile every statement of a parsed policy."""
    variables = policy.variables_enabled
    return CompiledPolicy(policy, tuple(_compile(s, variables) for s in policy.statements))


def _compile(statement: Statement, variables: bool) -> CompiledStatement:
    def resources(values: tuple[str, ...] | None) -> _ResourceSet | None:
        if values is None:
            return None
        return _ResourceSet(tuple(_resource_template(v, variables) for v in values))

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
