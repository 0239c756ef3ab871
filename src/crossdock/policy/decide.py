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
from dataclasses import dataclass, field
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
    labels: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", self.compiled.labels(self.policy_id))


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

    def account_and_resource_policies(
        self, *, with_resource_policy: bool = True
    ) -> Iterable[NamedPolicy]:
        """The policies other than SCPs: resource, identity, boundary, session."""
        if self.resource_policy is not None and with_resource_policy:
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


_Recorded = list[tuple[NamedPolicy, tuple[StatementOutcome, ...]]]
"""The trace as ``decide`` records it: each policy with its statement outcomes."""


class Decision:
    """The answer, why, and the full trace it came from.

    An immutable value (equality, hash and repr as a frozen dataclass of the constructor's
    fields). ``decide`` records the trace as compact (policy, outcomes) pairs; the
    :class:`PolicyTrace` values are built from them the first time :attr:`trace` is read.
    """

    __slots__ = (
        "_decisive",
        "_gaps",
        "_missing_scp_level",
        "_outcome",
        "_policy_type",
        "_reason",
        "_recorded",
        "_request",
        "_trace",
    )
    __match_args__ = (
        "outcome",
        "request",
        "policy_type",
        "reason",
        "decisive",
        "trace",
        "missing_scp_level",
        "gaps",
    )

    def __init__(
        self,
        outcome: Outcome,
        request: Request,
        policy_type: PolicyType | None,
        reason: str,
        decisive: tuple[StatementOutcome, ...],
        trace: tuple[PolicyTrace, ...],
        missing_scp_level: int | None = None,
        gaps: tuple[PolicyType, ...] = (),
    ) -> None:
        self._outcome = outcome
        self._request = request
        self._policy_type = policy_type
        self._reason = reason
        self._decisive = decisive
        self._trace: tuple[PolicyTrace, ...] | None = trace
        self._recorded: _Recorded = []
        self._missing_scp_level = missing_scp_level
        self._gaps = gaps

    @classmethod
    def _record(
        cls,
        outcome: Outcome,
        request: Request,
        policy_type: PolicyType | None,
        reason: str,
        decisive: tuple[StatementOutcome, ...],
        recorded: _Recorded,
        missing_scp_level: int | None = None,
        gaps: tuple[PolicyType, ...] = (),
    ) -> Decision:
        """A decision whose trace is built from ``recorded`` when it is first read."""
        decision = cls.__new__(cls)
        decision._outcome = outcome
        decision._request = request
        decision._policy_type = policy_type
        decision._reason = reason
        decision._decisive = decisive
        decision._trace = None
        decision._recorded = recorded
        decision._missing_scp_level = missing_scp_level
        decision._gaps = gaps
        return decision

    @property
    def outcome(self) -> Outcome:
        """Allowed, ImplicitlyDenied or ExplicitlyDenied."""
        return self._outcome

    @property
    def request(self) -> Request:
        """The request that was decided."""
        return self._request

    @property
    def policy_type(self) -> PolicyType | None:
        """The type that denied, or that was missing an allow; None when allowed."""
        return self._policy_type

    @property
    def reason(self) -> str:
        """One line: how the request was allowed, or why not."""
        return self._reason

    @property
    def decisive(self) -> tuple[StatementOutcome, ...]:
        """The statements that decided: every applicable Deny, or every applicable Allow."""
        return self._decisive

    @property
    def trace(self) -> tuple[PolicyTrace, ...]:
        """Every policy's statement outcomes, in evaluation order."""
        trace = self._trace
        if trace is None:
            trace = self._trace = tuple(PolicyTrace(n, o) for n, o in self._recorded)
        return trace

    @property
    def missing_scp_level(self) -> int | None:
        """For an SCP implicit deny: the first level (0 is the root) without an Allow."""
        return self._missing_scp_level

    @property
    def gaps(self) -> tuple[PolicyType, ...]:
        """For an implicit deny: every policy type that must change to allow the request."""
        return self._gaps

    def _fields(self) -> tuple[object, ...]:
        return (
            self._outcome,
            self._request,
            self._policy_type,
            self._reason,
            self._decisive,
            self.trace,
            self._missing_scp_level,
            self._gaps,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Decision) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        values = ", ".join(
            f"{name}={value!r}"
            for name, value in zip(self.__match_args__, self._fields(), strict=True)
        )
        return f"{type(self).__name__}({values})"

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


# Enum attribute lookups cost ~140 ns each on CPython 3.11: the hot path compares against
# these module-level aliases instead.
_DENY = Effect.DENY
_SCP, _IDENTITY, _RESOURCE = PolicyType.SCP, PolicyType.IDENTITY, PolicyType.RESOURCE
_BOUNDARY, _SESSION = PolicyType.BOUNDARY, PolicyType.SESSION
_ALLOWED, _IMPLICIT = Outcome.ALLOWED, Outcome.IMPLICITLY_DENIED
_DIRECT, _ROLE, _ACCOUNT = Grant.DIRECT, Grant.ROLE, Grant.ACCOUNT
_SERVICE, _ROOT = PrincipalKind.SERVICE, PrincipalKind.ROOT


def decide(request: Request, policies: PolicySet) -> Decision:
    """AWS's decision for ``request`` under ``policies``, with its explanation.

    One pass over every statement of every policy records each statement's outcome (the
    trace) and collects the applicable Allows and Denies. Policies are visited in the
    precedence order of explicit denies (SCP, resource, identity, boundary, session), so
    the first Deny found names the policy type AWS reports.
    """
    # A boundary among the policies means the caller has one (NotPrincipal needs it).
    boundary_attached = policies.boundaries is not None
    folded = request.action.lower()
    recorded: _Recorded = []
    allows: list[StatementOutcome] = []
    denies: list[StatementOutcome] = []
    deny_type: PolicyType | None = None
    missing_level: int | None = None

    for level, scps in enumerate(policies.scp_levels or ()):
        level_allows = False
        for named in scps:
            outcomes, applied = named.compiled.run(request, folded, named.labels, boundary_attached)
            recorded.append((named, outcomes))
            for outcome in applied:
                if outcome.statement.effect is _DENY:
                    denies.append(outcome)
                    if deny_type is None:  # the first Deny found has precedence
                        deny_type = _SCP
                else:
                    allows.append(outcome)
                    level_allows = True
        if not level_allows and missing_level is None:
            missing_level = level

    # Plain booleans, not sets: hashing an Enum member runs Python code.
    direct = role = account = False
    named_resource = policies.resource_policy
    # An account-level action (resource "*") has no resource, so no resource policy counts:
    # a repository policy never grants ecr:GetAuthorizationToken.
    if named_resource is not None and request.resource != "*":
        outcomes, applied = named_resource.compiled.run(
            request, folded, named_resource.labels, boundary_attached
        )
        recorded.append((named_resource, outcomes))
        for outcome in applied:
            if outcome.statement.effect is _DENY:
                denies.append(outcome)
                if deny_type is None:  # the first Deny found has precedence
                    deny_type = _RESOURCE
            else:
                allows.append(outcome)
                grant = outcome.grant
                direct = direct or grant is _DIRECT
                role = role or grant is _ROLE
                account = account or grant is _ACCOUNT

    allowing = [False, False, False]  # identity, boundary, session
    for index, kind, group in (
        (0, _IDENTITY, policies.identity),
        (1, _BOUNDARY, policies.boundaries),
        (2, _SESSION, policies.session_policies),
    ):
        for named in group or ():
            outcomes, applied = named.compiled.run(request, folded, named.labels, boundary_attached)
            recorded.append((named, outcomes))
            for outcome in applied:
                if outcome.statement.effect is _DENY:
                    denies.append(outcome)
                    if deny_type is None:  # the first Deny found has precedence
                        deny_type = kind
                else:
                    allows.append(outcome)
                    allowing[index] = True

    if denies:
        return Decision._record(
            Outcome.EXPLICITLY_DENIED,
            request,
            deny_type,
            "explicit deny",
            tuple(denies),
            recorded,
        )
    return _without_denies(
        request,
        policies,
        recorded,
        tuple(allows),
        missing_level,
        (direct, role, account),
        allowing,
    )


def _without_denies(
    request: Request,
    policies: PolicySet,
    recorded: _Recorded,
    allows: tuple[StatementOutcome, ...],
    missing_level: int | None,
    grants: tuple[bool, bool, bool],
    allowing: list[bool],
) -> Decision:
    caller_kind = request.caller.kind
    direct, role, account = grants  # how resource-policy Allows named the caller
    if caller_kind is _SERVICE:  # SCPs do not apply to service principals
        if direct:
            reason = "the resource policy allows the service principal"
            return Decision._record(_ALLOWED, request, None, reason, allows, recorded)
        reason = "no resource-based policy allows the service"
        return _implicit(request, recorded, reason, (_RESOURCE,))
    if missing_level is not None:
        reason = f"no SCP at level {missing_level} allows the action"
        return _implicit(request, recorded, reason, (_SCP,), missing_level)

    root = caller_kind is _ROOT
    identity_allows, boundary_allows, session_allows = allowing
    identity = root or identity_allows
    boundary = root or policies.boundaries is None or boundary_allows
    session = policies.session_policies is None or session_allows
    # The gaps on the caller's side, in the order AWS reports them.
    account_gaps = _ACCOUNT_GAPS[identity, boundary, session]
    same_account = request.same_account
    if (not same_account or request.is_trust_request) and not (direct or role or account):
        reason = "no resource-based policy allows the caller"
        return _implicit(request, recorded, reason, (_RESOURCE, *account_gaps))

    if same_account:
        if direct:
            reason = "the resource policy names the caller itself"
            return Decision._record(_ALLOWED, request, None, reason, allows, recorded)
        if role and boundary and session:
            reason = "the resource policy names the caller's role"
            return Decision._record(_ALLOWED, request, None, reason, allows, recorded)
        if not account_gaps:
            reason = "an identity-based policy allows it in the same account"
            return Decision._record(_ALLOWED, request, None, reason, allows, recorded)
        if role:
            # The role grant needs only the boundary and session policy to allow too.
            account_gaps = tuple(g for g in account_gaps if g is not _IDENTITY)
    elif not account_gaps:
        reason = "both the resource policy and the caller's account allow it"
        return Decision._record(_ALLOWED, request, None, reason, allows, recorded)
    return _implicit(request, recorded, _GAP_REASONS[account_gaps[0]], account_gaps)


def _implicit(
    request: Request,
    recorded: _Recorded,
    reason: str,
    gaps: tuple[PolicyType, ...],
    missing_level: int | None = None,
) -> Decision:
    return Decision._record(_IMPLICIT, request, gaps[0], reason, (), recorded, missing_level, gaps)


_ACCOUNT_GAPS = {
    (identity, boundary, session): tuple(
        kind
        for kind, ok in ((_IDENTITY, identity), (_BOUNDARY, boundary), (_SESSION, session))
        if not ok
    )
    for identity in (False, True)
    for boundary in (False, True)
    for session in (False, True)
}
"""The caller-side policy types that do not allow, by (identity, boundary, session) allowing."""

_GAP_REASONS = {
    PolicyType.IDENTITY: "no identity-based policy allows the action",
    PolicyType.BOUNDARY: "the permissions boundary does not allow the action",
    PolicyType.SESSION: "the session policy does not allow the action",
}
