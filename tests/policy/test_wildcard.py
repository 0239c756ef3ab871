"""IAM globbing (wildcard.py): ``*`` / ``?``, literal metacharacters, the three styles.

Rules: IAM UG, "IAM JSON policy elements: Resource" (wildcards in ARN segments; a ``*``
that is the last character of a segment can expand past the colons) and "Condition
operators", ARN condition operators (each of the six segments is matched separately).
"""

from __future__ import annotations

import re

import pytest

from crossdock.policy.wildcard import (
    GlobStyle,
    chunks_to_regex,
    compile_glob,
    compiled_regex,
    glob_match,
    glob_to_regex,
    has_wildcard,
)

REPO = "arn:aws:ecr:us-east-1:111111111111:repository/app"


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [("", False), ("abc", False), ("a*", True), ("?", True), ("${x}", False), ("a.b", False)],
)
def test_has_wildcard(pattern: str, expected: bool) -> None:
    assert has_wildcard(pattern) is expected


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("ecr:BatchGetImage", "ecr:BatchGetImage", True),
        ("ecr:BatchGetImage", "ecr:batchgetimage", False),
        ("ecr:*", "ecr:PutImage", True),
        ("ecr:*", "ecr:", True),
        ("ecr:*", "ec2:RunInstances", False),
        ("ecr:Batch*", "ecr:BatchGetImage", True),
        ("ecr:Batch*", "ecr:PutImage", False),
        ("*", "", True),
        ("*", "anything at all\n", True),
        ("a?c", "abc", True),
        ("a?c", "ac", False),
        ("a?c", "abbc", False),
        ("a?c", "a\nc", True),
        ("a*b*c", "aXXbYYc", True),
        ("a*b*c", "acb", False),
        ("", "", True),
        ("", "a", False),
        # regular-expression metacharacters are literal
        ("a.c", "abc", False),
        ("a.c", "a.c", True),
        ("a+", "aa", False),
        ("a+", "a+", True),
        ("(a)", "(a)", True),
        ("[ab]", "a", False),
        ("[ab]", "[ab]", True),
        ("\\d", "1", False),
        ("\\d", "\\d", True),
        ("^a$", "^a$", True),
        ("a|b", "a", False),
        ("{1}", "{1}", True),
    ],
)
def test_plain_matching(pattern: str, subject: str, expected: bool) -> None:
    assert glob_match(pattern, subject) is expected
    assert compile_glob(pattern)(subject) is expected


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("ECR:batch*", "ecr:BatchGetImage", True),
        ("ecr:batchgetimage", "ECR:BATCHGETIMAGE", True),
        ("ecr:batchgetimage", "ecr:PutImage", False),
        ("A?C", "abc", True),
        ("*", "XYZ", True),
    ],
)
def test_ignore_case_folds_both_sides(pattern: str, subject: str, expected: bool) -> None:
    assert glob_match(pattern, subject, ignore_case=True) is expected
    assert compile_glob(pattern, ignore_case=True)(subject) is expected


def test_case_is_significant_by_default() -> None:
    assert not glob_match("ECR:Batch*", "ecr:BatchGetImage")
    assert not glob_match("A?C", "abc")


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        # a * inside a segment stays inside it
        ("arn:aws:ecr:us-*-1:111111111111:repository/app", REPO, True),
        (
            "arn:aws:ecr:us-*-1:111111111111:repository/app",
            REPO.replace("us-east-1", "u:s-1"),
            False,
        ),
        # a * that ends a segment may run on across colons
        ("arn:aws:ecr:*", REPO, True),
        ("arn:aws:ecr:*:111111111111:repository/app", REPO, True),
        ("arn:aws:ecr:*:repository/app", REPO, True),
        ("arn:aws:*", REPO, True),
        ("*", REPO, True),
        ("arn:aws:ec*", REPO, True),
        # ? never matches a colon before the resource id
        ("arn:aws:ecr:us-east-?:111111111111:repository/app", REPO, True),
        ("arn:aws:ecr?us-east-1:111111111111:repository/app", REPO, False),
        # the resource id (after the fifth colon) is free text: * and ? cross / and :
        ("arn:aws:ecr:us-east-1:111111111111:repository/*", REPO + "/web", True),
        ("arn:aws:ecr:us-east-1:111111111111:repository/*", REPO + ":tag", True),
        ("arn:aws:ecr:us-east-1:111111111111:repository?app", REPO, True),
        ("arn:aws:ecr:us-east-1:111111111111:a?b", "arn:aws:ecr:us-east-1:111111111111:a:b", True),
        # case-sensitive
        ("arn:aws:ecr:us-east-1:111111111111:repository/APP", REPO, False),
        ("arn:aws:ecr:us-east-1:222222222222:repository/*", REPO, False),
    ],
)
def test_arn_resource_style(pattern: str, subject: str, expected: bool) -> None:
    assert glob_match(pattern, subject, style=GlobStyle.ARN_RESOURCE) is expected


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("arn:aws:iam::*:role/admin", "arn:aws:iam::111111111111:role/admin", True),
        ("arn:aws:iam::111111111111:role/*", "arn:aws:iam::111111111111:role/a/b", True),
        ("arn:aws:iam::111111111111:*", "arn:aws:iam::111111111111:role/a:b", True),
        # no * crosses a colon in the first five segments, even at a segment's end
        ("arn:aws:*", "arn:aws:iam::111111111111:root", False),
        ("arn:aws:*:111111111111:root", "arn:aws:iam::111111111111:root", False),
        ("arn:aws:i?m::111111111111:root", "arn:aws:iam::111111111111:root", True),
        ("arn:aws:iam:?:111111111111:root", "arn:aws:iam:::111111111111:root", False),
        ("*", "arn:aws:iam::111111111111:root", False),
        ("*", "no-colons", True),
        ("arn:aws:iam::111111111111:ROOT", "arn:aws:iam::111111111111:root", False),
    ],
)
def test_arn_condition_style(pattern: str, subject: str, expected: bool) -> None:
    assert glob_match(pattern, subject, style=GlobStyle.ARN_CONDITION) is expected


def test_arn_styles_honour_ignore_case() -> None:
    for style in (GlobStyle.ARN_RESOURCE, GlobStyle.ARN_CONDITION):
        assert glob_match(
            "ARN:AWS:IAM::*:ROOT", "arn:aws:iam::1:root", ignore_case=True, style=style
        )
        assert not glob_match("ARN:AWS:IAM::*:ROOT", "arn:aws:iam::1:root", style=style)


def test_glob_to_regex_per_style() -> None:
    assert glob_to_regex("a.*:b?:*") == r"a\..*:b.:.*"
    assert glob_to_regex("a.*:b?:*", GlobStyle.ARN_RESOURCE) == r"a\..*:b[^:]:.*"
    assert glob_to_regex("a.*:b?:*", GlobStyle.ARN_CONDITION) == r"a\.[^:]*:b[^:]:[^:]*"
    assert glob_to_regex("a:b:c:d:e:f*?") == "a:b:c:d:e:f.*."
    assert glob_to_regex("a:b:c:d:e:f*?", GlobStyle.ARN_CONDITION) == "a:b:c:d:e:f.*."
    assert glob_to_regex("a*b", GlobStyle.ARN_RESOURCE) == "a[^:]*b"


def test_chunks_keep_literal_wildcards_literal() -> None:
    regex = chunks_to_regex([("repo/", True), ("*?", False), ("/*", True)], GlobStyle.PLAIN)
    assert regex == r"repo/\*\?/.*"
    assert re.fullmatch(regex, "repo/*?/x")
    assert not re.fullmatch(regex, "repo/ab/x")
    # literal colons still count as segment separators in ARN styles
    arn_regex = chunks_to_regex(
        [("arn:aws:s3:", True), (":", False), (":b*", True)], GlobStyle.ARN_CONDITION
    )
    assert arn_regex == "arn:aws:s3:::b.*"


def test_compiled_regex_is_cached_and_dotall() -> None:
    first = compiled_regex("a*", GlobStyle.PLAIN)
    assert compiled_regex("a*", GlobStyle.PLAIN) is first
    assert first.flags & re.DOTALL
    assert first.fullmatch("a\nb")
    assert compiled_regex("a*b", GlobStyle.ARN_RESOURCE).pattern == "a[^:]*b"
    assert compiled_regex("a*b", GlobStyle.PLAIN).pattern == "a.*b"


def test_style_values() -> None:
    assert [s.value for s in GlobStyle] == ["plain", "arn-resource", "arn-condition"]
