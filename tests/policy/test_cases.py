"""The simulation case format (cases.py): reading cases, every CaseError and its pointer."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from crossdock.policy.cases import PolicyCache, SimulationCase, parse_case, simulate_case
from crossdock.policy.context import PrincipalKind
from crossdock.policy.decide import Outcome, PolicyType
from crossdock.policy.errors import CaseError

Json = dict[str, Any]

A = "111111111111"
B = "222222222222"
REPO = f"arn:aws:ecr:us-east-1:{A}:repository/app"
USER_A = f"arn:aws:iam::{A}:user/alice"
PULL = "ecr:BatchGetImage"
ALLOW = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
BAD_EFFECT = {"Statement": [{"Effect": "allow", "Action": "*"}]}
BAD_EFFECT_MESSAGE = '`Effect` "allow" is not valid: use exactly `Allow` or `Deny`'


def case(**extra: Any) -> Json:
    out: Json = {
        "id": "c1",
        "request": {"principal": USER_A, "action": PULL, "resource": REPO},
    }
    out.update(extra)
    return out


def with_request(**fields: Any) -> Json:
    raw = case()
    raw["request"].update(fields)
    return raw


def case_error(raw: Any) -> tuple[str, str]:
    with pytest.raises(CaseError) as caught:
        parse_case(raw)
    error = caught.value
    message = str(error)
    suffix = f" (at `{error.pointer or '/'}`)"
    assert message.endswith(suffix)
    return message.removesuffix(suffix), error.pointer


# --- reading cases -------------------------------------------------------------------


def test_minimal_case() -> None:
    parsed = parse_case(case())
    assert isinstance(parsed, SimulationCase)
    assert parsed.case_id == "c1"
    request = parsed.request
    assert (request.caller.arn, request.action, request.resource) == (USER_A, PULL, REPO)
    assert request.caller.kind is PrincipalKind.USER
    assert request.context == {}
    policies = parsed.policies
    assert policies.identity == ()
    assert policies.resource_policy is None
    assert policies.boundaries is None
    assert policies.session_policies is None
    assert policies.scp_levels is None
    decision = simulate_case(parsed)
    assert decision.outcome is Outcome.IMPLICITLY_DENIED
    assert decision.policy_type is PolicyType.IDENTITY


def test_context_values_become_iam_strings_with_lower_cased_keys() -> None:
    raw = with_request(
        context={
            "aws:SourceIp": "203.0.113.10",
            "aws:SecureTransport": True,
            "aws:EpochTime": 1718452800,
            "s3:max-keys": 2.5,
            "aws:TagKeys": ["team", "env"],
            "aws:CalledVia": [],
            "mixed": [True, 1, "x"],
        }
    )
    assert parse_case(raw).request.context == {
        "aws:sourceip": "203.0.113.10",
        "aws:securetransport": "true",
        "aws:epochtime": "1718452800",
        "s3:max-keys": "2.5",
        "aws:tagkeys": ("team", "env"),
        "aws:calledvia": (),
        "mixed": ("true", "1", "x"),
    }


def test_null_context_is_empty() -> None:
    assert parse_case(with_request(context=None)).request.context == {}


def test_principal_arn_supplies_the_role_path() -> None:
    session = f"arn:aws:sts::{A}:assumed-role/deployer/ci"
    role = f"arn:aws:iam::{A}:role/ops/deployer"
    parsed = parse_case(with_request(principal=session, context={"aws:PrincipalArn": role}))
    assert parsed.request.caller.role_arn == role
    # a multivalued aws:PrincipalArn is not a role ARN
    listed = parse_case(with_request(principal=session, context={"aws:PrincipalArn": [role]}))
    assert listed.request.caller.role_arn == f"arn:aws:iam::{A}:role/deployer"


def test_policies_are_named_by_position() -> None:
    raw = case(
        identityPolicies=[ALLOW, ALLOW],
        resourcePolicy={"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*"}]},
        permissionBoundaries=[ALLOW],
        sessionPolicies=[ALLOW, ALLOW],
        scps=[[ALLOW], [ALLOW, ALLOW]],
    )
    policies = parse_case(raw).policies
    assert [p.policy_id for p in policies.account_and_resource_policies()] == [
        "resource",
        "identity[0]",
        "identity[1]",
        "boundary[0]",
        "session[0]",
        "session[1]",
    ]
    assert [p.policy_type for p in policies.identity] == [PolicyType.IDENTITY] * 2
    assert policies.resource_policy is not None
    assert policies.resource_policy.policy_type is PolicyType.RESOURCE
    assert policies.boundaries is not None
    assert policies.boundaries[0].policy_type is PolicyType.BOUNDARY
    assert policies.session_policies is not None
    assert policies.session_policies[1].policy_type is PolicyType.SESSION
    assert policies.scp_levels is not None
    assert [[p.policy_id for p in level] for level in policies.scp_levels] == [
        ["scp[0][0]"],
        ["scp[1][0]", "scp[1][1]"],
    ]
    assert [[p.policy_type for p in level] for level in policies.scp_levels] == [
        [PolicyType.SCP],
        [PolicyType.SCP, PolicyType.SCP],
    ]
    decision = simulate_case(parse_case(raw))
    assert decision.allowed
    assert decision.decisive_ids == (
        "scp[0][0]#0",
        "scp[1][0]#0",
        "scp[1][1]#0",
        "resource#0",
        "identity[0]#0",
        "identity[1]#0",
        "boundary[0]#0",
        "session[0]#0",
        "session[1]#0",
    )


@pytest.mark.parametrize("empty", [None, []])
def test_empty_or_null_policy_lists_mean_none(empty: list[Any] | None) -> None:
    # An empty list of boundaries is "no boundary", not "a boundary that allows nothing".
    raw = case(
        identityPolicies=empty,
        permissionBoundaries=empty,
        sessionPolicies=empty,
        scps=empty,
        resourcePolicy=None,
    )
    policies = parse_case(raw).policies
    assert policies.identity == ()
    assert policies.boundaries is None
    assert policies.session_policies is None
    assert policies.scp_levels is None


def test_other_top_level_keys_are_ignored() -> None:
    raw = case(identityPolicies=[ALLOW], expected={"decision": "Allowed"}, category="x")
    assert simulate_case(parse_case(raw)).allowed


def test_simulate_case_is_aws_decision() -> None:
    raw = case(
        identityPolicies=[ALLOW],
        resourcePolicy={"Statement": [{"Effect": "Deny", "Principal": "*", "Action": PULL}]},
    )
    decision = simulate_case(parse_case(raw))
    assert decision.outcome is Outcome.EXPLICITLY_DENIED
    assert decision.message == (
        f"User: {USER_A} is not authorized to perform: {PULL} on resource: {REPO} "
        "with an explicit deny in a resource-based policy"
    )
    assert decision.decisive_ids == ("resource#0",)


def test_policy_cache_compiles_equal_documents_once() -> None:
    cache = PolicyCache()
    reordered = {"Statement": ALLOW["Statement"], "Version": ALLOW["Version"]}
    first = parse_case(case(identityPolicies=[ALLOW, copy.deepcopy(ALLOW)]), cache)
    second = parse_case(case(permissionBoundaries=[reordered]), cache)
    compiled = first.policies.identity[0].compiled
    assert first.policies.identity[1].compiled is compiled
    assert second.policies.boundaries is not None
    assert second.policies.boundaries[0].compiled is compiled
    assert len(cache.entries) == 1
    other = cache.compile({"Statement": []}, "/x")
    assert other is not compiled
    assert len(cache.entries) == 2


def test_policy_cache_reports_problems_under_the_given_pointer() -> None:
    with pytest.raises(CaseError) as caught:
        PolicyCache().compile(BAD_EFFECT, "/where")
    assert caught.value.pointer == "/where/Statement/0/Effect"


# --- every CaseError ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message", "where"),
    [
        pytest.param([], "a case must be a JSON object", "", id="not-object"),
        pytest.param(None, "a case must be a JSON object", "", id="null"),
        pytest.param({"request": {}}, "`id` must be a string", "/id", id="id-missing"),
        pytest.param(case(id=7), "`id` must be a string", "/id", id="id-type"),
        pytest.param({"id": "x"}, "`request` must be an object", "/request", id="no-request"),
        pytest.param(
            case(request="r"), "`request` must be an object", "/request", id="request-type"
        ),
        pytest.param(
            case(request={"action": PULL, "resource": REPO}),
            "`principal` must be a non-empty string",
            "/request/principal",
            id="principal-missing",
        ),
        pytest.param(
            with_request(principal=""),
            "`principal` must be a non-empty string",
            "/request/principal",
            id="principal-empty",
        ),
        pytest.param(
            with_request(action=["ecr:BatchGetImage"]),
            "`action` must be a non-empty string",
            "/request/action",
            id="action-type",
        ),
        pytest.param(
            with_request(resource=None),
            "`resource` must be a non-empty string",
            "/request/resource",
            id="resource-null",
        ),
        pytest.param(
            with_request(context=["aws:SourceIp"]),
            "`context` must be an object of condition keys",
            "/request/context",
            id="context-type",
        ),
        pytest.param(
            with_request(context={"aws:TagKeys": ["a", None]}),
            "context list values must be strings",
            "/request/context/aws:TagKeys",
            id="context-list-entry",
        ),
        pytest.param(
            with_request(context={"aws:PrincipalTag/team": {"v": 1}}),
            "a context value must be a string or a list of strings",
            "/request/context/aws:PrincipalTag~1team",
            id="context-object",
        ),
        pytest.param(
            with_request(context={"a~b": None}),
            "a context value must be a string or a list of strings",
            "/request/context/a~0b",
            id="context-null",
        ),
        pytest.param(
            with_request(principal="alice"),
            "`alice` is not a valid ARN: expected 6 colon-separated parts",
            "/request/principal",
            id="principal-not-arn",
        ),
        pytest.param(
            with_request(principal=f"arn:aws:iam::{A}:group/devs"),
            f"`arn:aws:iam::{A}:group/devs` is not a user, role, assumed-role session, "
            "federated user or root ARN",
            "/request/principal",
            id="principal-group",
        ),
        pytest.param(
            case(identityPolicies={"Statement": []}),
            "`identityPolicies` must be an array of policies",
            "/identityPolicies",
            id="identity-object",
        ),
        pytest.param(
            case(identityPolicies=[ALLOW, BAD_EFFECT]),
            BAD_EFFECT_MESSAGE,
            "/identityPolicies/1/Statement/0/Effect",
            id="identity-policy-problem",
        ),
        pytest.param(
            case(identityPolicies=["not a policy"]),
            "a policy must be a JSON object, not a string",
            "/identityPolicies/0",
            id="identity-policy-type",
        ),
        pytest.param(
            case(resourcePolicy=BAD_EFFECT),
            BAD_EFFECT_MESSAGE,
            "/resourcePolicy/Statement/0/Effect",
            id="resource-policy-problem",
        ),
        pytest.param(
            case(resourcePolicy=[]),
            "a policy must be a JSON object, not an array",
            "/resourcePolicy",
            id="resource-policy-type",
        ),
        pytest.param(
            case(permissionBoundaries=ALLOW),
            "`permissionBoundaries` must be an array of policies or null",
            "/permissionBoundaries",
            id="boundaries-object",
        ),
        pytest.param(
            case(permissionBoundaries=[ALLOW, BAD_EFFECT]),
            BAD_EFFECT_MESSAGE,
            "/permissionBoundaries/1/Statement/0/Effect",
            id="boundary-problem",
        ),
        pytest.param(
            case(sessionPolicies="none"),
            "`sessionPolicies` must be an array of policies or null",
            "/sessionPolicies",
            id="sessions-string",
        ),
        pytest.param(
            case(sessionPolicies=[BAD_EFFECT]),
            BAD_EFFECT_MESSAGE,
            "/sessionPolicies/0/Statement/0/Effect",
            id="session-problem",
        ),
        pytest.param(
            case(scps={"level": []}),
            "`scps` must be an array of policies or null",
            "/scps",
            id="scps-object",
        ),
        pytest.param(
            case(scps=[[ALLOW], ALLOW]),
            "each SCP level must be an array of policies",
            "/scps/1",
            id="scp-level-object",
        ),
        pytest.param(
            case(scps=[[ALLOW], [ALLOW, BAD_EFFECT]]),
            BAD_EFFECT_MESSAGE,
            "/scps/1/1/Statement/0/Effect",
            id="scp-problem",
        ),
        pytest.param(
            case(identityPolicies=[{"Statement": [], "Id": {1, 2}}]),
            "the policy cannot be read: Object of type set is not JSON serializable",
            "/identityPolicies/0",
            id="policy-not-json",
        ),
    ],
)
def test_case_errors(raw: Any, message: str, where: str) -> None:
    assert case_error(raw) == (message, where)


def test_deeply_nested_policy_is_a_case_error() -> None:
    nested: Any = []
    for _ in range(100_000):
        nested = [nested]
    message, where = case_error(case(resourcePolicy={"Statement": nested}))
    assert where == "/resourcePolicy"
    assert message.startswith("the policy cannot be read: maximum recursion depth exceeded")


def test_first_problem_wins() -> None:
    # the request is checked before the policies, identity policies before the others
    raw = case(identityPolicies=[BAD_EFFECT], resourcePolicy=BAD_EFFECT)
    raw["request"]["action"] = ""
    assert case_error(raw) == ("`action` must be a non-empty string", "/request/action")
    raw["request"]["action"] = PULL
    assert case_error(raw)[1] == "/identityPolicies/0/Statement/0/Effect"


def test_huge_integer_context_values_are_case_errors() -> None:
    # A number longer than Python converts to text cannot be an IAM context value.
    assert case_error(with_request(context={"s3:max-keys": 10**5000})) == (
        "a context value must be a string or a list of strings",
        "/request/context/s3:max-keys",
    )
    assert case_error(with_request(context={"aws:TagKeys": ["a", -(10**5000)]})) == (
        "context list values must be strings",
        "/request/context/aws:TagKeys",
    )


@pytest.mark.parametrize(
    ("boundaries", "denied"),
    [(None, False), ([], False), ([ALLOW], True)],
)
def test_a_boundary_in_the_case_gives_the_caller_one(
    boundaries: list[Json] | None, denied: bool
) -> None:
    # IAM UG, NotPrincipal: a Deny with NotPrincipal denies every principal that has a
    # permissions boundary, whatever NotPrincipal lists. An empty list is no boundary.
    raw = case(
        identityPolicies=[ALLOW],
        permissionBoundaries=boundaries,
        resourcePolicy={
            "Statement": [{"Effect": "Deny", "NotPrincipal": {"AWS": [USER_A, A]}, "Action": "*"}]
        },
    )
    decision = simulate_case(parse_case(raw))
    assert (decision.outcome is Outcome.EXPLICITLY_DENIED) is denied
