"""Properties of the linter: whatever the input, it returns well-formed findings.

Arbitrary JSON values, policy-shaped JSON built from policy words, and arbitrary text
never make ``lint_policy`` or ``lint_policy_text`` raise; every finding has a catalogued
code, a Severity and a path that is an RFC 6901 JSON pointer.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from crossdock.policy.findings import CATALOGUE, Finding, PolicyKind, Severity
from crossdock.policy.lint import infer_policy_kind, lint_policy, lint_policy_text

POINTER = re.compile(r"(/([^~/]|~[01])*)*", re.DOTALL)

WORDS = [
    "Version",
    "2012-10-17",
    "2008-10-17",
    "Statement",
    "Sid",
    "Effect",
    "Allow",
    "Deny",
    "Principal",
    "NotPrincipal",
    "AWS",
    "Service",
    "Federated",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
    "StringEquals",
    "StringNotEquals",
    "StringLike",
    "Null",
    "Bool",
    "IpAddress",
    "NumericLessThan",
    "DateGreaterThan",
    "ArnLike",
    "ForAnyValue:StringLike",
    "ForAllValues:StringEquals",
    "StringEqualsIfExists",
    "aws:PrincipalOrgID",
    "aws:PrincipalAccount",
    "aws:SourceIp",
    "aws:PrincipalArn",
    "aws:Bogus",
    "*",
    "ecr:*",
    "ecr:BatchGetImage",
    "ecr:GetAuthorizationToken",
    "ecr:Batch*",
    "ecr:Nope",
    "s3:GetObject",
    "sts:AssumeRole",
    "111111111111",
    "2222222222",
    "true",
    "10.0.0.0/8",
    "arn:aws:iam::111111111111:root",
    "arn:aws:iam::111111111111:role/*",
    "arn:aws:ecr:us-east-1:111111111111:repository/example",
    "arn:aws:ecr:us-east-1:111111111111:repository/${aws:username}",
    "arn:aws:s3:::bucket",
]

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)
words = st.sampled_from(WORDS)
policy_like = st.recursive(
    words | st.booleans() | st.integers(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(words, children, max_size=5),
    max_leaves=40,
)
kinds = st.sampled_from(list(PolicyKind))


def _check(findings: list[Finding]) -> None:
    assert isinstance(findings, list)
    for finding in findings:
        assert isinstance(finding, Finding)
        assert isinstance(finding.severity, Severity)
        assert finding.code in CATALOGUE
        assert finding.severity is CATALOGUE[finding.code].severity
        assert POINTER.fullmatch(finding.path) is not None, finding.path
        assert finding.message
        assert json.dumps(finding.to_json())


@settings(max_examples=300)
@given(json_values, kinds)
def test_any_json_value(raw: Any, kind: PolicyKind) -> None:
    _check(lint_policy(raw, kind))
    assert isinstance(infer_policy_kind(raw), PolicyKind)


@settings(max_examples=400)
@given(policy_like, kinds)
def test_policy_shaped_json(raw: Any, kind: PolicyKind) -> None:
    _check(lint_policy(raw, kind))
    _check(lint_policy_text(json.dumps(raw), kind))


def _one_or_many(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return values | st.lists(values, max_size=3)


_text_words = words | st.text(max_size=12)
_principals = st.just("*") | st.dictionaries(
    st.sampled_from(["AWS", "Service", "Federated", "CanonicalUser"]),
    _one_or_many(_text_words),
    max_size=2,
)
_conditions = st.dictionaries(
    _text_words,
    st.dictionaries(_text_words, _one_or_many(_text_words | st.booleans()), max_size=2),
    max_size=3,
)
statements = st.fixed_dictionaries(
    {},
    optional={
        "Sid": _text_words,
        "Effect": st.sampled_from(["Allow", "Deny", "allow"]),
        "Principal": _principals,
        "NotPrincipal": _principals,
        "Action": _one_or_many(_text_words),
        "NotAction": _one_or_many(_text_words),
        "Resource": _one_or_many(_text_words),
        "NotResource": _one_or_many(_text_words),
        "Condition": _conditions,
    },
)
documents = st.fixed_dictionaries(
    {"Statement": statements | st.lists(statements, max_size=4)},
    optional={"Version": words},
)


@settings(max_examples=400)
@given(documents, kinds)
def test_policy_documents(raw: Any, kind: PolicyKind) -> None:
    _check(lint_policy(raw, kind))
    _check(lint_policy_text(json.dumps(raw), kind))


@settings(max_examples=300)
@given(st.text(), kinds)
def test_any_text(text: str, kind: PolicyKind) -> None:
    _check(lint_policy_text(text, kind))


def test_deep_nesting_as_value() -> None:
    deep: Any = "x"
    for _ in range(100_000):
        deep = [deep]
    document = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": deep}}
    _check(lint_policy(document, PolicyKind.IDENTITY))


def test_huge_document_is_linted_in_linear_time() -> None:
    statement = {
        "Effect": "Allow",
        "Action": "ecr:BatchGetImage",
        "Resource": "arn:aws:ecr:us-east-1:111111111111:repository/x",
    }
    document = {"Version": "2012-10-17", "Statement": [statement] * 20_000}
    codes = {finding.code for finding in lint_policy(document, PolicyKind.IDENTITY)}
    assert codes == {"POLICY_TOO_LARGE", "REDUNDANCY_CHECK_SKIPPED"}
