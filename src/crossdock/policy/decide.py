"""Every policy type together: AWS's decision for one request.

The logic follows the IAM User Guide, "Policy evaluation logic" and "Cross-account
policy evaluation logic" (spec §4.7):

1. an applicable ``Deny`` in any policy is an explicit deny;
2. each SCP level (root → account) must hold an applicable ``Allow``;
3. same account: a resource-policy grant naming the caller itself (user, session,
   federated user, service or ``*``) allows on its own; a grant naming the caller's
   role allows when the boundary and session policies allow; otherwise the identity
   policies must allow, within the boundary and session policies. A grant to the
   account only delegates to the identity policies. The account's root user needs
   no identity policy;
4. cross account: the resource policy must allow the caller (by any of its names) and
   the caller's own account must allow it too (identity ∩ boundary ∩ session);
5. a role trust policy must always allow explicitly (sts:AssumeRole);
6. anything else is an implicit deny.

The :class:`Decision` carries its own explanation: every policy's statement outcomes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from crossdock.policy.context import PrincipalKind, Request
from crossdock.policy.evaluate import CompiledPolicy, Grant, StatementOutcome
from crossdock.policy.model import Effect


class Outcome(Enum):
    """The three answers AWS can give."""

    ALLOWED = "Allowed"
    IMPLICITLY_DENIED = "ImplicitlyDenied"
    EXPLICITLY_DENIED = "ExplicitlyDenied"


class PolicyType(Enum):
    """A kind of policy; the value is how AWS names it in AccessDenied messages."""

    SCP = "service control policy"
    RESOURCE = "resource-based policy"
    IDENTITY = "identity-based policy"
    BOUNDARY = "permissions boundary"
    SESSION = "session policy"

    @property
    def article(self) -> str:
        """``a`` or ``an``, as AWS writes it before the type."""
        return "an" if self.value[0] in "aeiou" else "a"


_DENY_PRECEDENCE = (
    PolicyType.SCP,
    PolicyType.RESOURCE,
    PolicyType.IDENTITY,
    PolicyType.BOUNDARY,
    PolicyType.SESSION,
)


class Side(Enum):
    """Which account's policies decided."""

    PRINCIPAL = "principal account"
    RESOURCE = "resource account"


def side_of(policy_type: PolicyType) -> Side:
    """Resource policies belong to the resource's account; all others to the caller's."""
    return Side.RESOURCE if policy_type is PolicyType.RESOURCE else Side.PRINCIPAL


@dataclass(frozen=True, slots=True)
class NamedPolicy:
    """A compiled policy with the id it is reported under (``identity[0]``, an ARN, ...)."""

    policy_id: str
    policy_type: PolicyType
    compiled: CompiledPolicy
    scp_level: int | None = None


@dataclass(frozen=True, slots=True)
class PolicySet:
    """Every policy that counts for one request.

    ``boundaries``, ``session_policies`` and ``scp_levels`` are None when the caller has
    none (an empty tuple would deny everything). For sts:AssumeRole the
    ``resource_policy`` is the role's trust policy.
    """

    identity: tuple[NamedPolicy, ...] = ()
    resource_policy: NamedPolicy | None = None
    boundaries: tuple[NamedPolicy, ...] | None = None
    session_policies: tuple[NamedPolicy, ...] | None = None
    scp_levels: tuple[tuple[NamedPolicy, ...], ...] | None = None

    def all_policies(self) -> Iterable[NamedPolicy]:
        """Every policy in a fixed order: SCP levels, resource, identity, boundary, session."""
        for level in self.scp_levels or ():
            yield from level
        if self.resource_policy is not None:
            yield self.resource_policy
        yield from self.identity
        yield from self.boundaries or ()
        yield from self.session_policies or ()


@dataclass(frozen=True, slots=True)
class PolicyTrace:
    """One policy's part in a decision: each statement's outcome."""

    policy: NamedPolicy
    outcomes: tuple[StatementOutcome, ...]

    def applicable(self, effect: Effect) -> tuple[StatementOutcome, ...]:
        """The statements with ``effect`` that apply to the request."""
        return tuple(o for o in self.outcomes if o.applies and o.effect is effect)


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer, why, and the full trace it came from."""

    outcome: Outcome
    request: Request
    policy_type: PolicyType | None
    """The type that denied, or that was missing an allow; None when allowed."""
    reason: str
    """One line: how the request was allowed, or why not."""
    decisive: tuple[StatementOutcome, ...]
    trace: tuple[PolicyTrace, ...]
    missing_scp_level: int | None = None

    @property
    def decision(self) -> Outcome:
        """Alias of :attr:`outcome` (the case format's name)."""
        return self.outcome

    @property
    def allowed(self) -> bool:
        """True when the request is allowed."""
        return self.outcome is Outcome.ALLOWED

    @property
    def side(self) -> Side | None:
        """Which account's policies denied; None when allowed."""
        return None if self.policy_type is None else side_of(self.policy_type)

    @property
    def decisive_ids(self) -> tuple[str, ...]:
        """Labels of the decisive statements (``<policy id>#<Sid or index>``)."""
        return tuple(o.label for o in self.decisive)

    @property
    def message(self) -> str | None:
        """AWS's AccessDenied text for a denial, None when allowed."""
        if self.policy_type is None:
            return None
        request = self.request
        head = (
            f"User: {request.caller.arn} is not authorized to perform: {request.action}"
            f" on resource: {request.resource}"
        )
        kind = self.policy_type
        if self.outcome is Outcome.EXPLICITLY_DENIED:
            return f"{head} with an explicit deny in {kind.article} {kind.value}"
        return f"{head} because no {kind.value} allows the {request.action} action"


def decide(request: Request, policies: PolicySet) -> Decision:
    """AWS's decision for ``request`` under ``policies``, with its explanation."""
    traces = tuple(
        PolicyTrace(named, named.compiled.evaluate(request, named.policy_id))
        for named in policies.all_policies()
    )
    denies = [o for t in traces for o in t.applicable(Effect.DENY)]
    if denies:
        deny_types = {t.policy.policy_type for t in traces if t.applicable(Effect.DENY)}
        first = next(kind for kind in _DENY_PRECEDENCE if kind in deny_types)
        return Decision(
            Outcome.EXPLICITLY_DENIED, request, first, "explicit deny", tuple(denies), traces
        )
    return _without_denies(request, policies, traces)


def _allows(traces: tuple[PolicyTrace, ...], kind: PolicyType) -> tuple[StatementOutcome, ...]:
    return tuple(
        o for t in traces if t.policy.policy_type is kind for o in t.applicable(Effect.ALLOW)
    )


def _without_denies(
    request: Request, policies: PolicySet, traces: tuple[PolicyTrace, ...]
) -> Decision:
    caller = request.caller
    every_allow = tuple(o for t in traces for o in t.applicable(Effect.ALLOW))

    def deny(kind: PolicyType, reason: str, level: int | None = None) -> Decision:
        return Decision(Outcome.IMPLICITLY_DENIED, request, kind, reason, (), traces, level)

    def allow(reason: str) -> Decision:
        return Decision(Outcome.ALLOWED, request, None, reason, every_allow, traces)

    if policies.scp_levels and caller.kind is not PrincipalKind.SERVICE:
        for level, scps in enumerate(policies.scp_levels):
            level_traces = [t for t in traces if t.policy in scps]
            if not any(t.applicable(Effect.ALLOW) for t in level_traces):
                return deny(PolicyType.SCP, f"no SCP at level {level} allows the action", level)

    grants = {o.grant for o in _allows(traces, PolicyType.RESOURCE)}
    resource_allows = bool(grants)
    trust = request.is_trust_request
    if caller.kind is PrincipalKind.SERVICE:
        if Grant.DIRECT in grants:
            return allow("the resource policy allows the service principal")
        return deny(PolicyType.RESOURCE, "no resource-based policy allows the service")

    identity = bool(_allows(traces, PolicyType.IDENTITY)) or caller.kind is PrincipalKind.ROOT
    boundary = (
        caller.kind is PrincipalKind.ROOT
        or policies.boundaries is None
        or bool(_allows(traces, PolicyType.BOUNDARY))
    )
    session = policies.session_policies is None or bool(_allows(traces, PolicyType.SESSION))

    if (trust or not request.same_account) and not resource_allows:
        return deny(PolicyType.RESOURCE, "no resource-based policy allows the caller")

    if request.same_account:
        if Grant.DIRECT in grants:
            return allow("the resource policy names the caller itself")
        role_grant = Grant.ROLE in grants
        if role_grant and boundary and session:
            return allow("the resource policy names the caller's role")
        if identity and boundary and session:
            return allow("an identity-based policy allows it in the same account")
        if not (identity or role_grant):
            return deny(PolicyType.IDENTITY, "no identity-based policy allows the action")
    else:
        if identity and boundary and session:
            return allow("both the resource policy and the caller's account allow it")
        if not identity:
            return deny(
                PolicyType.IDENTITY, "the resource policy allows, the caller's IAM does not"
            )
    if not boundary:
        return deny(PolicyType.BOUNDARY, "the permissions boundary does not allow the action")
    return deny(PolicyType.SESSION, "the session policy does not allow the action")
