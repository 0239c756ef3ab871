"""Effective access: every action of a pull or push decided through the Authorizer.

A principal can pull (or push) a repository only when every action of the verb is
allowed. Decisions use a neutral request (:func:`neutral_request`); grants and denials
that hinge on request-time condition keys are *conditional* (see ``conditions.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from crossdock.policy.decide import Decision, PolicyType, side_of
from crossdock.policy.evaluate import StatementOutcome
from crossdock.service.access.actions import action_resource
from crossdock.service.access.conditions import (
    conditional_allows,
    depends_on_request,
    request_dependence,
)
from crossdock.service.access.principals import KnownPrincipal
from crossdock.service.authz import Authorizer, RequestInfo


class Access(Enum):
    """The answer for one principal, one verb (or action) and one repository."""

    ALLOWED = "allowed"
    CONDITIONAL = "conditional"
    DENIED = "denied"


def neutral_request(now: datetime, region: str) -> RequestInfo:
    """A request with no source IP (every IP condition is false), over TLS, at ``now``."""
    return RequestInfo(
        source_ip="", secure_transport=True, user_agent="crossdock", now=now, region=region
    )


@dataclass(frozen=True, slots=True)
class Grant:
    """One statement that grants (part of) the access."""

    label: str
    policy_id: str
    policy_type: PolicyType
    conditional: bool = False

    @property
    def side(self) -> str:
        """``principal account`` or ``resource account``."""
        return side_of(self.policy_type).value

    def to_json(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "statement": self.label,
            "policy": self.policy_id,
            "policyType": self.policy_type.value,
            "side": self.side,
            "conditional": self.conditional,
        }


@dataclass(frozen=True, slots=True)
class ActionResult:
    """One action's decision and what it depends on."""

    action: str
    resource: str
    decision: Decision
    conditional_on: tuple[str, ...]

    @property
    def access(self) -> Access:
        """Allowed, conditional or denied."""
        if self.conditional_on:
            return Access.CONDITIONAL
        return Access.ALLOWED if self.decision.allowed else Access.DENIED


@dataclass(frozen=True, slots=True)
class AccessResult:
    """Every action of a verb for one principal on one repository."""

    principal: KnownPrincipal
    repository_arn: str
    results: tuple[ActionResult, ...]

    @property
    def access(self) -> Access:
        """Allowed when every action is; denied when one is; else conditional."""
        kinds = {result.access for result in self.results}
        if Access.DENIED in kinds:
            return Access.DENIED
        return Access.CONDITIONAL if Access.CONDITIONAL in kinds else Access.ALLOWED

    @property
    def conditional_on(self) -> tuple[str, ...]:
        """Every request-time key some action depends on."""
        keys = (key for result in self.results for key in result.conditional_on)
        return tuple(dict.fromkeys(keys))

    def grants(self) -> tuple[Grant, ...]:
        """The statements that grant the actions, both sides, in decision order, once each.

        SCPs only limit, so their Allows are not listed. For a conditional denial, the
        Allow statements that missed on a request-time key are listed.
        """
        session = self.principal.principal.session is not None
        found: dict[str, Grant] = {}
        for result in self.results:
            decision = result.decision
            outcomes: tuple[StatementOutcome, ...] = ()
            if decision.allowed:
                outcomes = decision.decisive
            elif result.conditional_on:
                outcomes = conditional_allows(decision, session=session)
            types = {o.label: t.policy.policy_type for t in decision.trace for o in t.outcomes}
            for outcome in outcomes:
                kind = types[outcome.label]
                if outcome.label in found or kind is PolicyType.SCP:
                    continue
                conditional = depends_on_request(outcome, session=session)
                policy_id = outcome.label.rpartition("#")[0]
                found[outcome.label] = Grant(outcome.label, policy_id, kind, conditional)
        return tuple(found.values())


class AccessChecker:
    """Decides verbs and actions for principals on repositories, through the Authorizer."""

    def __init__(self, authorizer: Authorizer, now: datetime) -> None:
        self._authorizer = authorizer
        self._now = now

    def decide(
        self, principal: KnownPrincipal, action: str, repository_arn: str, region: str
    ) -> ActionResult:
        """One action's decision (account-level actions are decided on ``*``)."""
        resource = action_resource(action, repository_arn)
        info = neutral_request(self._now, region)
        decision = self._authorizer.decide(principal.principal, action, resource, info)
        session = principal.principal.session is not None
        return ActionResult(
            action, resource, decision, request_dependence(decision, session=session)
        )

    def check(
        self,
        principal: KnownPrincipal,
        actions: tuple[str, ...],
        repository_arn: str,
        region: str,
    ) -> AccessResult:
        """Every action of ``actions`` for ``principal`` on the repository."""
        results = tuple(self.decide(principal, a, repository_arn, region) for a in actions)
        return AccessResult(principal, repository_arn, results)
