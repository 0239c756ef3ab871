"""explain(): the trace, near misses and the smallest fix, read off a Decision."""

from __future__ import annotations

from typing import Any

import pytest

from crossdock.policy.cases import parse_case, simulate_case
from crossdock.policy.explain import Explanation, explain

OWNER, CONSUMER = "111111111111", "222222222222"
REPO = f"arn:aws:ecr:us-east-1:{OWNER}:repository/example"
PULLER = f"arn:aws:iam::{CONSUMER}:user/puller"
PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _explain(**overrides: Any) -> Explanation:
    case: dict[str, Any] = {
        "id": "t",
        "request": {"principal": PULLER, "action": "ecr:BatchGetImage", "resource": REPO},
        "identityPolicies": [
            _doc({"Sid": "Pull", "Effect": "Allow", "Action": PULL, "Resource": REPO})
        ],
        "resourcePolicy": _doc(
            {"Sid": "Share", "Effect": "Allow", "Principal": {"AWS": CONSUMER}, "Action": PULL}
        ),
    }
    case.update(overrides)
    return explain(simulate_case(parse_case(case)))


def test_allowed_cross_account_has_no_fix_and_names_both_sides() -> None:
    result = _explain()
    assert result.decision == "Allowed"
    assert result.fix is None
    assert result.message is None
    assert result.near_misses == ()
    assert set(result.decisive) == {"identity[0]#Pull", "resource#Share"}
    assert result.accounts == (
        f"cross-account: caller in {CONSUMER}, resource in {OWNER}:"
        " both the resource policy and the caller's account must allow"
    )
    share = result.policies[0].statements[0]
    assert share.applied
    assert share.why == (
        "matches the request (its Principal names the caller's account:"
        " the caller's IAM must allow too)"
    )


def test_missing_identity_side_fix_names_the_user() -> None:
    result = _explain(identityPolicies=[])
    assert result.decision == "ImplicitlyDenied"
    assert result.fix == f"add ecr:BatchGetImage on {REPO} to an identity policy of {PULLER}"
    assert result.message is not None
    assert result.message.endswith(
        "because no identity-based policy allows the ecr:BatchGetImage action"
    )


def test_missing_both_sides_lists_both_changes() -> None:
    result = _explain(identityPolicies=[], resourcePolicy=None)
    assert result.fix == (
        f"add a statement to the resource policy of {REPO} that allows {PULLER} to perform"
        f" ecr:BatchGetImage; and add ecr:BatchGetImage on {REPO} to an identity policy of"
        f" {PULLER}"
    )


def test_near_miss_points_at_the_condition_that_failed() -> None:
    guarded = _doc(
        {
            "Sid": "OrgOnly",
            "Effect": "Allow",
            "Principal": "*",
            "Action": PULL,
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
        }
    )
    result = _explain(resourcePolicy=guarded)
    assert result.near_misses == (
        "resource#OrgOnly covers the action but condition not met: StringEquals aws:principalorgid",
    )


def test_explicit_deny_fix_names_the_deny_statements() -> None:
    deny = _doc({"Sid": "NoPull", "Effect": "Deny", "Principal": "*", "Action": "ecr:*"})
    result = _explain(resourcePolicy=deny)
    assert result.decision == "ExplicitlyDenied"
    assert result.fix == (
        "remove or narrow the Deny statement(s) resource#NoPull; an explicit deny always wins"
    )
    assert result.policies[0].statements[0].why == (
        "matches the request (its Principal names the caller)"
    )


def test_boundary_session_and_scp_fixes() -> None:
    nothing = _doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    boundary = _explain(permissionBoundaries=[nothing])
    assert (
        boundary.fix == f"add ecr:BatchGetImage on {REPO} to the permissions boundary of {PULLER}"
    )
    session = _explain(sessionPolicies=[nothing])
    assert session.fix == (
        f"add ecr:BatchGetImage on {REPO} to the session policy, or create the session"
        " without a session policy"
    )
    full = _doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    scp = _explain(scps=[[full], [nothing]])
    assert scp.fix == (
        "allow ecr:BatchGetImage in a service control policy at SCP level 1"
        f" (0 is the organization root) on the path to account {CONSUMER}"
    )


def test_trust_policy_fix_says_trust_policy() -> None:
    role = f"arn:aws:iam::{OWNER}:role/deployer"
    result = _explain(
        request={"principal": PULLER, "action": "sts:AssumeRole", "resource": role},
        identityPolicies=[_doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role})],
        resourcePolicy=None,
    )
    assert result.fix == (
        f"add a statement to the trust policy of {role} that allows {PULLER} to perform"
        " sts:AssumeRole"
    )


def test_same_account_and_service_account_lines() -> None:
    same = _explain(
        request={
            "principal": f"arn:aws:iam::{OWNER}:user/dev",
            "action": "ecr:BatchGetImage",
            "resource": REPO,
        }
    )
    assert same.accounts == f"same account ({OWNER}): either side may allow"
    service = _explain(
        request={
            "principal": "lambda.amazonaws.com",
            "action": "ecr:BatchGetImage",
            "resource": REPO,
        }
    )
    assert (
        service.accounts == f"service principal lambda.amazonaws.com calling into account {OWNER}"
    )
    assert service.fix == (
        f"add a statement to the resource policy of {REPO} that allows lambda.amazonaws.com"
        " to perform ecr:BatchGetImage"
    )


@pytest.mark.parametrize(
    ("mismatch_policy", "why"),
    [
        (
            _doc({"Effect": "Allow", "NotAction": "ecr:*", "Resource": "*"}),
            "NotAction excludes the request",
        ),
        (
            _doc(
                {
                    "Effect": "Allow",
                    "Action": "ecr:*",
                    "Resource": "arn:aws:ecr:*:*:repository/other",
                }
            ),
            "Resource does not match",
        ),
    ],
)
def test_why_names_the_first_element_that_missed(mismatch_policy: dict[str, Any], why: str) -> None:
    result = _explain(identityPolicies=[mismatch_policy])
    identity = next(p for p in result.policies if p.policy_id == "identity[0]")
    assert identity.statements[0].why == why


def test_text_and_json_forms_carry_the_same_facts() -> None:
    result = _explain(identityPolicies=[])
    text = result.to_text()
    assert "decision: ImplicitlyDenied" in text
    assert "  resource#Share Allow applies: matches the request" in text
    assert f"fix: {result.fix}" in text
    data = result.to_json()
    assert data["decision"] == "ImplicitlyDenied"
    assert data["policies"][0]["statements"][0] == {
        "id": "resource#Share",
        "effect": "Allow",
        "applied": True,
        "why": result.policies[0].statements[0].why,
    }
    empty = _explain(identityPolicies=[_doc()])
    assert "identity policy identity[0]:\n  (no statements)" in empty.to_text()


def test_text_lists_decisive_statements_and_near_misses() -> None:
    allowed = _explain().to_text()
    assert "decisive: resource#Share, identity[0]#Pull" in allowed
    guarded = _doc(
        {
            "Sid": "Tagged",
            "Effect": "Allow",
            "Principal": "*",
            "Action": PULL,
            "Condition": {"StringEquals": {"aws:PrincipalTag/team": "platform"}},
        }
    )
    text = _explain(resourcePolicy=guarded).to_text()
    assert "near miss: resource#Tagged covers the action but condition not met" in text
