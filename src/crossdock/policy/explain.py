"""A :class:`~crossdock.policy.decide.Decision` as a human trace and as JSON.

Nothing is evaluated again here: the trace, the AccessDenied text and the smallest fix
are all read off the decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crossdock.policy.context import PrincipalKind, Request
from crossdock.policy.decide import Decision, Outcome, PolicyTrace, PolicyType
from crossdock.policy.evaluate import Grant, StatementOutcome
from crossdock.policy.model import Effect

_POLICY_NAMES = {
    PolicyType.SCP: "service control policy",
    PolicyType.RESOURCE: "resource policy",
    PolicyType.IDENTITY: "identity policy",
    PolicyType.BOUNDARY: "permissions boundary",
    PolicyType.SESSION: "session policy",
}


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One statement's part in the decision."""

    label: str
    effect: str
    applied: bool
    why: str


@dataclass(frozen=True, slots=True)
class PolicyLines:
    """One policy's statements, in document order."""

    policy_id: str
    policy_type: str
    statements: tuple[StatementLine, ...]


@dataclass(frozen=True, slots=True)
class Explanation:
    """Everything ``crossdock policy explain`` shows about one decision."""

    decision: str
    accounts: str
    reason: str
    policies: tuple[PolicyLines, ...]
    decisive: tuple[str, ...]
    message: str | None
    fix: str | None
    near_misses: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (the ``--format json`` output)."""
        return {
            "decision": self.decision,
            "accounts": self.accounts,
            "reason": self.reason,
            "decisive": list(self.decisive),
            "message": self.message,
            "fix": self.fix,
            "nearMisses": list(self.near_misses),
            "policies": [
                {
                    "id": p.policy_id,
                    "type": p.policy_type,
                    "statements": [
                        {"id": s.label, "effect": s.effect, "applied": s.applied, "why": s.why}
                        for s in p.statements
                    ],
                }
                for p in self.policies
            ],
        }

    def to_text(self) -> str:
        """Plain multi-line text; the CLI adds colour on a terminal."""
        lines = [f"decision: {self.decision}", f"accounts: {self.accounts}"]
        lines.append(f"reason:   {self.reason}")
        for policy in self.policies:
            lines.append(f"{policy.policy_type} {policy.policy_id}:")
            if not policy.statements:
                lines.append("  (no statements)")
            for s in policy.statements:
                mark = "applies" if s.applied else "skipped"
                lines.append(f"  {s.label} {s.effect} {mark}: {s.why}")
        if self.decisive:
            lines.append("decisive: " + ", ".join(self.decisive))
        if self.message:
            lines.append(f"AccessDenied: {self.message}")
        for miss in self.near_misses:
            lines.append(f"near miss: {miss}")
        if self.fix:
            lines.append(f"fix: {self.fix}")
        return "\n".join(lines)


_GRANT_NOTES = {
    Grant.DIRECT: " (its Principal names the caller)",
    Grant.ROLE: " (its Principal names the caller's role)",
    Grant.ACCOUNT: " (its Principal names the caller's account: the caller's IAM must allow too)",
}


def _why(outcome: StatementOutcome) -> str:
    if outcome.applies:
        note = _GRANT_NOTES[outcome.grant] if outcome.grant is not None else ""
        return "matches the request" + note
    element = outcome.mismatch or "?"
    if element.startswith("Condition "):
        return f"condition not met: {element.removeprefix('Condition ')}"
    if element.startswith("Not"):
        return f"{element} excludes the request"
    return f"{element} does not match"


def accounts_line(request: Request) -> str:
    """Which accounts are involved and what that means for the evaluation."""
    caller, owner = request.caller, request.resource_account
    if request.caller.kind is PrincipalKind.SERVICE:
        return f"service principal {caller.arn} calling into account {owner}"
    if request.same_account:
        return f"same account ({owner}): either side may allow"
    return (
        f"cross-account: caller in {caller.account}, resource in {owner}:"
        " both the resource policy and the caller's account must allow"
    )


def _gap_fix(decision: Decision, kind: PolicyType) -> str:
    request = decision.request
    action, resource = request.action, request.resource
    owner = request.caller.identity_owner
    if kind is PolicyType.SCP:
        account = request.caller.account
        return (
            f"allow {action} in a service control policy at SCP level"
            f" {decision.missing_scp_level} (0 is the organization root) on the path to"
            f" account {account}"
        )
    if kind is PolicyType.RESOURCE:
        target = "trust policy of" if request.is_trust_request else "resource policy of"
        return f"add a statement to the {target} {resource} that allows {owner} to perform {action}"
    if kind is PolicyType.IDENTITY:
        return f"add {action} on {resource} to an identity policy of {owner}"
    if kind is PolicyType.BOUNDARY:
        return f"add {action} on {resource} to the permissions boundary of {owner}"
    return (
        f"add {action} on {resource} to the session policy, or create the session"
        " without a session policy"
    )


def _fix(decision: Decision) -> str | None:
    if decision.outcome is Outcome.ALLOWED:
        return None
    if decision.outcome is Outcome.EXPLICITLY_DENIED:
        labels = ", ".join(decision.decisive_ids)
        return f"remove or narrow the Deny statement(s) {labels}; an explicit deny always wins"
    return "; and ".join(_gap_fix(decision, kind) for kind in decision.gaps)


def _near_misses(decision: Decision) -> tuple[str, ...]:
    misses: list[str] = []
    for trace in decision.trace:
        if trace.policy.policy_type not in decision.gaps:
            continue
        for outcome in trace.outcomes:
            close = outcome.mismatch not in (None, "Action", "NotAction")
            if outcome.effect is Effect.ALLOW and close:
                misses.append(f"{outcome.label} covers the action but {_why(outcome)}")
    return tuple(misses)


def _policy_lines(trace: PolicyTrace) -> PolicyLines:
    return PolicyLines(
        trace.policy.policy_id,
        _POLICY_NAMES[trace.policy.policy_type],
        tuple(StatementLine(o.label, o.effect.value, o.applies, _why(o)) for o in trace.outcomes),
    )


def explain(decision: Decision) -> Explanation:
    """Turn a decision into its explanation."""
    return Explanation(
        decision=decision.outcome.value,
        accounts=accounts_line(decision.request),
        reason=decision.reason,
        policies=tuple(_policy_lines(t) for t in decision.trace),
        decisive=decision.decisive_ids,
        message=decision.message,
        fix=_fix(decision),
        near_misses=_near_misses(decision),
    )
