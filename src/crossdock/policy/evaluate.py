"""One policy against one request: which statements apply, and why the others do not.

A :class:`CompiledPolicy` is built once per policy (wildcards turned into regular
expressions, condition values read into their types) and reused for every request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import NamedTuple

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


class PrincipalMatcher:
    """A ``Principal`` value read into sets once, so matching a caller is a few lookups."""

    __slots__ = ("accounts", "aws", "services", "star")

    def __init__(self, spec: PrincipalSpec) -> None:
        aws = [value for kind, values in spec.entries if kind == "AWS" for value in values]
        self.star = spec.star or "*" in aws
        self.aws = frozenset(aws)
        self.services = frozenset(
            value.lower() for kind, values in spec.entries if kind == "Service" for value in values
        )
        self.accounts = frozenset(filter(None, map(account_principal, aws)))

    def grant(self, caller: Caller) -> Grant | None:
        """The strongest way the value names ``caller``: any ``DIRECT`` match beats a
        ``ROLE`` match, which beats an ``ACCOUNT`` match."""
        if self.star:
            return _DIRECT
        if caller.kind is _SERVICE:
            return _DIRECT if caller.arn.lower() in self.services else None
        aws = self.aws
        role_arn = caller.role_arn
        # The role ARN first: a caller given as the role itself is still one of its sessions.
        role_names = () if role_arn is None else (role_arn, caller.role_id)
        arn = caller.arn
        if arn in aws and arn not in role_names:
            return _DIRECT
        unique_ids = caller.unique_ids
        if unique_ids and any(i in aws and i not in role_names for i in unique_ids):
            return _DIRECT
        if role_names and (role_arn in aws or caller.role_id in aws):
            return _ROLE
        return _ACCOUNT if caller.account in self.accounts else None


def principal_grant(spec: PrincipalSpec, caller: Caller) -> Grant | None:
    """The strongest way ``spec`` (a ``Principal`` value) names ``caller``, if any."""
    return PrincipalMatcher(spec).grant(caller)


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
    principal: PrincipalMatcher | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        spec = self.statement.principal
        object.__setattr__(self, "principal", None if spec is None else PrincipalMatcher(spec))

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


def _condition_label(test: ConditionTest) -> str:
    return f"Condition {test.spec.text} {test.key}"


_TARGET_ELEMENTS = ("Action", "NotAction", "Resource", "NotResource")


class _StatementOutcomes:
    """Every outcome one statement can have under one label, each built once.

    Outcomes are immutable, so one object serves every request: a warm evaluation
    picks the outcome instead of building it.
    """

    __slots__ = (
        "account",
        "applies",
        "checks",
        "compiled",
        "direct",
        "dynamic",
        "not_principal",
        "principal",
        "role",
        "targets",
        "unconditional",
    )

    def __init__(self, compiled: CompiledStatement, label: str, *, dynamic: bool) -> None:
        statement = compiled.statement

        def miss(element: str) -> StatementOutcome:
            return StatementOutcome(label, statement, False, element)

        self.compiled = compiled
        self.dynamic = dynamic  # Action and Resource are still to check (policy variables)
        self.targets = {element: miss(element) for element in _TARGET_ELEMENTS}
        self.principal = miss("Principal")
        self.not_principal = miss("NotPrincipal")
        self.checks = tuple((test, miss(_condition_label(test))) for test in compiled.conditions)
        self.applies = StatementOutcome(label, statement, True)
        # One outcome per Grant, in slots: hashing an Enum member runs Python code.
        self.direct = StatementOutcome(label, statement, True, None, _DIRECT)
        self.role = StatementOutcome(label, statement, True, None, _ROLE)
        self.account = StatementOutcome(label, statement, True, None, _ACCOUNT)
        # Nothing but Action and Resource can exclude the request:
        self.unconditional = (
            not compiled.conditions
            and statement.principal is None
            and statement.not_principal is None
        )

    def decide(
        self, request: Request, folded_action: str, boundary_attached: bool
    ) -> StatementOutcome:
        """This statement's outcome for ``request``."""
        compiled = self.compiled
        if self.dynamic:
            mismatch = compiled.target_mismatch(request, folded_action)
            if mismatch is not None:
                return self.targets[mismatch]
        applied = self.applies
        if compiled.principal is not None:
            grant = compiled.principal.grant(request.caller)
            if grant is None:
                return self.principal
            applied = (
                self.direct if grant is _DIRECT else self.role if grant is _ROLE else self.account
            )
        statement = compiled.statement
        if statement.not_principal is not None:
            # IAM UG, NotPrincipal: a Deny with NotPrincipal always denies a principal that
            # has a permissions boundary, whatever NotPrincipal lists.
            caller = request.caller
            has_boundary = boundary_attached or caller.permissions_boundary
            boundary_deny = has_boundary and statement.effect is _DENY
            if not boundary_deny and not_principal_excludes(statement.not_principal, caller):
                return self.not_principal
            applied = self.direct
        context = request.context
        for test, miss in self.checks:
            if not test.evaluate(context):
                return miss
        return applied


_MEMO_LIMIT = 4096

Evaluation = tuple[tuple[StatementOutcome, ...], tuple[StatementOutcome, ...]]
"""Every statement's outcome in document order, and the outcomes that apply."""


class _Plan:
    """What Action and Resource decide for one (action, resource, labels) triple.

    ``result`` is the finished evaluation when they decide every statement; otherwise
    ``steps`` holds, per statement, its finished outcome or what still has to decide it.
    """

    __slots__ = ("result", "steps")

    def __init__(self, steps: tuple[StatementOutcome | _StatementOutcomes, ...]) -> None:
        self.steps = steps
        final = [step for step in steps if isinstance(step, StatementOutcome)]
        self.result: Evaluation | None = None
        if len(final) == len(steps):
            self.result = (tuple(final), tuple(o for o in final if o.applies))


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """A policy whose statements are compiled; evaluate it with :meth:`evaluate`.

    What Action and Resource alone decide for an (action, resource, labels) triple is
    remembered in a small bounded memo: the finished outcome of each statement they
    decide, and what is left to check (principal, conditions) for the others. Every
    outcome a statement can have under a label is built once, so a warm evaluation
    allocates only the tuples it returns.
    """

    policy: Policy
    statements: tuple[CompiledStatement, ...]
    _memo: dict[tuple[str, str, tuple[str, ...]], _Plan] = field(
        default_factory=dict, compare=False, repr=False
    )
    _outcomes: dict[tuple[str, ...], tuple[_StatementOutcomes, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def labels(self, policy_id: str) -> tuple[str, ...]:
        """The decision labels of the statements when the policy is known as ``policy_id``."""
        return tuple(compiled.statement.label(policy_id) for compiled in self.statements)

    def _statement_outcomes(self, labels: tuple[str, ...]) -> tuple[_StatementOutcomes, ...]:
        found = self._outcomes.get(labels)
        if found is None:
            found = tuple(
                _StatementOutcomes(compiled, label, dynamic=not compiled.static_target)
                for compiled, label in zip(self.statements, labels, strict=True)
            )
            self._outcomes[labels] = found
        return found

    def _plan(self, request: Request, folded_action: str, labels: tuple[str, ...]) -> _Plan:
        if len(self._memo) >= _MEMO_LIMIT:
            # Every labels key of _outcomes came with a memo entry, so this bounds both.
            self._memo.clear()
            self._outcomes.clear()
        steps: list[StatementOutcome | _StatementOutcomes] = []
        for outcomes in self._statement_outcomes(labels):
            if outcomes.dynamic:
                steps.append(outcomes)
                continue
            mismatch = outcomes.compiled.target_mismatch(request, folded_action)
            if mismatch is not None:
                steps.append(outcomes.targets[mismatch])
            elif outcomes.unconditional:
                steps.append(outcomes.applies)
            else:
                steps.append(outcomes)
        plan = self._memo[(folded_action, request.resource, labels)] = _Plan(tuple(steps))
        return plan

    def run(
        self,
        request: Request,
        folded_action: str,
        labels: tuple[str, ...],
        boundary_attached: bool = False,
    ) -> Evaluation:
        """:meth:`evaluate` for the engine: ``folded_action`` is ``request.action.lower()``,
        and the outcomes that apply come back too."""
        plan = self._memo.get((folded_action, request.resource, labels))
        if plan is None:
            plan = self._plan(request, folded_action, labels)
        if plan.result is not None:  # Action, Resource and the absence of anything else decided
            return plan.result
        outcomes = tuple(
            [
                step.decide(request, folded_action, boundary_attached)
                if isinstance(step, _StatementOutcomes)
                else step
                for step in plan.steps
            ]
        )
        return outcomes, tuple([o for o in outcomes if o.applies])

    def evaluate(
        self, request: Request, labels: tuple[str, ...], boundary_attached: bool = False
    ) -> tuple[StatementOutcome, ...]:
        """The outcome of every statement, in document order, labelled with ``labels``.

        ``boundary_attached`` says the caller has a permissions boundary (NotPrincipal
        needs it), whether or not its ``Caller`` records one.
        """
        return self.run(request, request.action.lower(), labels, boundary_attached)[0]


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
