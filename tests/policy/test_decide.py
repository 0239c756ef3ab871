"""Statement outcomes (evaluate.py) and AWS's decision over every policy type (decide.py).

Rules: spec §4.7 and the IAM User Guide pages cited per test. Account A owns the
repository; B is the foreign account. AccessDenied messages are pinned character for
character (spec §4.9; IAM UG, "Troubleshoot access denied error messages").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pytest

from crossdock.policy.conditions import compile_condition, parse_operator
from crossdock.policy.context import Caller, PrincipalKind, Request, normalize_context
from crossdock.policy.decide import (
    Decision,
    NamedPolicy,
    Outcome,
    PolicySet,
    PolicyTrace,
    PolicyType,
    Side,
    decide,
    side_of,
)
from crossdock.policy.evaluate import (
    CompiledPolicy,
    Grant,
    StatementOutcome,
    compile_policy,
    not_principal_excludes,
    principal_grant,
)
from crossdock.policy.model import Condition, Effect, Policy, PrincipalSpec, Statement
from crossdock.policy.parse import parse_policy
from crossdock.policy.variables import ContextValue, parse_template

Json = dict[str, Any]

A = "111111111111"
B = "222222222222"
REPO = f"arn:aws:ecr:us-east-1:{A}:repository/app"
OTHER_REPO = f"arn:aws:ecr:us-east-1:{A}:repository/other"
PULL = "ecr:BatchGetImage"
ROOT_A = f"arn:aws:iam::{A}:root"
ROOT_B = f"arn:aws:iam::{B}:root"
USER_A = f"arn:aws:iam::{A}:user/alice"
USER_B = f"arn:aws:iam::{B}:user/bob"
ROLE_A = f"arn:aws:iam::{A}:role/deployer"
SESSION_A = f"arn:aws:sts::{A}:assumed-role/deployer/ci"
ROLE_B = f"arn:aws:iam::{B}:role/puller"
SESSION_B = f"arn:aws:sts::{B}:assumed-role/puller/ci"
FED_A = f"arn:aws:sts::{A}:federated-user/fred"
SERVICE = "ecr.amazonaws.com"


def doc(*statements: Json) -> Json:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: str | list[str] = PULL, resource: str | list[str] = "*", **extra: Any) -> Json:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str | list[str] = PULL, resource: str | list[str] = "*", **extra: Any) -> Json:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def grant(
    principal: Any, action: str | list[str] = PULL, effect: str = "Allow", **extra: Any
) -> Json:
    """A repository-policy statement (no Resource, as ECR stores them)."""
    return {"Effect": effect, "Principal": principal, "Action": action, **extra}


ALLOW_PULL = doc(allow())
ALLOW_S3 = doc(allow("s3:*"))


def named(kind: PolicyType, raw: Json, policy_id: str) -> NamedPolicy:
    return NamedPolicy(policy_id, kind, compile_policy(parse_policy(raw)))


def run(
    principal: str,
    action: str = PULL,
    resource: str = REPO,
    *,
    identity: Sequence[Json] = (),
    resource_policy: Json | None = None,
    boundaries: Sequence[Json] | None = None,
    sessions: Sequence[Json] | None = None,
    scps: Sequence[Sequence[Json]] | None = None,
    context: Mapping[str, ContextValue] | None = None,
) -> Decision:
    context = normalize_context(context or {})
    principal_arn = context.get("aws:principalarn")
    caller = Caller.parse(principal, principal_arn if isinstance(principal_arn, str) else None)
    policies = PolicySet(
        identity=tuple(
            named(PolicyType.IDENTITY, d, f"identity[{i}]") for i, d in enumerate(identity)
        ),
        resource_policy=None
        if resource_policy is None
        else named(PolicyType.RESOURCE, resource_policy, "resource"),
        boundaries=None
        if boundaries is None
        else tuple(
            named(PolicyType.BOUNDARY, d, f"boundary[{i}]") for i, d in enumerate(boundaries)
        ),
        session_policies=None
        if sessions is None
        else tuple(named(PolicyType.SESSION, d, f"session[{i}]") for i, d in enumerate(sessions)),
        scp_levels=None
        if scps is None
        else tuple(
            tuple(named(PolicyType.SCP, d, f"scp[{level}][{i}]") for i, d in enumerate(docs))
            for level, docs in enumerate(scps)
        ),
    )
    return decide(Request(caller, action, resource, context), policies)


def denied_message(who: str, suffix: str, action: str = PULL, resource: str = REPO) -> str:
    return f"User: {who} is not authorized to perform: {action} on resource: {resource} {suffix}"


def assert_allowed(decision: Decision, reason: str) -> None:
    assert decision.outcome is Outcome.ALLOWED, decision.reason
    assert decision.reason == reason
    assert decision.policy_type is None
    assert decision.message is None
    assert decision.side is None
    assert decision.allowed


def assert_implicit(decision: Decision, kind: PolicyType, reason: str, message: str) -> None:
    assert decision.outcome is Outcome.IMPLICITLY_DENIED, decision.reason
    assert decision.policy_type is kind
    assert decision.reason == reason
    assert decision.message == message
    assert decision.decisive == ()
    assert not decision.allowed


def assert_explicit(decision: Decision, kind: PolicyType, message: str) -> None:
    assert decision.outcome is Outcome.EXPLICITLY_DENIED, decision.reason
    assert decision.policy_type is kind
    assert decision.reason == "explicit deny"
    assert decision.message == message
    assert decision.decisive
    assert all(o.effect is Effect.DENY and o.applies for o in decision.decisive)


# === evaluate.py: one statement against one request ==================================


def outcome(
    statement: Json,
    principal: str = USER_A,
    *,
    action: str = PULL,
    resource: str = REPO,
    context: Mapping[str, ContextValue] | None = None,
    version: str = "2012-10-17",
) -> StatementOutcome:
    policy = compile_policy(parse_policy({"Version": version, "Statement": [statement]}))
    request = Request(Caller.parse(principal), action, resource, normalize_context(context or {}))
    (result,) = policy.evaluate(request, policy.labels("p"))
    return result


@pytest.mark.parametrize(
    ("statement", "mismatch"),
    [
        (allow("ecr:PutImage"), "Action"),
        ({"Effect": "Allow", "NotAction": "ecr:Batch*", "Resource": "*"}, "NotAction"),
        (allow(resource=OTHER_REPO), "Resource"),
        ({"Effect": "Allow", "Action": "*", "NotResource": REPO}, "NotResource"),
        (grant({"AWS": USER_B}), "Principal"),
        ({"Effect": "Deny", "NotPrincipal": {"AWS": [USER_A, A]}, "Action": "*"}, "NotPrincipal"),
        (
            allow(Condition={"StringEquals": {"aws:PrincipalTag/Team": "dev"}}),
            "Condition StringEquals aws:principaltag/team",
        ),
        (
            allow(Condition={"Bool": {"aws:SecureTransport": "true"}, "Null": {"x": "false"}}),
            "Condition Bool aws:securetransport",
        ),
    ],
)
def test_statement_reports_the_first_element_that_missed(statement: Json, mismatch: str) -> None:
    result = outcome(statement)
    assert not result.applies
    assert result.mismatch == mismatch
    assert result.grant is None
    assert result.label == "p#0"


def test_statement_that_applies() -> None:
    statement = {**allow("ECR:batch*", "arn:aws:ecr:*:111111111111:repository/*"), "Sid": "S"}
    result = outcome(statement, context={"aws:SecureTransport": "true"})
    assert result.applies
    assert result.mismatch is None
    assert result.label == "p#S"
    assert result.effect is Effect.ALLOW
    assert result.grant is None  # identity statements carry no principal


@pytest.mark.parametrize(
    ("actions", "action", "applies"),
    [
        ("ecr:BatchGetImage", "ECR:BATCHGETIMAGE", True),  # case-insensitive
        ("ecr:Batch*", "ecr:batchgetimage", True),
        ("ecr:*", "ecr:PutImage", True),
        ("*", "s3:GetObject", True),
        ("ecr:Batch?etImage", "ecr:BatchGetImage", True),
        (["s3:*", "ecr:Put*"], "ecr:PutImage", True),
        ("ecr:Batch*", "ecr:PutImage", False),
        ("ecr:BatchGetImage", "ecr:BatchGetImages", False),
    ],
)
def test_action_matching(actions: str | list[str], action: str, applies: bool) -> None:
    # IAM UG, IAM JSON policy elements: Action — names are case-insensitive, * and ? wildcards
    assert outcome(allow(actions), action=action).applies is applies


@pytest.mark.parametrize(
    ("resource_pattern", "resource", "applies"),
    [
        ("*", REPO, True),
        ("*", "*", True),
        (REPO, REPO, True),
        (f"arn:aws:ecr:us-east-1:{A}:repository/*", f"{REPO}/nested/name", True),
        (f"arn:aws:ecr:us-east-1:{A}:repository/APP", REPO, False),  # case-sensitive
        ("arn:aws:ecr:*", REPO, True),
        ("arn:aws:ecr:*:*:repository/app", REPO, True),
        (REPO, "*", False),
        ("not-an-arn", "not-an-arn", True),
    ],
)
def test_resource_matching(resource_pattern: str, resource: str, applies: bool) -> None:
    # IAM UG, IAM JSON policy elements: Resource — case-sensitive; * crosses '/'
    assert outcome(allow(resource=resource_pattern), resource=resource).applies is applies


def test_resource_variables_after_the_fifth_colon() -> None:
    # IAM UG, Policy variables: ${aws:username} in Resource is the request value
    pattern = "arn:aws:s3:::bucket/home/${aws:username}/*"
    statement = allow("s3:GetObject", pattern)
    kw: dict[str, Any] = {"action": "s3:GetObject"}
    mine = "arn:aws:s3:::bucket/home/alice/file"
    assert outcome(statement, resource=mine, context={"aws:username": "alice"}, **kw).applies
    assert not outcome(statement, resource=mine, context={"aws:username": "bob"}, **kw).applies
    # unresolved: matches nothing
    assert not outcome(statement, resource=mine, **kw).applies
    # the substituted value is literal, never a wildcard
    assert not outcome(statement, resource=mine, context={"aws:username": "a*"}, **kw).applies
    # with the default value
    with_default = allow("s3:GetObject", "arn:aws:s3:::bucket/home/${aws:username, 'alice'}/*")
    assert outcome(with_default, resource=mine, **kw).applies


def test_resource_variables_are_literal_before_the_fifth_colon_and_in_2008() -> None:
    # spec §4.3: variables only after the 5th colon; §4.5: only in Version 2012-10-17
    head = allow(resource="arn:aws:ecr:${aws:RequestedRegion}:111111111111:repository/app")
    context = {"aws:RequestedRegion": "us-east-1"}
    assert not outcome(head, context=context).applies
    assert outcome(
        head, resource="arn:aws:ecr:${aws:RequestedRegion}:111111111111:repository/app"
    ).applies
    old = allow(resource="arn:aws:ecr:us-east-1:111111111111:repository/${aws:username}")
    assert not outcome(old, context={"aws:username": "app"}, version="2008-10-17").applies
    assert outcome(old, context={"aws:username": "app"}).applies


def test_resource_special_character_escape_is_literal() -> None:
    # IAM UG, "IAM policy elements: Variables and tags", special characters: ${*}, ${?}
    # and ${$} stand for literal *, ? and $ (Version 2012-10-17), so a* b is not a glob.
    statement = allow("s3:GetObject", "arn:aws:s3:::bucket/a${*}b")
    kw: dict[str, Any] = {"action": "s3:GetObject"}
    assert outcome(statement, resource="arn:aws:s3:::bucket/a*b", **kw).applies
    assert not outcome(statement, resource="arn:aws:s3:::bucket/a${x}b", **kw).applies


def test_resource_special_character_escape_next_to_a_variable() -> None:
    statement = allow("s3:GetObject", "arn:aws:s3:::bucket/${aws:username}/a${*}b")
    kw: dict[str, Any] = {"action": "s3:GetObject", "context": {"aws:username": "u"}}
    assert outcome(statement, resource="arn:aws:s3:::bucket/u/a*b", **kw).applies
    assert not outcome(statement, resource="arn:aws:s3:::bucket/u/axyzb", **kw).applies


def test_compile_policy_rejects_hand_built_unknown_operators() -> None:
    statement = Statement(
        0, None, Effect.ALLOW, action=("*",), conditions=(Condition("StringEqual", "k", ("v",)),)
    )
    with pytest.raises(ValueError, match=r"^unknown condition operator `StringEqual`$"):
        compile_policy(Policy("2012-10-17", (statement,)))


def test_compiled_policy_evaluates_every_statement_in_order() -> None:
    policy = compile_policy(parse_policy(doc(allow("s3:*"), {**allow(), "Sid": "Pull"}, deny())))
    assert isinstance(policy, CompiledPolicy)
    request = Request(Caller.parse(USER_A), PULL, REPO)
    labels = policy.labels("identity[0]")
    assert labels == ("identity[0]#0", "identity[0]#Pull", "identity[0]#2")
    results = policy.evaluate(request, labels)
    assert [(r.label, r.applies, r.effect) for r in results] == [
        ("identity[0]#0", False, Effect.ALLOW),
        ("identity[0]#Pull", True, Effect.ALLOW),
        ("identity[0]#2", True, Effect.DENY),
    ]


# --- principals ------------------------------------------------------------------


def spec(**entries: str | tuple[str, ...]) -> PrincipalSpec:
    return PrincipalSpec(
        False, tuple((k, (v,) if isinstance(v, str) else v) for k, v in entries.items())
    )


SESSION_CALLER = Caller.parse(SESSION_A)


@pytest.mark.parametrize(
    ("principal", "caller", "expected"),
    [
        (PrincipalSpec(True), SESSION_CALLER, Grant.DIRECT),
        (spec(AWS="*"), SESSION_CALLER, Grant.DIRECT),
        (spec(AWS=SESSION_A), SESSION_CALLER, Grant.DIRECT),
        (spec(AWS=ROLE_A), SESSION_CALLER, Grant.ROLE),
        (spec(AWS=A), SESSION_CALLER, Grant.ACCOUNT),
        (spec(AWS=ROOT_A), SESSION_CALLER, Grant.ACCOUNT),
        (spec(AWS=(A, ROLE_A)), SESSION_CALLER, Grant.ROLE),  # strongest wins
        (spec(AWS=(A, ROLE_A, SESSION_A)), SESSION_CALLER, Grant.DIRECT),
        (spec(AWS=(B, ROOT_B, USER_A)), SESSION_CALLER, None),
        (spec(AWS=f"arn:aws:iam::{A}:role/other"), SESSION_CALLER, None),
        (spec(AWS=f"arn:aws:iam::{A}:user/root"), SESSION_CALLER, None),
        (spec(Federated="cognito-identity.amazonaws.com"), SESSION_CALLER, None),
        (spec(CanonicalUser="abc"), SESSION_CALLER, None),
        (spec(Service=SERVICE), SESSION_CALLER, None),
        (spec(AWS=USER_A), Caller.parse(USER_A), Grant.DIRECT),
        (spec(AWS=FED_A), Caller.parse(FED_A), Grant.DIRECT),
        (spec(Service="ECR.amazonaws.com"), Caller.parse(SERVICE), Grant.DIRECT),
        (spec(Service="s3.amazonaws.com"), Caller.parse(SERVICE), None),
        (spec(AWS=A), Caller.parse(SERVICE), None),
        (spec(AWS="*"), Caller.parse(SERVICE), Grant.DIRECT),
        (PrincipalSpec(True), Caller.parse(SERVICE), Grant.DIRECT),
        (
            spec(AWS="AIDAEXAMPLE"),
            Caller(USER_A, PrincipalKind.USER, A, unique_ids=frozenset({"AIDAEXAMPLE"})),
            Grant.DIRECT,
        ),
        # a role id (bound when the policy was saved) names every session of the role
        (
            spec(AWS="AROAEXAMPLE"),
            Caller(
                SESSION_A, PrincipalKind.ASSUMED_ROLE, A, role_arn=ROLE_A, role_id="AROAEXAMPLE"
            ),
            Grant.ROLE,
        ),
        # the role ARN wins over the caller's own ARN: a role-ARN caller is a session
        (spec(AWS=ROLE_A), Caller.parse(ROLE_A), Grant.ROLE),
    ],
)
def test_principal_grant(principal: PrincipalSpec, caller: Caller, expected: Grant | None) -> None:
    # IAM UG, AWS JSON policy elements: Principal (spec §4.2)
    assert principal_grant(principal, caller) is expected


@pytest.mark.parametrize(
    ("listed", "caller", "escapes"),
    [
        # IAM UG, NotPrincipal: a session escapes only if the account, role and session
        # ARNs are all listed; a user needs the account and the user ARN.
        (PrincipalSpec(True), USER_A, True),
        (spec(AWS="*"), USER_A, True),
        (spec(AWS=(USER_A, A)), USER_A, True),
        (spec(AWS=(USER_A, ROOT_A)), USER_A, True),
        (spec(AWS=USER_A), USER_A, False),
        (spec(AWS=A), USER_A, False),
        (spec(AWS=(SESSION_A, ROLE_A, A)), SESSION_A, True),
        (spec(AWS=(SESSION_A, A)), SESSION_A, False),
        (spec(AWS=(ROLE_A, A)), SESSION_A, False),
        (spec(AWS=A), ROOT_A, True),
        (spec(Service="ECR.AMAZONAWS.COM"), SERVICE, True),
        (spec(AWS=A, Service="s3.amazonaws.com"), SERVICE, False),
        (spec(Federated="x"), USER_A, False),
    ],
)
def test_not_principal_excludes(listed: PrincipalSpec, caller: str, escapes: bool) -> None:
    assert not_principal_excludes(listed, Caller.parse(caller)) is escapes


def test_not_principal_deny_applies_to_everyone_else_with_a_direct_grant() -> None:
    statement = {"Effect": "Deny", "NotPrincipal": {"AWS": [USER_B, B]}, "Action": "*"}
    result = outcome(statement, USER_A)
    assert result.applies
    assert result.grant is Grant.DIRECT


def test_allow_statement_with_principal_records_the_grant() -> None:
    assert outcome(grant({"AWS": ROLE_A}), SESSION_A).grant is Grant.ROLE
    assert outcome(grant({"AWS": A}), SESSION_A).grant is Grant.ACCOUNT
    assert outcome(grant("*"), SESSION_A).grant is Grant.DIRECT


# === decide.py ======================================================================

# --- same account (IAM UG, Policy evaluation for requests within a single account) -----


def test_same_account_identity_allow() -> None:
    assert_allowed(
        run(USER_A, identity=[ALLOW_PULL]),
        "an identity-based policy allows it in the same account",
    )


def test_same_account_without_any_allow() -> None:
    assert_implicit(
        run(USER_A, identity=[ALLOW_S3]),
        PolicyType.IDENTITY,
        "no identity-based policy allows the action",
        denied_message(
            USER_A, "because no identity-based policy allows the ecr:BatchGetImage action"
        ),
    )


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": USER_A}])
def test_same_account_resource_policy_naming_the_caller_needs_no_identity_allow(
    principal: Any,
) -> None:
    assert_allowed(
        run(USER_A, resource_policy=doc(grant(principal))),
        "the resource policy names the caller itself",
    )


@pytest.mark.parametrize("principal", [A, ROOT_A])
def test_same_account_account_principal_delegates_to_iam(principal: str) -> None:
    # IAM UG, Principal, AWS account principals: naming the account delegates to IAM,
    # so an identity-based policy must also allow — even in the same account (spec §4.2).
    rp = doc(grant({"AWS": principal}))
    assert_implicit(
        run(USER_A, resource_policy=rp),
        PolicyType.IDENTITY,
        "no identity-based policy allows the action",
        denied_message(
            USER_A, "because no identity-based policy allows the ecr:BatchGetImage action"
        ),
    )
    assert_allowed(
        run(USER_A, resource_policy=rp, identity=[ALLOW_PULL]),
        "an identity-based policy allows it in the same account",
    )


def test_same_account_session_named_by_session_arn() -> None:
    assert_allowed(
        run(SESSION_A, resource_policy=doc(grant({"AWS": SESSION_A}))),
        "the resource policy names the caller itself",
    )


def test_same_account_session_named_by_role_arn() -> None:
    assert_allowed(
        run(SESSION_A, resource_policy=doc(grant({"AWS": ROLE_A}))),
        "the resource policy names the caller's role",
    )


def test_same_account_federated_user_named_directly() -> None:
    assert_allowed(
        run(FED_A, resource_policy=doc(grant({"AWS": FED_A}))),
        "the resource policy names the caller itself",
    )


def test_root_user_needs_no_policy_but_is_explicitly_denied() -> None:
    # IAM UG, How AWS enforcement code logic evaluates requests: the root user has full
    # access unless explicitly denied.
    assert_allowed(run(ROOT_A), "an identity-based policy allows it in the same account")
    assert_allowed(
        run(ROOT_A, boundaries=[ALLOW_S3]),
        "an identity-based policy allows it in the same account",
    )
    assert_explicit(
        run(ROOT_A, resource_policy=doc(grant("*", effect="Deny"))),
        PolicyType.RESOURCE,
        denied_message(ROOT_A, "with an explicit deny in a resource-based policy"),
    )


def test_account_level_actions_ignore_the_resource_policy() -> None:
    # ECR UG, Private registry authentication: ecr:GetAuthorizationToken is authorized by
    # identity-based policies on "*" only; a repository policy never grants it (spec §2).
    gat = "ecr:GetAuthorizationToken"
    rp = doc(grant("*", gat), grant("*", gat, effect="Deny"))
    decision = run(USER_A, gat, "*", resource_policy=rp)
    assert_implicit(
        decision,
        PolicyType.IDENTITY,
        "no identity-based policy allows the action",
        denied_message(
            USER_A, f"because no identity-based policy allows the {gat} action", gat, "*"
        ),
    )
    assert decision.trace == ()
    allowed = run(USER_A, gat, "*", resource_policy=rp, identity=[doc(allow(gat))])
    assert_allowed(allowed, "an identity-based policy allows it in the same account")
    assert [t.policy.policy_id for t in allowed.trace] == ["identity[0]"]


def test_get_authorization_token_on_star_is_same_account() -> None:
    gat = "ecr:GetAuthorizationToken"
    decision = run(USER_B, gat, "*", identity=[doc(allow(gat))])
    assert_allowed(decision, "an identity-based policy allows it in the same account")
    assert_implicit(
        run(USER_B, gat, "*"),
        PolicyType.IDENTITY,
        "no identity-based policy allows the action",
        denied_message(
            USER_B, f"because no identity-based policy allows the {gat} action", gat, "*"
        ),
    )


# --- cross account (IAM UG, Cross-account policy evaluation logic) ----------------------


@pytest.mark.parametrize(
    ("caller", "principal"),
    [
        (USER_B, B),
        (USER_B, ROOT_B),
        (USER_B, USER_B),
        (USER_B, "*"),
        (SESSION_B, ROLE_B),
        (SESSION_B, SESSION_B),
    ],
)
def test_cross_account_needs_both_sides(caller: str, principal: str) -> None:
    rp = doc(grant({"AWS": principal}))
    assert_allowed(
        run(caller, resource_policy=rp, identity=[ALLOW_PULL]),
        "both the resource policy and the caller's account allow it",
    )
    assert_implicit(
        run(caller, resource_policy=rp),
        PolicyType.IDENTITY,
        "no identity-based policy allows the action",
        denied_message(
            caller, "because no identity-based policy allows the ecr:BatchGetImage action"
        ),
    )


def test_cross_account_without_resource_policy_allow() -> None:
    expected = denied_message(
        USER_B, "because no resource-based policy allows the ecr:BatchGetImage action"
    )
    for rp in (None, doc(grant({"AWS": A})), doc(grant({"AWS": B}, "ecr:PutImage"))):
        assert_implicit(
            run(USER_B, identity=[ALLOW_PULL], resource_policy=rp),
            PolicyType.RESOURCE,
            "no resource-based policy allows the caller",
            expected,
        )


def test_cross_account_root_needs_no_identity_policy() -> None:
    assert_allowed(
        run(ROOT_B, resource_policy=doc(grant({"AWS": B}))),
        "both the resource policy and the caller's account allow it",
    )


def test_cross_account_boundary_and_session_policy_still_apply() -> None:
    rp = doc(grant({"AWS": SESSION_B}))
    assert_implicit(
        run(SESSION_B, resource_policy=rp, identity=[ALLOW_PULL], boundaries=[ALLOW_S3]),
        PolicyType.BOUNDARY,
        "the permissions boundary does not allow the action",
        denied_message(
            SESSION_B, "because no permissions boundary allows the ecr:BatchGetImage action"
        ),
    )
    assert_implicit(
        run(SESSION_B, resource_policy=rp, identity=[ALLOW_PULL], sessions=[ALLOW_S3]),
        PolicyType.SESSION,
        "the session policy does not allow the action",
        denied_message(SESSION_B, "because no session policy allows the ecr:BatchGetImage action"),
    )


# --- permissions boundaries (IAM UG, Permissions boundaries for IAM entities) -----------


def test_boundary_limits_identity_allows() -> None:
    assert_implicit(
        run(USER_A, identity=[ALLOW_PULL], boundaries=[ALLOW_S3]),
        PolicyType.BOUNDARY,
        "the permissions boundary does not allow the action",
        denied_message(
            USER_A, "because no permissions boundary allows the ecr:BatchGetImage action"
        ),
    )
    assert_allowed(
        run(USER_A, identity=[ALLOW_PULL], boundaries=[ALLOW_S3, ALLOW_PULL]),
        "an identity-based policy allows it in the same account",
    )


def test_boundary_never_grants_by_itself() -> None:
    assert_implicit(
        run(USER_A, boundaries=[ALLOW_PULL]),
        PolicyType.IDENTITY,
        "no identity-based policy allows the action",
        denied_message(
            USER_A, "because no identity-based policy allows the ecr:BatchGetImage action"
        ),
    )


def test_boundary_does_not_limit_a_resource_policy_naming_the_user() -> None:
    # IAM UG, Evaluating effective permissions with boundaries: a resource-based policy
    # naming the user ARN is not limited by an implicit deny in the boundary.
    assert_allowed(
        run(USER_A, resource_policy=doc(grant({"AWS": USER_A})), boundaries=[ALLOW_S3]),
        "the resource policy names the caller itself",
    )


def test_boundary_limits_a_resource_policy_naming_the_role() -> None:
    rp = doc(grant({"AWS": ROLE_A}))
    assert_implicit(
        run(SESSION_A, resource_policy=rp, boundaries=[ALLOW_S3]),
        PolicyType.BOUNDARY,
        "the permissions boundary does not allow the action",
        denied_message(
            SESSION_A, "because no permissions boundary allows the ecr:BatchGetImage action"
        ),
    )
    assert_allowed(
        run(SESSION_A, resource_policy=rp, boundaries=[ALLOW_PULL]),
        "the resource policy names the caller's role",
    )


def test_role_path_from_principal_arn_matches_a_role_grant() -> None:
    role_with_path = f"arn:aws:iam::{A}:role/ops/deployer"
    rp = doc(grant({"AWS": role_with_path}))
    assert_allowed(
        run(SESSION_A, resource_policy=rp, context={"aws:PrincipalArn": role_with_path}),
        "the resource policy names the caller's role",
    )
    assert_implicit(
        run(SESSION_A, resource_policy=rp),
        PolicyType.IDENTITY,
        "no identity-based policy allows the action",
        denied_message(
            SESSION_A, "because no identity-based policy allows the ecr:BatchGetImage action"
        ),
    )


def test_role_caller_named_by_role_arn_is_limited_by_the_boundary() -> None:
    # IAM UG, Permissions boundaries for IAM entities, "Evaluating effective permissions
    # with boundaries": a resource-based policy naming the role ARN is limited by an
    # implicit deny in the boundary (only user/session ARNs are not). A role-ARN caller
    # stands for some session of that role (spec §7: role-ARN grants are bounded).
    assert_implicit(
        run(ROLE_A, resource_policy=doc(grant({"AWS": ROLE_A})), boundaries=[ALLOW_S3]),
        PolicyType.BOUNDARY,
        "the permissions boundary does not allow the action",
        denied_message(
            ROLE_A, "because no permissions boundary allows the ecr:BatchGetImage action"
        ),
    )


def test_not_principal_deny_always_denies_principals_with_a_boundary() -> None:
    # IAM UG, Permissions boundaries for IAM entities (Important) and AWS JSON policy
    # elements: NotPrincipal: "The NotPrincipal element with a Deny effect will always deny
    # any IAM principal that has a permissions boundary policy attached, regardless of the
    # values specified in the NotPrincipal element."
    rp = doc(
        grant("*"),
        {"Effect": "Deny", "NotPrincipal": {"AWS": [USER_A, A]}, "Action": "*"},
    )
    assert_explicit(
        run(USER_A, resource_policy=rp, identity=[ALLOW_PULL], boundaries=[ALLOW_PULL]),
        PolicyType.RESOURCE,
        denied_message(USER_A, "with an explicit deny in a resource-based policy"),
    )


def test_a_caller_marked_with_a_boundary_is_denied_by_not_principal() -> None:
    # The request may say the caller has a boundary even when the boundary policy itself
    # is not part of the policy set.
    rp = doc(grant("*"), {"Effect": "Deny", "NotPrincipal": {"AWS": [USER_A, A]}, "Action": "*"})
    caller = replace(Caller.parse(USER_A), permissions_boundary=True)
    resource_policy = named(PolicyType.RESOURCE, rp, "resource")
    decision = decide(Request(caller, PULL, REPO), PolicySet(resource_policy=resource_policy))
    assert_explicit(
        decision,
        PolicyType.RESOURCE,
        denied_message(USER_A, "with an explicit deny in a resource-based policy"),
    )
    assert decision.request.caller.permissions_boundary


def test_a_boundary_in_the_policy_set_counts_as_the_callers_boundary() -> None:
    # The Caller does not record a boundary; the policy set holding one is enough.
    rp = doc(grant("*"), {"Effect": "Deny", "NotPrincipal": {"AWS": [USER_A, A]}, "Action": "*"})
    with_boundary = run(USER_A, resource_policy=rp, identity=[ALLOW_PULL], boundaries=[ALLOW_PULL])
    assert with_boundary.outcome is Outcome.EXPLICITLY_DENIED
    assert not with_boundary.request.caller.permissions_boundary
    without = run(USER_A, resource_policy=rp, identity=[ALLOW_PULL])
    assert without.outcome is Outcome.ALLOWED


def test_not_principal_allow_is_not_affected_by_a_boundary() -> None:
    # The boundary rule is about Deny statements only.
    rp = doc({"Effect": "Allow", "NotPrincipal": {"AWS": [USER_A, A]}, "Action": PULL})
    decision = run(USER_A, resource_policy=rp, identity=[ALLOW_PULL], boundaries=[ALLOW_PULL])
    assert decision.trace[0].outcomes[0].mismatch == "NotPrincipal"
    assert decision.allowed


def test_not_principal_deny_spares_the_listed_principal_without_a_boundary() -> None:
    rp = doc(grant("*"), {"Effect": "Deny", "NotPrincipal": {"AWS": [USER_A, A]}, "Action": "*"})
    assert_allowed(run(USER_A, resource_policy=rp), "the resource policy names the caller itself")
    assert_explicit(
        run(f"arn:aws:iam::{A}:user/mallory", resource_policy=rp),
        PolicyType.RESOURCE,
        denied_message(
            f"arn:aws:iam::{A}:user/mallory", "with an explicit deny in a resource-based policy"
        ),
    )


# --- session policies (IAM UG, Session policies) ----------------------------------------


def test_session_policy_limits_identity_allows() -> None:
    assert_implicit(
        run(SESSION_A, identity=[ALLOW_PULL], sessions=[ALLOW_S3]),
        PolicyType.SESSION,
        "the session policy does not allow the action",
        denied_message(SESSION_A, "because no session policy allows the ecr:BatchGetImage action"),
    )
    assert_allowed(
        run(SESSION_A, identity=[ALLOW_PULL], sessions=[ALLOW_PULL]),
        "an identity-based policy allows it in the same account",
    )


def test_session_policy_does_not_limit_a_grant_to_the_session_arn() -> None:
    assert_allowed(
        run(SESSION_A, resource_policy=doc(grant({"AWS": SESSION_A})), sessions=[ALLOW_S3]),
        "the resource policy names the caller itself",
    )


def test_session_policy_limits_a_grant_to_the_role_arn() -> None:
    assert_implicit(
        run(SESSION_A, resource_policy=doc(grant({"AWS": ROLE_A})), sessions=[ALLOW_S3]),
        PolicyType.SESSION,
        "the session policy does not allow the action",
        denied_message(SESSION_A, "because no session policy allows the ecr:BatchGetImage action"),
    )


def test_boundary_is_reported_before_the_session_policy() -> None:
    decision = run(SESSION_A, identity=[ALLOW_PULL], boundaries=[ALLOW_S3], sessions=[ALLOW_S3])
    assert decision.policy_type is PolicyType.BOUNDARY


# --- SCPs (AWS Organizations UG, SCP evaluation) ----------------------------------------


def test_every_scp_level_must_allow() -> None:
    full = doc(allow("*"))
    assert_allowed(
        run(USER_A, identity=[ALLOW_PULL], scps=[[full], [ALLOW_S3, ALLOW_PULL]]),
        "an identity-based policy allows it in the same account",
    )
    decision = run(USER_A, identity=[ALLOW_PULL], scps=[[full], [ALLOW_S3]])
    assert_implicit(
        decision,
        PolicyType.SCP,
        "no SCP at level 1 allows the action",
        denied_message(
            USER_A, "because no service control policy allows the ecr:BatchGetImage action"
        ),
    )
    assert decision.missing_scp_level == 1
    assert run(USER_A, identity=[ALLOW_PULL], scps=[[], [full]]).missing_scp_level == 0


def test_scps_restrict_the_root_user_too() -> None:
    decision = run(ROOT_A, scps=[[ALLOW_S3]])
    assert decision.policy_type is PolicyType.SCP
    assert decision.missing_scp_level == 0


def test_scps_do_not_apply_to_service_principals() -> None:
    decision = run(SERVICE, resource_policy=doc(grant({"Service": SERVICE})), scps=[[ALLOW_S3]])
    assert_allowed(decision, "the resource policy allows the service principal")


def test_no_scp_levels_means_no_scp_check() -> None:
    assert run(USER_A, identity=[ALLOW_PULL], scps=[]).allowed


# --- services ----------------------------------------------------------------------


def test_service_principal_needs_a_resource_policy_grant() -> None:
    assert_allowed(
        run(SERVICE, resource_policy=doc(grant({"Service": SERVICE}))),
        "the resource policy allows the service principal",
    )
    for rp in (None, doc(grant({"Service": "s3.amazonaws.com"})), doc(grant({"AWS": A}))):
        assert_implicit(
            run(SERVICE, resource_policy=rp, identity=[ALLOW_PULL]),
            PolicyType.RESOURCE,
            "no resource-based policy allows the service",
            denied_message(
                SERVICE, "because no resource-based policy allows the ecr:BatchGetImage action"
            ),
        )


# --- role trust policies (IAM UG, How IAM roles differ from resource-based policies) -------

ASSUME = "sts:AssumeRole"


def test_trust_policy_must_always_allow() -> None:
    # Even in the same account, an identity allow alone does not let anyone assume a role.
    assert_implicit(
        run(USER_A, ASSUME, ROLE_A, identity=[doc(allow(ASSUME))]),
        PolicyType.RESOURCE,
        "no resource-based policy allows the caller",
        denied_message(
            USER_A,
            "because no resource-based policy allows the sts:AssumeRole action",
            ASSUME,
            ROLE_A,
        ),
    )


def test_trust_policy_naming_the_caller() -> None:
    trust = doc(grant({"AWS": USER_A}, ASSUME))
    assert_allowed(
        run(USER_A, ASSUME, ROLE_A, resource_policy=trust),
        "the resource policy names the caller itself",
    )


def test_trust_policy_naming_the_account_needs_an_identity_allow() -> None:
    trust = doc(grant({"AWS": A}, ASSUME))
    assert_implicit(
        run(USER_A, ASSUME, ROLE_A, resource_policy=trust),
        PolicyType.IDENTITY,
        "no identity-based policy allows the action",
        denied_message(
            USER_A,
            "because no identity-based policy allows the sts:AssumeRole action",
            ASSUME,
            ROLE_A,
        ),
    )
    assert run(USER_A, ASSUME, ROLE_A, resource_policy=trust, identity=[doc(allow(ASSUME))]).allowed


def test_cross_account_trust_needs_the_callers_identity_allow() -> None:
    trust = doc(grant({"AWS": USER_B}, ASSUME))
    assert_implicit(
        run(USER_B, ASSUME, ROLE_A, resource_policy=trust),
        PolicyType.IDENTITY,
        "no identity-based policy allows the action",
        denied_message(
            USER_B,
            "because no identity-based policy allows the sts:AssumeRole action",
            ASSUME,
            ROLE_A,
        ),
    )
    assert run(USER_B, ASSUME, ROLE_A, resource_policy=trust, identity=[doc(allow(ASSUME))]).allowed


def test_trust_condition_on_external_id() -> None:
    trust = doc(grant({"AWS": B}, ASSUME, Condition={"StringEquals": {"sts:ExternalId": "xyz"}}))
    identity = [doc(allow(ASSUME))]
    assert run(
        USER_B,
        ASSUME,
        ROLE_A,
        resource_policy=trust,
        identity=identity,
        context={"sts:ExternalId": "xyz"},
    ).allowed
    assert (
        run(
            USER_B,
            ASSUME,
            ROLE_A,
            resource_policy=trust,
            identity=identity,
            context={"sts:ExternalId": "abc"},
        ).policy_type
        is PolicyType.RESOURCE
    )


# --- explicit denies (IAM UG, an explicit deny in any policy overrides every allow) ------


@pytest.mark.parametrize(
    ("where", "kind", "suffix"),
    [
        ("identity", PolicyType.IDENTITY, "with an explicit deny in an identity-based policy"),
        ("resource", PolicyType.RESOURCE, "with an explicit deny in a resource-based policy"),
        ("boundary", PolicyType.BOUNDARY, "with an explicit deny in a permissions boundary"),
        ("session", PolicyType.SESSION, "with an explicit deny in a session policy"),
        ("scp", PolicyType.SCP, "with an explicit deny in a service control policy"),
    ],
)
def test_explicit_deny_in_each_policy_type(where: str, kind: PolicyType, suffix: str) -> None:
    allow_all = doc(allow("*"))
    deny_doc = doc(allow("*"), {**deny(), "Sid": "NoPull"})
    deny_rp = doc(grant("*"), {**grant("*", effect="Deny"), "Sid": "NoPull"})
    decision = run(
        SESSION_A,
        identity=[deny_doc if where == "identity" else allow_all],
        resource_policy=deny_rp if where == "resource" else doc(grant("*")),
        boundaries=[deny_doc if where == "boundary" else allow_all],
        sessions=[deny_doc if where == "session" else allow_all],
        scps=[[allow_all], [deny_doc if where == "scp" else allow_all]],
    )
    assert_explicit(decision, kind, denied_message(SESSION_A, suffix))
    expected_id = {
        "identity": "identity[0]",
        "resource": "resource",
        "boundary": "boundary[0]",
        "session": "session[0]",
        "scp": "scp[1][0]",
    }[where]
    assert decision.decisive_ids == (f"{expected_id}#NoPull",)
    assert decision.side is side_of(kind)


def test_deny_precedence_scp_resource_identity_boundary_session() -> None:
    deny_doc = doc(deny())
    decision = run(
        USER_A,
        identity=[deny_doc],
        resource_policy=doc(grant("*", effect="Deny")),
        boundaries=[deny_doc],
        sessions=[deny_doc],
        scps=[[deny_doc]],
    )
    assert decision.policy_type is PolicyType.SCP
    assert decision.decisive_ids == (
        "scp[0][0]#0",
        "resource#0",
        "identity[0]#0",
        "boundary[0]#0",
        "session[0]#0",
    )
    without_scp = run(USER_A, identity=[deny_doc], boundaries=[deny_doc], sessions=[deny_doc])
    assert without_scp.policy_type is PolicyType.IDENTITY
    assert (
        run(USER_A, boundaries=[deny_doc], sessions=[deny_doc]).policy_type is PolicyType.BOUNDARY
    )
    assert run(USER_A, sessions=[deny_doc]).policy_type is PolicyType.SESSION


def test_deny_that_does_not_apply_changes_nothing() -> None:
    decision = run(
        USER_A,
        identity=[doc(allow(), deny(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))],
        context={"aws:SourceIp": "203.0.113.10"},
    )
    assert decision.allowed
    assert decision.decisive_ids == ("identity[0]#0",)


def test_service_caller_is_explicitly_denied_too() -> None:
    rp = doc(grant({"Service": SERVICE}), grant("*", effect="Deny"))
    assert_explicit(
        run(SERVICE, resource_policy=rp),
        PolicyType.RESOURCE,
        denied_message(SERVICE, "with an explicit deny in a resource-based policy"),
    )


# --- the Decision object -----------------------------------------------------------


def test_decision_trace_and_decisive_statements() -> None:
    rp = doc({**grant({"AWS": B}), "Sid": "Share"})
    identity = [doc(allow("s3:*")), doc({**allow(), "Sid": "Pull"})]
    decision = run(USER_B, resource_policy=rp, identity=identity, boundaries=[doc(allow("*"))])
    assert decision.decision is Outcome.ALLOWED
    assert decision.decisive_ids == ("resource#Share", "identity[1]#Pull", "boundary[0]#0")
    assert [t.policy.policy_id for t in decision.trace] == [
        "resource",
        "identity[0]",
        "identity[1]",
        "boundary[0]",
    ]
    first = decision.trace[1]
    assert isinstance(first, PolicyTrace)
    assert first.outcomes[0].mismatch == "Action"
    assert first.applicable(Effect.ALLOW) == ()
    assert decision.trace[2].applicable(Effect.ALLOW)[0].label == "identity[1]#Pull"
    assert decision.trace[2].applicable(Effect.DENY) == ()
    assert decision.request.caller.arn == USER_B
    assert decision.missing_scp_level is None


def test_decision_is_an_immutable_value_whatever_builds_its_trace() -> None:
    # decide() records the trace compactly and builds it when read; a Decision built from
    # the same fields by hand is equal to it and reads the same.
    decision = run(USER_B, resource_policy=doc(grant({"AWS": B})), identity=[ALLOW_PULL])
    trace = decision.trace
    assert decision.trace is trace
    twin = Decision(
        decision.outcome,
        decision.request,
        decision.policy_type,
        decision.reason,
        decision.decisive,
        trace,
        decision.missing_scp_level,
        decision.gaps,
    )
    assert twin == decision
    assert repr(twin) == repr(decision)
    assert repr(decision).startswith(
        "Decision(outcome=<Outcome.ALLOWED: 'Allowed'>, request=Request(caller=Caller("
    )
    assert ", missing_scp_level=None, gaps=())" in repr(decision)
    assert decision != run(USER_B, identity=[ALLOW_PULL])  # no grant: implicitly denied
    assert decision != decision.outcome
    with pytest.raises(TypeError, match="unhashable type: 'dict'"):
        hash(decision)  # hashed by value, and the request context is a dict
    with pytest.raises(AttributeError):
        setattr(decision, "outcome", Outcome.IMPLICITLY_DENIED)  # noqa: B010
    assert decision.allowed


def test_policy_set_order() -> None:
    def one(kind: PolicyType, pid: str) -> NamedPolicy:
        return named(kind, ALLOW_PULL, pid)

    scp0, scp1 = one(PolicyType.SCP, "scp[0][0]"), one(PolicyType.SCP, "scp[1][0]")
    policies = PolicySet(
        identity=(one(PolicyType.IDENTITY, "identity[0]"),),
        resource_policy=one(PolicyType.RESOURCE, "resource"),
        boundaries=(one(PolicyType.BOUNDARY, "boundary[0]"),),
        session_policies=(one(PolicyType.SESSION, "session[0]"),),
        scp_levels=((scp0,), (scp1,)),
    )
    assert [p.policy_id for p in policies.account_and_resource_policies()] == [
        "resource",
        "identity[0]",
        "boundary[0]",
        "session[0]",
    ]
    assert "resource" not in [
        p.policy_id for p in policies.account_and_resource_policies(with_resource_policy=False)
    ]
    assert len(list(policies.account_and_resource_policies(with_resource_policy=False))) == 3
    assert list(PolicySet().account_and_resource_policies()) == []
    decision = decide(Request(Caller.parse(USER_A), PULL, REPO), policies)
    assert [t.policy.policy_id for t in decision.trace][:2] == ["scp[0][0]", "scp[1][0]"]


def test_policy_type_names_and_articles() -> None:
    assert [(t.value, t.article) for t in PolicyType] == [
        ("service control policy", "a"),
        ("resource-based policy", "a"),
        ("identity-based policy", "an"),
        ("permissions boundary", "a"),
        ("session policy", "a"),
    ]


def test_side_of() -> None:
    assert side_of(PolicyType.RESOURCE) is Side.RESOURCE
    for kind in (PolicyType.IDENTITY, PolicyType.SCP, PolicyType.BOUNDARY, PolicyType.SESSION):
        assert side_of(kind) is Side.PRINCIPAL
    assert run(USER_B).side is Side.RESOURCE
    assert run(USER_A).side is Side.PRINCIPAL


def test_condition_helpers_are_consistent_with_the_statement_label() -> None:
    spec_ = parse_operator("ForAnyValue:StringLike")
    assert spec_ is not None
    test = compile_condition(spec_, "aws:TagKeys", (parse_template("a*", variables_enabled=True),))
    result = outcome(
        allow(Condition={"ForAnyValue:StringLike": {"aws:TagKeys": "a*"}}),
        context={"aws:TagKeys": ("b",)},
    )
    assert result.mismatch == f"Condition {test.spec.text} {test.key}"


# --- gaps: every policy type that must change for an implicit deny to become an allow --

IDT, RES, BND, SES = (
    PolicyType.IDENTITY,
    PolicyType.RESOURCE,
    PolicyType.BOUNDARY,
    PolicyType.SESSION,
)


@pytest.mark.parametrize(
    ("decision_args", "gaps"),
    [
        ({"principal": USER_A}, (IDT,)),
        ({"principal": USER_A, "boundaries": [ALLOW_S3], "sessions": [ALLOW_S3]}, (IDT, BND, SES)),
        ({"principal": USER_A, "identity": [ALLOW_PULL], "sessions": [ALLOW_S3]}, (SES,)),
        ({"principal": USER_B, "boundaries": [ALLOW_S3]}, (RES, IDT, BND)),
        ({"principal": USER_B, "identity": [ALLOW_PULL]}, (RES,)),
        ({"principal": USER_B, "resource_policy": doc(grant({"AWS": B}))}, (IDT,)),
        # a role grant needs only the boundary and session policy
        (
            {
                "principal": SESSION_A,
                "resource_policy": doc(grant({"AWS": ROLE_A})),
                "boundaries": [ALLOW_S3],
                "sessions": [ALLOW_S3],
            },
            (BND, SES),
        ),
        (
            {
                "principal": SESSION_A,
                "resource_policy": doc(grant({"AWS": ROLE_A})),
                "sessions": [ALLOW_S3],
            },
            (SES,),
        ),
        ({"principal": USER_A, "identity": [ALLOW_PULL], "scps": [[ALLOW_S3]]}, (PolicyType.SCP,)),
        ({"principal": SERVICE}, (RES,)),
        ({"principal": ROOT_B}, (RES,)),
    ],
)
def test_gaps_of_implicit_denies(
    decision_args: dict[str, Any], gaps: tuple[PolicyType, ...]
) -> None:
    args = dict(decision_args)  # parametrize values are shared between runs: do not mutate
    decision = run(args.pop("principal"), **args)
    assert decision.outcome is Outcome.IMPLICITLY_DENIED
    assert decision.gaps == gaps
    assert decision.policy_type is gaps[0]


def test_allowed_and_explicit_decisions_have_no_gaps() -> None:
    assert run(USER_A, identity=[ALLOW_PULL]).gaps == ()
    assert run(USER_A, identity=[doc(deny())]).gaps == ()


# --- the compiled policy's target memo ------------------------------------------------


def test_memo_never_caches_principals_or_conditions() -> None:
    compiled = compile_policy(
        parse_policy(
            doc(
                grant({"AWS": USER_A}),
                grant({"AWS": USER_B}, Condition={"Bool": {"aws:SecureTransport": "true"}}),
            )
        )
    )
    labels = compiled.labels("resource")

    def applies(principal: str, context: Mapping[str, ContextValue]) -> list[bool]:
        request = Request(Caller.parse(principal), PULL, REPO, normalize_context(context))
        return [o.applies for o in compiled.evaluate(request, labels)]

    for _ in range(2):  # the second round is served from the memo
        assert applies(USER_A, {}) == [True, False]
        assert applies(USER_B, {}) == [False, False]
        assert applies(USER_B, {"aws:SecureTransport": "true"}) == [False, True]
    mismatches = [
        o.mismatch
        for o in compiled.evaluate(Request(Caller.parse(USER_A), "ecr:PutImage", REPO), labels)
    ]
    assert mismatches == ["Action", "Action"]


def test_memo_never_caches_resources_with_variables() -> None:
    compiled = compile_policy(
        parse_policy(doc(allow(resource=f"arn:aws:ecr:us-east-1:{A}:repository/${{aws:username}}")))
    )
    labels = compiled.labels("identity[0]")
    for user, applies in (("app", True), ("other", False), ("app", True)):
        request = Request(Caller.parse(USER_A), PULL, REPO, {"aws:username": user})
        (result,) = compiled.evaluate(request, labels)
        assert result.applies is applies
        assert result.mismatch == (None if applies else "Resource")


def test_memo_stays_bounded_and_correct() -> None:
    compiled = compile_policy(parse_policy(doc(allow(resource=REPO))))
    labels = compiled.labels("identity[0]")
    caller = Caller.parse(USER_A)
    for n in range(5000):
        request = Request(caller, PULL, f"{REPO}-{n}")
        assert compiled.evaluate(request, labels)[0].mismatch == "Resource"
    assert len(compiled._memo) <= 4096
    assert compiled.evaluate(Request(caller, PULL, REPO), labels)[0].applies
