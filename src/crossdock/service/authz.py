"""The single place that loads policies and asks the policy engine.

Every service operation calls :meth:`Authorizer.require` before it touches data. The
request context of spec §4.6 is built here, from the principal, the HTTP request facts
(:class:`RequestInfo`) and the operation's own keys (``aws:RequestTag/...``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from crossdock.auth.principal import Principal
from crossdock.policy.context import PrincipalKind, Request
from crossdock.policy.decide import (
    Decision,
    NamedPolicy,
    Outcome,
    PolicySet,
    PolicyType,
    decide,
)
from crossdock.policy.evaluate import compile_policy
from crossdock.policy.parse import parse_policy_text
from crossdock.policy.variables import ContextValue
from crossdock.service.errors import AccessDeniedError


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """Facts about the HTTP request that become global condition keys."""

    source_ip: str
    secure_transport: bool
    user_agent: str
    now: datetime
    region: str
    operation: str = ""
    """The API operation (the decision trail's ``eventName``); empty when the action names it."""
    parameters: Mapping[str, object] | None = None
    """Request parameters the decision trail may record (it keeps an allow-list of them)."""
    protocol: str = "api"
    """``api`` (ECR, IAM, STS) or ``v2`` (the registry data plane)."""


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    """A stored policy: the id decisions report it under, and its JSON text."""

    policy_id: str
    text: str


@dataclass(frozen=True, slots=True)
class PrincipalPolicies:
    """Everything on the caller's side of a decision."""

    identity: tuple[PolicyDocument, ...] = ()
    boundary: PolicyDocument | None = None
    scp_levels: tuple[tuple[PolicyDocument, ...], ...] | None = None
    org_id: str | None = None
    org_paths: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ResourceInfo:
    """Everything on the resource's side: its owner, its policy and its tags."""

    arn: str
    account_id: str
    policy: PolicyDocument | None = None
    tags: tuple[tuple[str, str], ...] = ()


class PrincipalPolicyLoader(Protocol):
    """Reads the caller's side: identity policies, boundary, SCP levels, org facts."""

    def principal_policies(self, principal: Principal) -> PrincipalPolicies:
        """Identity policies, boundary, SCP levels and org facts of ``principal``."""
        ...


class ResourceLookup(Protocol):
    """Reads one service's resources (IAM roles with their trust policy, ECR repositories)."""

    def resource(self, resource_arn: str) -> ResourceInfo | None:
        """The resource's owner, policy and tags; None when it does not exist."""
        ...


@dataclass(frozen=True, slots=True)
class StorePolicySource:
    """A PolicySource over a principal loader and one resource lookup per ARN service."""

    principals: PrincipalPolicyLoader
    resources: Mapping[str, ResourceLookup]

    def principal_policies(self, principal: Principal) -> PrincipalPolicies:
        """Delegate to the principal loader."""
        return self.principals.principal_policies(principal)

    def resource(self, resource_arn: str) -> ResourceInfo | None:
        """Ask the lookup registered for the ARN's service (``iam``, ``ecr``)."""
        parts = resource_arn.split(":", 5)
        lookup = self.resources.get(parts[2]) if len(parts) == 6 else None
        return lookup.resource(resource_arn) if lookup is not None else None


class DecisionRecorder(Protocol):
    """Where a network-facing authorizer reports every decision (the decision trail)."""

    def record(self, principal: Principal, decision: Decision, info: RequestInfo) -> None:
        """Take note of ``decision``; must be cheap and must not raise."""
        ...


class PolicySource(Protocol):
    """Where the authorizer reads policies from (implemented over the stores)."""

    def principal_policies(self, principal: Principal) -> PrincipalPolicies:
        """Identity policies, boundary, SCP levels and org facts of ``principal``."""
        ...

    def resource(self, resource_arn: str) -> ResourceInfo | None:
        """The resource's owner, policy (repository or trust policy) and tags."""
        ...


@dataclass
class _CompiledPolicies:
    """Compiled policies keyed by (id, type, text, SCP level): equal documents compile once."""

    limit: int = 4096
    entries: OrderedDict[tuple[str, PolicyType, str], NamedPolicy] = field(
        default_factory=OrderedDict
    )

    def get(self, document: PolicyDocument, kind: PolicyType) -> NamedPolicy:
        key = (document.policy_id, kind, document.text)
        found = self.entries.get(key)
        if found is None:
            compiled = compile_policy(parse_policy_text(document.text))
            found = NamedPolicy(document.policy_id, kind, compiled)
            self.entries[key] = found
            if len(self.entries) > self.limit:
                self.entries.popitem(last=False)
        return found


class Authorizer:
    """Builds the request context, gathers the policies and decides."""

    def __init__(self, source: PolicySource, recorder: DecisionRecorder | None = None) -> None:
        self._source = source
        self._compiled = _CompiledPolicies()
        self._recorder = recorder

    def decide(
        self,
        principal: Principal,
        action: str,
        resource: str,
        info: RequestInfo,
        extra: Mapping[str, ContextValue] | None = None,
    ) -> Decision:
        """AWS's decision for ``principal`` doing ``action`` on ``resource`` (ARN or ``*``)."""
        theirs = self._source.principal_policies(principal)
        target = None if resource == "*" else self._source.resource(resource)
        context = request_context(principal, theirs, target, info, extra or {})
        policies = self._policy_set(principal, theirs, target)
        request = Request(principal.caller(), action, resource, context)
        decision = decide(request, policies)
        if self._recorder is not None:
            self._recorder.record(principal, decision, info)
        return decision

    def require(
        self,
        principal: Principal,
        action: str,
        resource: str,
        info: RequestInfo,
        extra: Mapping[str, ContextValue] | None = None,
    ) -> Decision:
        """Like :meth:`decide`, but raise AccessDeniedError unless the request is allowed."""
        decision = self.decide(principal, action, resource, info, extra)
        if not decision.allowed:
            raise AccessDeniedError(decision)
        return decision

    def _policy_set(
        self, principal: Principal, theirs: PrincipalPolicies, target: ResourceInfo | None
    ) -> PolicySet:
        get = self._compiled.get
        session = principal.session
        session_policies = None
        if session is not None and session.session_policy is not None:
            document = PolicyDocument(f"{session.role_arn} session policy", session.session_policy)
            session_policies = (get(document, PolicyType.SESSION),)
        levels = None
        if theirs.scp_levels:
            levels = tuple(
                tuple(get(d, PolicyType.SCP) for d in level) for level in theirs.scp_levels
            )
        resource_policy = None
        if target is not None and target.policy is not None:
            resource_policy = get(target.policy, PolicyType.RESOURCE)
        return PolicySet(
            identity=tuple(get(d, PolicyType.IDENTITY) for d in theirs.identity),
            resource_policy=resource_policy,
            boundaries=None
            if theirs.boundary is None
            else (get(theirs.boundary, PolicyType.BOUNDARY),),
            session_policies=session_policies,
            scp_levels=levels,
        )


class OperatorAuthorizer(Authorizer):
    """Allows everything: the operator's own path (applying a scenario file).

    It is built only by ``crossdock scenario apply`` and ``serve --scenario`` for the
    services they call; the network-facing services always get a real :class:`Authorizer`.
    Its decisions say so in their reason.
    """

    def __init__(self) -> None:
        pass

    def decide(
        self,
        principal: Principal,
        action: str,
        resource: str,
        info: RequestInfo,
        extra: Mapping[str, ContextValue] | None = None,
    ) -> Decision:
        """An Allowed decision with no policies behind it."""
        request = Request(principal.caller(), action, resource, {})
        return Decision(Outcome.ALLOWED, request, None, "operator (scenario apply)", (), ())


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def request_context(
    principal: Principal,
    theirs: PrincipalPolicies,
    target: ResourceInfo | None,
    info: RequestInfo,
    extra: Mapping[str, ContextValue],
) -> dict[str, ContextValue]:
    """The condition keys of spec §4.6, keyed in lower case as the engine expects."""
    keys: dict[str, ContextValue] = {
        "aws:principalaccount": principal.account_id,
        "aws:principalarn": principal.principal_arn,
        "aws:principaltype": principal.kind.value,
        "aws:userid": principal.unique_id,
        "aws:principalisawsservice": "false",
        "aws:viaawsservice": "false",
        "aws:sourceip": info.source_ip,
        "aws:securetransport": "true" if info.secure_transport else "false",
        "aws:currenttime": _iso(info.now),
        "aws:epochtime": str(int(info.now.timestamp())),
        "aws:useragent": info.user_agent,
        "aws:requestedregion": info.region,
    }
    if principal.kind is PrincipalKind.USER and principal.user_name is not None:
        keys["aws:username"] = principal.user_name
    for tag_key, value in principal.tags:
        keys[f"aws:principaltag/{tag_key.lower()}"] = value
    if theirs.org_id is not None:
        keys["aws:principalorgid"] = theirs.org_id
        keys["aws:principalorgpaths"] = theirs.org_paths
    session = principal.session
    if session is not None:
        keys["aws:tokenissuetime"] = _iso(session.issued_at)
        keys["aws:multifactorauthpresent"] = "false"
    if target is not None:
        keys["aws:resourceaccount"] = target.account_id
        for tag_key, value in target.tags:
            keys[f"aws:resourcetag/{tag_key.lower()}"] = value
            keys[f"ecr:resourcetag/{tag_key.lower()}"] = value
    for extra_key, extra_value in extra.items():
        keys[extra_key.lower()] = extra_value
    return keys
