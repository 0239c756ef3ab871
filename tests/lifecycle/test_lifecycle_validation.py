"""Lifecycle policy validation: ECR's InvalidParameterException texts, character for character."""

from __future__ import annotations

import json
from typing import Any

import pytest
from lifecycle_data import policy_text, rule

from crossdock.service.ecr.lifecycle import check_lifecycle_policy
from crossdock.service.ecr.lifecycle_model import CountType, TagStatus
from crossdock.service.errors import InvalidParameterError

COUNT, SINCE = "imageCountMoreThan", "sinceImagePushed"
PREFIX = (
    "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: "
    "'Lifecycle policy validation failure: "
)


def _with(selection: dict[str, Any] | None = None, **top: Any) -> str:
    """One valid ``any`` rule, with selection members and rule members replaced."""
    base = rule(1, "any", COUNT, 5)
    base["selection"].update(selection or {})
    base.update(top)
    return json.dumps({"rules": [{k: v for k, v in base.items() if v is not None}]})


def _without(member: str) -> str:
    base = rule(1, "any", COUNT, 5)
    del base["selection"][member]
    return json.dumps({"rules": [base]})


CASES = [
    ("not json", "{rules", "Could not map policyString into LifecyclePolicy."),
    ("a json array", "[1, 2]", "Could not map policyString into LifecyclePolicy."),
    ("no rules", '{"rule": []}', 'object has missing required properties (["rules"])'),
    (
        "an unknown top-level member",
        '{"rules": [], "version": 1}',
        'object instance has properties which are not allowed by the schema: (["version"])',
    ),
    (
        "rules not an array",
        '{"rules": {"rulePriority": 1}}',
        'instance type (object) does not match any allowed primitive type (allowed: ["array"])',
    ),
    (
        "no rules at all",
        '{"rules": []}',
        "array is too short: must have at least 1 elements but instance has 0 elements",
    ),
    (
        "a rule without selection and action",
        '{"rules": [{"rulePriority": 1}]}',
        'object has missing required properties (["action","selection"])',
    ),
    (
        "a rule with an unknown member",
        _with(comment="x"),
        'object instance has properties which are not allowed by the schema: (["comment"])',
    ),
    (
        "a priority of 0",
        _with(rulePriority=0),
        "numeric instance is lower than the required minimum (minimum: 1, found: 0)",
    ),
    (
        "a priority as a string",
        _with(rulePriority="1"),
        'instance type (string) does not match any allowed primitive type (allowed: ["integer"])',
    ),
    (
        "an unknown tagStatus",
        _with({"tagStatus": "TAGGED"}),
        'instance value ("TAGGED") not found in enum '
        '(possible values: ["tagged","untagged","any"])',
    ),
    (
        "no countNumber",
        _without("countNumber"),
        'object has missing required properties (["countNumber"])',
    ),
    (
        "countNumber 0",
        _with({"countNumber": 0}),
        "numeric instance is lower than the required minimum (minimum: 1, found: 0)",
    ),
    (
        "countUnit with imageCountMoreThan",
        _with({"countUnit": "days"}),
        "instance failed to match exactly one schema (matched 0 out of 2)",
    ),
    (
        "countUnit null (terraform-aws-ecr #132)",
        _with({"countUnit": None}),
        "instance failed to match exactly one schema (matched 0 out of 2)",
    ),
    (
        "sinceImagePushed without countUnit",
        _with({"countType": SINCE}),
        "instance failed to match exactly one schema (matched 0 out of 2)",
    ),
    (
        "sinceImagePushed in hours",
        _with({"countType": SINCE, "countUnit": "hours"}),
        "instance failed to match exactly one schema (matched 0 out of 2)",
    ),
    (
        "an unknown countType",
        _with({"countType": "imageCountLessThan"}),
        "instance failed to match exactly one schema (matched 0 out of 2)",
    ),
    (
        "targetStorageClass null in an expire action (terraform-aws-ecr #158)",
        _with(action={"type": "expire", "targetStorageClass": None}),
        "instance failed to match exactly one schema (matched 0 out of 2)",
    ),
    (
        "an unknown action",
        _with(action={"type": "delete"}),
        "instance failed to match exactly one schema (matched 0 out of 2)",
    ),
    (
        "transition to archive",
        _with(action={"type": "transition", "targetStorageClass": "archive"}),
        'action type "transition" is not supported by crossdock (see docs/lifecycle.md)',
    ),
    (
        "sinceImagePulled",
        _with({"countType": "sinceImagePulled", "countUnit": "days"}),
        'countType "sinceImagePulled" is not supported by crossdock (see docs/lifecycle.md)',
    ),
    (
        "the archive storage class",
        _with({"storageClass": "archive"}),
        'storageClass "archive" is not supported by crossdock (see docs/lifecycle.md)',
    ),
    (
        "tagged without a list",
        policy_text(rule(1, "tagged", COUNT, 1)),
        "Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED.",
    ),
    (
        "both lists",
        policy_text(rule(3, "tagged", COUNT, 1, prefixes=["a"], patterns=["b*"])),
        "Rule 3 has both tagPrefixList and tagPatternList; a rule may use only one of them.",
    ),
    (
        "a list with untagged",
        policy_text(rule(2, "untagged", COUNT, 1, prefixes=["a"])),
        "Rule 2 has tagStatus=UNTAGGED; tagPrefixList and tagPatternList are allowed only "
        "with tagStatus=TAGGED.",
    ),
    (
        "an empty prefix list",
        policy_text(rule(1, "tagged", COUNT, 1, prefixes=[])),
        "array is too short: must have at least 1 elements but instance has 0 elements",
    ),
    (
        "an empty pattern",
        policy_text(rule(1, "tagged", COUNT, 1, patterns=[""])),
        'string "" is too short (length: 0, required minimum: 1)',
    ),
    (
        "five wildcards (the user guide's invalid example)",
        policy_text(rule(1, "tagged", COUNT, 1, patterns=["test*1*2*3*4*5*6"])),
        'tagPatternList entry "test*1*2*3*4*5*6" has more than 4 wildcards (*)',
    ),
    (
        "a priority used twice",
        policy_text(
            rule(4, "tagged", COUNT, 1, prefixes=["a"]), rule(4, "tagged", COUNT, 1, prefixes=["b"])
        ),
        "rulePriority 4 is used by more than one rule; every rule needs a unique rulePriority.",
    ),
    (
        "two untagged rules",
        policy_text(rule(1, "untagged", COUNT, 1), rule(2, "untagged", SINCE, 3)),
        "Only one rule can select Untagged images per storage class.",
    ),
    (
        "any before another rule",
        policy_text(rule(5, "any", COUNT, 1), rule(9, "untagged", SINCE, 3)),
        "Rule for tagStatus=ANY must have the lowest priority per storage class",
    ),
    (
        "a prefix in two rules",
        policy_text(
            rule(1, "tagged", COUNT, 1, prefixes=["prod", "x"]),
            rule(2, "tagged", SINCE, 9, prefixes=["prod"]),
        ),
        'The tag prefix "prod" is used by more than one rule; the rules must have a unique '
        "set of tag prefixes.",
    ),
]


@pytest.mark.parametrize(("name", "text", "reason"), CASES, ids=[c[0] for c in CASES])
def test_invalid_policies_get_ecr_errors(name: str, text: str, reason: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        check_lifecycle_policy(text)
    assert caught.value.message == PREFIX + reason + "'"
    assert caught.value.code == "InvalidParameter"


def test_valid_policies_parse_into_rules_in_priority_order() -> None:
    policy = check_lifecycle_policy(
        policy_text(
            rule(20, "any", SINCE, 30, description="everything after a month"),
            rule(3, "tagged", COUNT, 10, patterns=["*test*1*2*3", "test*1*2*3*"]),
            rule(7, "untagged", COUNT, 1),
            rule(1, "tagged", SINCE, 14, prefixes=["prod", "release"]),
        )
    )
    assert [r.priority for r in policy.rules] == [1, 3, 7, 20]
    first, second, _, last = policy.rules
    assert first.selection.tag_prefixes == ("prod", "release")
    assert first.selection.count_type is CountType.SINCE_IMAGE_PUSHED
    assert second.selection.tag_patterns == ("*test*1*2*3", "test*1*2*3*")
    assert last.selection.tag_status is TagStatus.ANY
    assert last.description == "everything after a month"
    assert last.selection.count_number == 30


def test_the_standard_storage_class_is_accepted() -> None:
    policy = check_lifecycle_policy(_with({"storageClass": "standard"}))
    assert policy.rules[0].selection.tag_status is TagStatus.ANY
