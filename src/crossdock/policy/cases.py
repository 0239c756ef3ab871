"""The simulation case format used by ``crossdock policy simulate`` and ``explain``.

A case is a JSON object (see docs/policy.md, "Case format")::

    {"id": "...", "request": {"principal", "action", "resource", "context"},
     "identityPolicies": [...], "resourcePolicy": {...} | null,
     "permissionBoundaries": [...] | null, "sessionPolicies": [...] | null,
     "scps": [[...level 0...], [...level 1...]] | null}

Other top-level keys (``category``, ``description``, ``expected``, ...) are ignored.
Policy ids in decisions are positional: ``identity[0]``, ``resource``, ``boundary[0]``,
``session[0]``, ``scp[1][0]``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from crossdock.policy.context import Caller, PrincipalError, Request, normalize_context
from crossdock.policy.decide import Decision, NamedPolicy, PolicySet, PolicyType, decide
from crossdock.policy.errors import CaseError, PolicyParseError
from crossdock.policy.evaluate import CompiledPolicy, compile_policy
from crossdock.policy.parse import condition_value_text, parse_policy, pointer
from crossdock.policy.variables import ContextValue


@dataclass
class PolicyCache:
    """Compiled policies keyed by their content, so equal documents compile once."""

    entries: dict[str, CompiledPolicy] = field(default_factory=dict)

    def compile(self, raw: Any, where: str) -> CompiledPolicy:
        """Parse and compile a decoded JSON policy; CaseError locates any problem."""
        try:
            key = json.dumps(raw, sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError, RecursionError) as error:
            raise CaseError(f"the policy cannot be read: {error}", where) from error
        found = self.entries.get(key)
        if found is None:
            try:
                found = compile_policy(parse_policy(raw))
            except PolicyParseError as error:
                problem = error.problems[0]
                raise CaseError(problem.message, where + problem.pointer) from error
            self.entries[key] = found
        return found


@dataclass(frozen=True, slots=True)
class SimulationCase:
    """One parsed case: the request and its policies."""

    case_id: str
    request: Request
    policies: PolicySet


def _require_str(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise CaseError(f"`{key}` must be a non-empty string", f"{where}/{key}")
    return value


def _context(raw: Any, where: str) -> dict[str, ContextValue]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise CaseError("`context` must be an object of condition keys", where)
    context: dict[str, ContextValue] = {}
    for key, value in raw.items():
        if isinstance(value, list):
            texts = [condition_value_text(v) for v in value]
            if any(t is None for t in texts):
                raise CaseError("context list values must be strings", where + pointer(key))
            context[key] = tuple(t for t in texts if t is not None)
        else:
            text = condition_value_text(value)
            if text is None:
                message = "a context value must be a string or a list of strings"
                raise CaseError(message, where + pointer(key))
            context[key] = text
    return normalize_context(context)


def _documents(raw: Any, key: str) -> list[Any] | None:
    value = raw.get(key)
    if value is None or value == []:
        return None
    if not isinstance(value, list):
        raise CaseError(f"`{key}` must be an array of policies or null", pointer(key))
    return value


def parse_case(raw: Any, cache: PolicyCache | None = None) -> SimulationCase:
    """Read one case object; raise CaseError (with a JSON pointer) when it is malformed."""
    cache = cache if cache is not None else PolicyCache()
    if not isinstance(raw, dict):
        raise CaseError("a case must be a JSON object", "")
    case_id = raw.get("id")
    if not isinstance(case_id, str):
        raise CaseError("`id` must be a string", "/id")
    request_raw = raw.get("request")
    if not isinstance(request_raw, dict):
        raise CaseError("`request` must be an object", "/request")
    principal = _require_str(request_raw, "principal", "/request")
    action = _require_str(request_raw, "action", "/request")
    resource = _require_str(request_raw, "resource", "/request")
    context = _context(request_raw.get("context"), "/request/context")
    principal_arn = context.get("aws:principalarn")
    try:
        caller = Caller.parse(principal, principal_arn if isinstance(principal_arn, str) else None)
    except PrincipalError as error:
        raise CaseError(str(error), "/request/principal") from error

    def named(doc: Any, policy_id: str, kind: PolicyType, where: str) -> NamedPolicy:
        return NamedPolicy(policy_id, kind, cache.compile(doc, where))

    identity_docs = raw.get("identityPolicies") or []
    if not isinstance(identity_docs, list):
        raise CaseError("`identityPolicies` must be an array of policies", "/identityPolicies")
    identity = tuple(
        named(doc, f"identity[{i}]", PolicyType.IDENTITY, f"/identityPolicies/{i}")
        for i, doc in enumerate(identity_docs)
    )
    resource_doc = raw.get("resourcePolicy")
    resource_policy = (
        None
        if resource_doc is None
        else named(resource_doc, "resource", PolicyType.RESOURCE, "/resourcePolicy")
    )
    boundaries = _documents(raw, "permissionBoundaries")
    sessions = _documents(raw, "sessionPolicies")
    scp_levels = _documents(raw, "scps")
    levels: list[tuple[NamedPolicy, ...]] = []
    for level, docs in enumerate(scp_levels or ()):
        if not isinstance(docs, list):
            raise CaseError("each SCP level must be an array of policies", f"/scps/{level}")
        levels.append(
            tuple(
                named(doc, f"scp[{level}][{i}]", PolicyType.SCP, f"/scps/{level}/{i}")
                for i, doc in enumerate(docs)
            )
        )
    policies = PolicySet(
        identity=identity,
        resource_policy=resource_policy,
        boundaries=None
        if boundaries is None
        else tuple(
            named(d, f"boundary[{i}]", PolicyType.BOUNDARY, f"/permissionBoundaries/{i}")
            for i, d in enumerate(boundaries)
        ),
        session_policies=None
        if sessions is None
        else tuple(
            named(d, f"session[{i}]", PolicyType.SESSION, f"/sessionPolicies/{i}")
            for i, d in enumerate(sessions)
        ),
        scp_levels=None if scp_levels is None else tuple(levels),
    )
    return SimulationCase(case_id, Request(caller, action, resource, context), policies)


def simulate_case(case: SimulationCase) -> Decision:
    """Decide one parsed case."""
    return decide(case.request, case.policies)
