"""The smallest fix for a denied pull, push or action, proved by deciding again.

Each round reads the denied decisions: every applicable Deny becomes "remove this
statement"; every missing policy type (``Decision.gaps``, the same gaps ``crossdock
policy explain`` reports) becomes "add this statement" to the policy that lacks it:

* resource-based policy → a statement in the repository policy naming the caller (the
  user, the role of a session, or the account root);
* identity-based policy → a new inline policy of the user or role;
* permissions boundary → a statement in the boundary (a new version of that policy);
* service control policy → a statement in an SCP at the level that lacks an Allow.

The edits are applied to an :class:`~crossdock.service.access.overlay.OverlaySource` and
every action is decided again through the Authorizer; rounds repeat until everything is
allowed (``verified``) or no further step can be named.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from typing import Any

from crossdock.policy.decide import Decision, NamedPolicy, Outcome, PolicyType
from crossdock.policy.model import Policy
from crossdock.policy.serialize import policy_to_json
from crossdock.service.access.actions import action_resource
from crossdock.service.access.effective import neutral_request
from crossdock.service.access.overlay import OverlaySource, PolicyEdits, resource_policy_id
from crossdock.service.access.principals import KnownPrincipal, PrincipalType
from crossdock.service.authz import Authorizer, PolicySource

_MAX_ROUNDS = 4
VERSION = "2012-10-17"


class Change(Enum):
    """What a fix step does to its policy."""

    ADD = "add-statement"
    REMOVE = "remove-statement"


@dataclass(frozen=True, slots=True)
class PolicyTarget:
    """The policy a step changes: its type, the id decisions use, how people and tools
    find it (``locator``), and a description."""

    policy_type: PolicyType
    policy_id: str
    description: str
    locator: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class FixStep:
    """Add ``statement`` to, or remove the statement ``removed`` from, one policy."""

    change: Change
    target: PolicyTarget
    statement: dict[str, Any]
    removed: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form: what to change, where, and the statement."""
        out: dict[str, Any] = {
            "change": self.change.value,
            "policyType": self.target.policy_type.value,
            "policy": self.target.policy_id,
            "description": self.target.description,
            **dict(self.target.locator),
            "statement": self.statement,
        }
        if self.removed is not None:
            out["removeStatement"] = self.removed
        return out

    def to_text(self) -> str:
        """One instruction line, then the statement as indented JSON."""
        if self.change is Change.REMOVE:
            head = (
                f"remove the Deny statement {self.removed} from {self.target.description}"
                " (or narrow it so it no longer matches): an explicit deny always wins"
            )
        else:
            head = f"add this statement to {self.target.description}:"
        body = json.dumps(self.statement, indent=2)
        return head + "\n" + "\n".join("  " + line for line in body.splitlines())


@dataclass(frozen=True, slots=True)
class Fix:
    """The steps, in order, and whether deciding again allowed every action."""

    steps: tuple[FixStep, ...]
    verified: bool

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"verified": self.verified, "steps": [s.to_json() for s in self.steps]}


def _camel(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text))


def _actions(actions: list[str]) -> str | list[str]:
    return actions[0] if len(actions) == 1 else actions


def _text(policy: Policy) -> str:
    return json.dumps(policy_to_json(policy))


def _append(document_text: str | None, statement: dict[str, Any]) -> str:
    """The document with ``statement`` appended; its Sid made unique in the document."""
    document: dict[str, Any] = (
        json.loads(document_text)
        if document_text is not None
        else {"Version": VERSION, "Statement": []}
    )
    body = document.get("Statement", [])
    listed: list[Any] = body if isinstance(body, list) else [body]
    taken = {entry.get("Sid") for entry in listed if isinstance(entry, dict)}
    base = sid = str(statement["Sid"])
    number = 2
    while sid in taken:
        sid, number = f"{base}{number}", number + 1
    statement["Sid"] = sid
    document["Statement"] = [*listed, statement]
    return json.dumps(document)


def _repository_name(resource_arn: str) -> str:
    return resource_arn.split(":", 5)[5].removeprefix("repository/")


ScpCatalog = Mapping[str, tuple[str, str]]
"""SCP policy id → (its name, the root, OU or account it is attached to)."""


def describe_policy(kind: PolicyType, policy_id: str, scps: ScpCatalog) -> PolicyTarget:
    """The policy a decision reports as ``policy_id``: a description and its locator."""
    if kind is PolicyType.RESOURCE:
        arn = policy_id.removesuffix(" repository policy")
        return PolicyTarget(
            kind, policy_id, f"the repository policy of {arn}", (("repositoryArn", arn),)
        )
    if kind is PolicyType.SCP:
        name, attached = scps.get(policy_id, (policy_id, "?"))
        return PolicyTarget(
            kind,
            policy_id,
            f"the service control policy {name} ({policy_id}, attached to {attached})",
            (("scpId", policy_id), ("scpName", name), ("attachedTo", attached)),
        )
    if kind is PolicyType.BOUNDARY:
        return PolicyTarget(
            kind,
            policy_id,
            f"the permissions boundary {policy_id}",
            (("policyArn", policy_id),),
        )
    owner, space, name = policy_id.partition(" ")
    if space:
        return PolicyTarget(
            kind,
            policy_id,
            f"the inline policy {name} of {owner}",
            (("principalArn", owner), ("inlinePolicyName", name)),
        )
    return PolicyTarget(
        kind, policy_id, f"the managed policy {policy_id}", (("policyArn", policy_id),)
    )


@dataclass
class _Round:
    """One round's view: the current policies by id, and the steps gathered."""

    principal: KnownPrincipal
    scp_levels: tuple[tuple[str, ...], ...]
    scps: ScpCatalog
    policies: dict[str, NamedPolicy]
    edits: PolicyEdits
    repository_arn: str

    def target(self, kind: PolicyType, policy_id: str) -> PolicyTarget:
        """Describe the policy ``policy_id`` of type ``kind``."""
        return describe_policy(kind, policy_id, self.scps)

    def remove(self, label: str, kind: PolicyType) -> FixStep | None:
        """Remove the statement ``label`` (``<policy id>#<Sid or index>``)."""
        policy_id, _, _ = label.rpartition("#")
        named = self.policies.get(policy_id)
        if named is None:
            return None
        policy = named.compiled.policy
        kept = tuple(s for s in policy.statements if s.label(policy_id) != label)
        gone = [s for s in policy.statements if s.label(policy_id) == label]
        self.edits.replaced[policy_id] = _text(Policy(policy.version, kept, policy.id))
        statement = policy_to_json(Policy(policy.version, tuple(gone), None))["Statement"][0]
        return FixStep(Change.REMOVE, self.target(kind, policy_id), statement, label)

    def add(self, kind: PolicyType, resource: str, actions: list[str]) -> FixStep | None:
        """A statement allowing ``actions`` on ``resource`` in the policy of type ``kind``
        that lacks it (for an SCP, ``resource`` is ``scp-level-N``); None when no policy
        of that type can be named."""
        who = self.principal
        owner = who.principal.caller().identity_owner
        if kind is PolicyType.RESOURCE:
            policy_id = resource_policy_id(resource)
            root = who.kind is PrincipalType.ROOT
            label = "Account" if root else who.kind.value.title() + _camel(who.name)
            statement: dict[str, Any] = {
                "Sid": f"Allow{label}{who.account_id}",
                "Effect": "Allow",
                "Principal": {"AWS": who.arn if root else owner},
                "Action": _actions(actions),
            }
            named = self.policies.get(policy_id)
            if named is None:
                self.edits.new_resource_policies[resource] = _append(None, statement)
            else:
                text = _append(_text(named.compiled.policy), statement)
                self.edits.replaced[policy_id] = text
            return FixStep(Change.ADD, self.target(kind, policy_id), statement)
        sid = (
            "EcrAuthorizationToken"
            if resource == "*"
            else "Ecr" + _camel(_repository_name(resource))
        )
        statement = {"Sid": sid, "Effect": "Allow", "Action": _actions(actions)}
        statement["Resource"] = "*" if kind is PolicyType.SCP else resource
        if kind is PolicyType.IDENTITY:
            name = "crossdock-access-" + _repository_name(self.repository_arn).replace("/", "-")
            policy_id = f"{owner} {name}"
            current = self.edits.added_identity.get(policy_id)
            self.edits.added_identity[policy_id] = _append(current, statement)
            target = self.target(kind, policy_id)
            new = replace(target, description=f"a new inline policy {name} of {owner}")
            return FixStep(Change.ADD, new, statement)
        if kind is PolicyType.BOUNDARY:
            policy_id = who.boundary_arn or ""
        elif kind is PolicyType.SCP:
            level = int(resource.removeprefix("scp-level-"))
            ids = self.scp_levels[level] if level < len(self.scp_levels) else ()
            policy_id = ids[0] if ids else ""
        else:
            return None  # a session policy: the principals here have none
        named = self.policies.get(policy_id)
        if named is None:
            return None
        self.edits.replaced[policy_id] = _append(_text(named.compiled.policy), statement)
        return FixStep(Change.ADD, self.target(kind, policy_id), statement)


def _steps(rounds: _Round, denied: list[Decision]) -> list[FixStep]:
    steps: list[FixStep] = []
    removed: set[str] = set()
    gaps: dict[PolicyType, dict[str, list[str]]] = {}
    for decision in denied:
        if decision.outcome is Outcome.EXPLICITLY_DENIED:
            types = {o.label: t.policy.policy_type for t in decision.trace for o in t.outcomes}
            for outcome in decision.decisive:
                if outcome.label not in removed:
                    removed.add(outcome.label)
                    step = rounds.remove(outcome.label, types[outcome.label])
                    if step is not None:
                        steps.append(step)
            continue
        request = decision.request
        for gap in decision.gaps:
            if gap is PolicyType.SCP:
                key = f"scp-level-{decision.missing_scp_level or 0}"
                # An SCP statement allows the action everywhere the SCP applies.
                gaps.setdefault(gap, {}).setdefault(key, []).append(request.action)
                continue
            grouped = gaps.setdefault(gap, {}).setdefault(request.resource, [])
            if request.action not in grouped:
                grouped.append(request.action)
    for kind in (PolicyType.SCP, PolicyType.RESOURCE, PolicyType.IDENTITY, PolicyType.BOUNDARY):
        for resource, actions in gaps.get(kind, {}).items():
            step = rounds.add(kind, resource, actions)
            if step is not None:
                steps.append(step)
    return steps


def smallest_fix(
    source: PolicySource,
    principal: KnownPrincipal,
    actions: tuple[str, ...],
    repository_arn: str,
    region: str,
    now: datetime,
    scps: ScpCatalog,
) -> Fix:
    """The steps that make every action allowed, proved through the Authorizer."""
    edits = PolicyEdits()
    base = source.principal_policies(principal.principal)
    levels = tuple(tuple(d.policy_id for d in level) for level in base.scp_levels or ())
    info = neutral_request(now, region)
    steps: list[FixStep] = []
    for _ in range(_MAX_ROUNDS):
        # The overlay changed: a new Authorizer, so nothing compiled earlier is reused.
        authorizer = Authorizer(OverlaySource(source, edits))
        decisions = [
            authorizer.decide(
                principal.principal, action, action_resource(action, repository_arn), info
            )
            for action in actions
        ]
        denied = [d for d in decisions if not d.allowed]
        if not denied:
            return Fix(tuple(steps), verified=True)
        policies = {t.policy.policy_id: t.policy for d in decisions for t in d.trace}
        current = _Round(principal, levels, scps, policies, edits, repository_arn)
        new = _steps(current, denied)
        if not new:
            break
        steps.extend(new)
    return Fix(tuple(steps), verified=False)
