"""Evaluation of lifecycle policies, table-driven from the AWS user guide's examples."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from lifecycle_data import NOW, digest, image, policy_text, rule

from crossdock.service.ecr.lifecycle_model import parse_lifecycle_policy
from crossdock.service.ecr.lifecycle_rules import (
    DAY,
    LifecycleImage,
    candidates,
    evaluate,
    selects,
    tag_matches_pattern,
)

COUNT, SINCE = "imageCountMoreThan", "sinceImagePushed"


@dataclass(frozen=True)
class Case:
    """A repository, a policy, and which images it expires by which rule."""

    name: str
    rules: list[dict[str, Any]]
    images: list[tuple[str, list[str], float]]
    """(name, tags, pushed days ago)."""
    expired: dict[str, int]
    """image name → rulePriority of the rule that expires it."""


# The user guide's "Examples of lifecycle policies" (Filtering on image age / count /
# multiple rules / multiple tags in a single rule), plus the evaluation rules they imply.
AWS_EXAMPLE_A_IMAGES = [
    ("A", ["beta-1", "prod-1"], 10),
    ("B", ["beta-2", "prod-2"], 9),
    ("C", ["beta-3"], 8),
]
CASES = [
    Case(
        "age: untagged images older than 14 days",
        [rule(1, "untagged", SINCE, 14)],
        [("old", [], 15), ("young", [], 13), ("tagged-old", ["v1"], 20)],
        {"old": 1},
    ),
    Case(
        "age: tagPatternList prod* older than 14 days",
        [rule(1, "tagged", SINCE, 14, patterns=["prod*"])],
        [
            ("p-old", ["prod"], 20),
            ("p1-old", ["prod1"], 15),
            ("p-new", ["prod2"], 3),
            ("other-old", ["dev"], 30),
        ],
        {"p-old": 1, "p1-old": 1},
    ),
    Case(
        "count: keep one untagged image",
        [rule(1, "untagged", COUNT, 1)],
        [("u1", [], 3), ("u2", [], 2), ("u3", [], 1), ("t", ["latest"], 9)],
        {"u1": 1, "u2": 1},
    ),
    Case(
        "multiple rules, example A: a lower rule cannot expire what a higher rule selects",
        [
            rule(1, "tagged", COUNT, 1, prefixes=["prod"]),
            rule(2, "tagged", COUNT, 1, prefixes=["beta"]),
        ],
        AWS_EXAMPLE_A_IMAGES,
        {"A": 1},
    ),
    Case(
        "multiple rules, example B: the same repository with the priorities swapped",
        [
            rule(1, "tagged", COUNT, 1, prefixes=["beta"]),
            rule(2, "tagged", COUNT, 1, prefixes=["prod"]),
        ],
        AWS_EXAMPLE_A_IMAGES,
        {"A": 1, "B": 1},
    ),
    Case(
        "multiple prefixes in one rule, example A: every prefix must match",
        [rule(1, "tagged", SINCE, 5, prefixes=["alpha", "beta"])],
        [
            ("A", ["alpha-1"], 12),
            ("B", ["beta-1"], 11),
            ("C", ["alpha-2", "beta-2"], 10),
            ("D", ["alpha-3"], 4),
            ("E", ["beta-3"], 3),
            ("F", ["alpha-4", "beta-4"], 2),
        ],
        {"C": 1},
    ),
    Case(
        "multiple prefixes in one rule, example B: tags are not exclusive",
        [rule(1, "tagged", COUNT, 1, prefixes=["alpha", "beta"])],
        [
            ("A", ["alpha-1", "beta-1", "gamma-1"], 10),
            ("B", ["alpha-2", "beta-2"], 9),
            ("C", ["alpha-3", "beta-3", "gamma-2"], 8),
        ],
        {"A": 1, "B": 1},
    ),
    Case(
        "a protecting rule: prod images are kept by rule 1, rule 2 keeps 1 of the rest",
        [rule(1, "tagged", COUNT, 9999, patterns=["prod-*"]), rule(2, "any", COUNT, 1)],
        [
            ("p1", ["prod-1"], 9),
            ("p2", ["prod-2"], 8),
            ("d1", ["dev-1"], 7),
            ("d2", [], 6),
            ("d3", ["dev-3"], 5),
        ],
        {"d1": 2, "d2": 2},
    ),
    Case(
        "an untagged rule protects young untagged images from the any rule",
        [rule(1, "untagged", SINCE, 14), rule(2, "any", COUNT, 1)],
        [("u-old", [], 20), ("u-young", [], 2), ("t1", ["v1"], 10), ("t2", ["v2"], 1)],
        {"u-old": 1, "t1": 2},
    ),
    Case(
        "images expired by rule 1 still count for rule 2 (identified as if not expired)",
        [rule(1, "tagged", SINCE, 1, prefixes=["tmp"]), rule(2, "any", COUNT, 2)],
        [("tmp", ["tmp-1"], 2), ("a", ["a"], 3), ("b", ["b"], 4), ("c", ["c"], 5)],
        # Rule 2 keeps the 2 newest of all four, tmp (expired by rule 1) among them: only
        # a survives. Were expired images not counted, rule 2 would keep a and b.
        {"tmp": 1, "b": 2, "c": 2},
    ),
    Case(
        "a pattern without a wildcard matches the whole tag only",
        [rule(1, "tagged", COUNT, 1, patterns=["latest"])],
        [("l1", ["latest"], 3), ("l2", ["latest-2"], 2), ("l3", ["latest"], 1)],
        {"l1": 1},
    ),
    Case(
        "several patterns: each must match one of the image's tags",
        [rule(1, "tagged", SINCE, 1, patterns=["*-rc*", "v*"])],
        [("both", ["v2", "2.0-rc1"], 5), ("one", ["2.1-rc1"], 5), ("two-tags", ["v1-rc2"], 5)],
        {"both": 1, "two-tags": 1},
    ),
    Case(
        "tagged rules never select untagged images",
        [rule(1, "tagged", COUNT, 1, patterns=["*"])],
        [("u", [], 9), ("t1", ["a"], 8), ("t2", ["b"], 7)],
        {"t1": 1},
    ),
    Case(
        "an image selected by no rule stays",
        [rule(1, "tagged", COUNT, 1, prefixes=["release"])],
        [("x", ["x"], 99), ("r", ["release-1"], 1)],
        {},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_aws_examples(case: Case) -> None:
    policy = parse_lifecycle_policy(policy_text(*case.rules))
    images = [image(name, tags, days) for name, tags, days in case.images]
    names = {digest(name): name for name, _, _ in case.images}
    result = evaluate(policy, images, NOW)
    assert {names[e.image.digest]: e.rule_priority for e in result} == case.expired


def test_results_are_ordered_oldest_first() -> None:
    policy = parse_lifecycle_policy(policy_text(rule(1, "any", COUNT, 1)))
    images = [image("mid", [], 5), image("new", [], 1), image("old", [], 9)]
    result = evaluate(policy, images, NOW)
    assert [e.image.digest for e in result] == [digest("old"), digest("mid")]


def test_since_image_pushed_needs_strictly_more_than_n_days() -> None:
    policy = parse_lifecycle_policy(policy_text(rule(1, "any", SINCE, 7)))
    exactly = LifecycleImage(digest("exactly"), (), NOW - 7 * DAY)
    older = LifecycleImage(digest("older"), (), NOW - 7 * DAY - 1)
    assert [e.image.digest for e in evaluate(policy, [exactly, older], NOW)] == [digest("older")]


def test_images_pushed_in_the_same_second_are_ordered_by_push_sequence() -> None:
    policy = parse_lifecycle_policy(policy_text(rule(1, "untagged", COUNT, 2)))
    same = [LifecycleImage(digest(f"i{n}"), (), NOW - DAY, n) for n in (3, 1, 2, 4)]
    assert [e.image.digest for e in evaluate(policy, same, NOW)] == [digest("i1"), digest("i2")]


def test_candidates_ignore_other_rules() -> None:
    policy = parse_lifecycle_policy(
        policy_text(
            rule(1, "tagged", COUNT, 1, prefixes=["prod"]),
            rule(2, "tagged", COUNT, 1, prefixes=["beta"]),
        )
    )
    images = [image(n, t, d) for n, t, d in AWS_EXAMPLE_A_IMAGES]
    # Rule 2 on its own marks A and B (oldest first), as the user guide says.
    assert candidates(policy.rules[1], images, NOW) == [digest("A"), digest("B")]


@pytest.mark.parametrize(
    ("pattern", "tag", "matches"),
    [
        ("prod*", "prod", True),
        ("prod*", "prod1", True),
        ("prod*", "preprod", False),
        ("*prod", "preprod", True),
        ("*test*1*2*3", "my-test-1-2-3", True),
        ("*test*1*2*3", "test123", True),
        ("test*1*2*3*", "test-3-2-1", False),
        ("v1.0", "v1x0", False),
        ("a+b", "a+b", True),
        ("*", "anything", True),
        ("Prod*", "prod", False),
    ],
)
def test_wildcard_patterns(pattern: str, tag: str, matches: bool) -> None:
    assert tag_matches_pattern(tag, pattern) is matches


def test_prefix_lists_need_every_prefix_on_some_tag() -> None:
    selection = (
        parse_lifecycle_policy(policy_text(rule(1, "tagged", COUNT, 1, prefixes=["alpha", "beta"])))
        .rules[0]
        .selection
    )
    assert selects(selection, ("alpha-1", "beta-1"))
    assert selects(selection, ("alphabeta",)) is False
    assert selects(selection, ("alpha-1",)) is False
    assert selects(selection, ()) is False
