"""Which condition keys depend on the request rather than on stored facts.

``who-can`` and the access matrix decide with a neutral request (no source IP, no MFA,
no request tags). A statement whose Condition tests one of these keys may apply to some
requests and not to others, so a grant or a denial that hinges on it is reported as
*conditional* instead of as a plain yes or no. Principal tags count as request-time keys
for role sessions, because session tags are passed when the session is created, and so
does ``aws:userid``, which holds the session name.
"""

from __future__ import annotations

from crossdock.policy.decide import Decision, Outcome, PolicyType
from crossdock.policy.evaluate import StatementOutcome
from crossdock.policy.model import Effect

REQUEST_KEYS = frozenset(
    {
        "aws:sourceip",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:vpcsourceip",
        "aws:securetransport",
        "aws:useragent",
        "aws:referer",
        "aws:currenttime",
        "aws:epochtime",
        "aws:multifactorauthpresent",
        "aws:multifactorauthage",
        "aws:tokenissuetime",
        "aws:tagkeys",
        "aws:sourcearn",
        "aws:sourceaccount",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:calledvia",
        "aws:calledviafirst",
        "aws:calledvialast",
        "aws:viaawsservice",
        "aws:sourceidentity",
        "aws:federatedprovider",
        "aws:rolesessionname",
    }
)
"""Global keys whose value comes with each request (spec §4.6), lower-cased."""

REQUEST_KEY_PREFIXES = ("aws:requesttag/", "sts:")


def is_request_key(key: str, *, session: bool) -> bool:
    """True when ``key``'s value is set per request (``session``: the caller is a role
    session, whose principal tags may come from session tags)."""
    folded = key.lower()
    if folded in REQUEST_KEYS or folded.startswith(REQUEST_KEY_PREFIXES):
        return True
    return session and (folded.startswith("aws:principaltag/") or folded == "aws:userid")


def _missed_keys(outcome: StatementOutcome, session: bool) -> tuple[str, ...]:
    """The request-time key an outcome missed on (its first failed condition)."""
    mismatch = outcome.mismatch or ""
    if not mismatch.startswith("Condition "):
        return ()
    folded = mismatch.rsplit(" ", 1)[-1].lower()
    # The trace names the key as compiled (lower case): report it as the policy wrote it.
    key = next((c.key for c in outcome.statement.conditions if c.key.lower() == folded), folded)
    return (key,) if is_request_key(key, session=session) else ()


def _tested_keys(outcome: StatementOutcome, session: bool) -> tuple[str, ...]:
    """The request-time keys an applying statement's Condition tests."""
    return tuple(
        c.key for c in outcome.statement.conditions if is_request_key(c.key, session=session)
    )


def request_dependence(decision: Decision, *, session: bool) -> tuple[str, ...]:
    """The request-time keys that could turn ``decision`` the other way; () when none.

    * Allowed: some policy type's applicable Allows all test request-time keys, or a
      Deny missed only on a request-time key (it may apply to other requests).
    * ExplicitlyDenied: every applicable Deny tests a request-time key.
    * ImplicitlyDenied: every missing policy type has an Allow that missed only on a
      request-time key.
    """
    found: dict[str, None] = {}
    traces = decision.trace
    if decision.outcome is Outcome.ALLOWED:
        by_type: dict[PolicyType, list[StatementOutcome]] = {}
        for trace in traces:
            for outcome in trace.outcomes:
                if outcome.applies and outcome.effect is Effect.ALLOW:
                    by_type.setdefault(trace.policy.policy_type, []).append(outcome)
                elif outcome.effect is Effect.DENY:
                    found.update(dict.fromkeys(_missed_keys(outcome, session)))
        for allows in by_type.values():
            keyed = [_tested_keys(o, session) for o in allows]
            if all(keyed):
                found.update(dict.fromkeys(k for keys in keyed for k in keys))
        return tuple(found)
    if decision.outcome is Outcome.EXPLICITLY_DENIED:
        keyed = [_tested_keys(o, session) for o in decision.decisive]
        return tuple(dict.fromkeys(k for keys in keyed for k in keys)) if all(keyed) else ()
    for gap in decision.gaps:
        keys = [
            key
            for trace in traces
            if trace.policy.policy_type is gap
            for outcome in trace.outcomes
            if outcome.effect is Effect.ALLOW
            for key in _missed_keys(outcome, session)
        ]
        if not keys:
            return ()
        found.update(dict.fromkeys(keys))
    return tuple(found)


def depends_on_request(outcome: StatementOutcome, *, session: bool) -> bool:
    """True when the statement tests a request-time key (or missed on one)."""
    return bool(_tested_keys(outcome, session) or _missed_keys(outcome, session))


def conditional_allows(decision: Decision, *, session: bool) -> tuple[StatementOutcome, ...]:
    """The Allow statements that missed only on a request-time key."""
    return tuple(
        outcome
        for trace in decision.trace
        for outcome in trace.outcomes
        if outcome.effect is Effect.ALLOW and _missed_keys(outcome, session)
    )
