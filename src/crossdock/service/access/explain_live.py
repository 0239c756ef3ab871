"""``crossdock explain``: one principal, one repository, one action or verb, live.

:func:`explain_live` is the one entry point: it decides every action through the
Authorizer with the stored policies, explains each decision with
:func:`crossdock.policy.explain.explain` (the same trace ``crossdock policy explain``
prints), and proves the smallest fix (``fixes.py``). ``--last-denied`` feeds it the
(principal, action, resource) of a trail event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crossdock.policy.decide import PolicyType
from crossdock.policy.explain import Explanation, accounts_line, explain
from crossdock.service.access.actions import expand_action
from crossdock.service.access.context import AccessContext
from crossdock.service.access.effective import Access, ActionResult
from crossdock.service.access.fixes import Fix, PolicyTarget, describe_policy, smallest_fix
from crossdock.service.access.principals import KnownPrincipal
from crossdock.service.ecr.common import RepositoryRef

_TRACE_SKIPPED = ("accounts: ", "fix: ")
"""Lines of the policy trace shown once at the top, or replaced by the proved fix."""


@dataclass(frozen=True, slots=True)
class ActionExplanation:
    """One action's decision and its explanation."""

    result: ActionResult
    explanation: Explanation

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form: the action, its resource, and ``policy explain``'s fields."""
        return {
            "action": self.result.action,
            "resource": self.result.resource,
            "access": self.result.access.value,
            "conditionalOn": list(self.result.conditional_on),
            **self.explanation.to_json(),
        }


@dataclass(frozen=True, slots=True)
class LiveExplanation:
    """Everything ``crossdock explain`` shows."""

    principal: KnownPrincipal
    repository_arn: str
    requested: str
    accounts: str
    actions: tuple[ActionExplanation, ...]
    policies: tuple[PolicyTarget, ...]
    fix: Fix | None

    @property
    def access(self) -> Access:
        """Allowed when every action is; denied when one is; else conditional."""
        kinds = {a.result.access for a in self.actions}
        if Access.DENIED in kinds:
            return Access.DENIED
        return Access.CONDITIONAL if Access.CONDITIONAL in kinds else Access.ALLOWED

    @property
    def first_denied(self) -> ActionExplanation | None:
        """The first action (in client order) that is not allowed: what the client hits."""
        return next((a for a in self.actions if not a.result.decision.allowed), None)

    @property
    def aws_error(self) -> str | None:
        """The error the client would see for the first denied action."""
        first = self.first_denied
        if first is None or first.explanation.message is None:
            return None
        return f"AccessDeniedException: {first.explanation.message}"

    def to_json(self) -> dict[str, Any]:
        """The ``--format json`` document."""
        return {
            "principal": self.principal.arn,
            "principalType": self.principal.kind.value,
            "repository": self.repository_arn,
            "request": self.requested,
            "accounts": self.accounts,
            "access": self.access.value,
            "awsError": self.aws_error,
            "policies": [
                {"id": p.policy_id, "type": p.policy_type.value, "description": p.description}
                for p in self.policies
            ],
            "actions": [a.to_json() for a in self.actions],
            "fix": None if self.fix is None else self.fix.to_json(),
        }

    def to_text(self) -> str:
        """Plain multi-line text; the CLI adds colour on a terminal."""
        denied = sum(1 for a in self.actions if a.result.access is Access.DENIED)
        summary = self.access.value.upper()
        if denied:
            summary += f" ({denied} of {len(self.actions)} actions denied)"
        actions = ", ".join(a.result.action for a in self.actions)
        request = actions if self.requested == actions else f"{self.requested} = {actions}"
        lines = [
            f"principal: {self.principal.arn} ({self.principal.label})",
            f"resource:  {self.repository_arn}",
            f"request:   {request}",
            f"accounts:  {self.accounts}",
            f"result:    {summary}",
            "policies:",
        ]
        lines.extend(f"  {p.policy_type.value}: {p.description}" for p in self.policies)
        lines.append("actions:")
        for item in self.actions:
            result = item.result
            lines.append(
                f"  {result.action} on {result.resource}: {result.decision.outcome.value}"
                f" ({result.decision.reason})"
            )
            if result.conditional_on:
                keys = ", ".join(result.conditional_on)
                lines.append(f"    conditional: depends on the request's {keys}")
            for label in dict.fromkeys(item.explanation.decisive):
                lines.append(f"    decisive: {label}")
        first = self.first_denied
        if first is not None:
            lines.append(f"trace of {first.result.action}:")
            lines.extend(
                f"  {line}"
                for line in first.explanation.to_text().splitlines()
                if not line.startswith(_TRACE_SKIPPED)
            )
        if self.aws_error is not None:
            lines.append(f"AWS error: {self.aws_error}")
        if self.fix is not None and self.fix.steps:
            proof = (
                "every action is Allowed with it"
                if self.fix.verified
                else "NOT proved: some action is still denied with it"
            )
            lines.append(f"smallest fix ({proof}):")
            for number, step in enumerate(self.fix.steps, 1):
                text = step.to_text().splitlines()
                lines.append(f"  {number}. {text[0]}")
                lines.extend(f"     {line}" for line in text[1:])
        return "\n".join(lines)


def explain_live(
    context: AccessContext,
    principal_arn: str,
    repository: RepositoryRef,
    action: str = "pull",
) -> LiveExplanation:
    """Explain ``principal_arn`` doing ``action`` (``pull``, ``push`` or an ECR action)
    on ``repository`` with the policies stored in the data dir.

    Raises AccessInputError for an unknown principal, account, repository or action.
    """
    actions = expand_action(action)
    principal = context.inventory.principal(principal_arn)
    record = context.inventory.repository(repository)
    arn = repository.arn
    checker = context.checker
    results = [checker.decide(principal, a, arn, record.region) for a in actions]
    explained = tuple(ActionExplanation(r, explain(r.decision)) for r in results)
    scps = context.inventory.scp_catalog(principal.account_id)
    seen: dict[str, PolicyTarget] = {}
    for result in results:
        for trace in result.decision.trace:
            named = trace.policy
            if named.policy_id not in seen:
                seen[named.policy_id] = describe_policy(named.policy_type, named.policy_id, scps)
    if record.policy_text is None:
        none = f"none: {arn} has no repository policy"
        seen[""] = PolicyTarget(PolicyType.RESOURCE, "", none, (("repositoryArn", arn),))
    fix = None
    if any(not r.decision.allowed for r in results):
        fix = smallest_fix(
            context.source, principal, actions, arn, record.region, context.now, scps
        )
    repository_request = next(
        (r.decision.request for r in results if r.resource != "*"), results[0].decision.request
    )
    return LiveExplanation(
        principal=principal,
        repository_arn=arn,
        requested=action if action.lower() in ("pull", "push") else ", ".join(actions),
        accounts=accounts_line(repository_request),
        actions=explained,
        policies=tuple(seen.values()),
        fix=fix,
    )
