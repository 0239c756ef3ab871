"""The ECR lifecycle policy language: read a policy text and check it as ECR does (pure).

ECR validates the JSON against a schema first (its reasons are json-schema-validator
texts such as ``object has missing required properties (["rules"])``), then checks the
rules against each other. :func:`parse_lifecycle_policy` does both in that order and
raises :class:`LifecyclePolicyError` with the first reason; the service wraps it in ECR's
``Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle
policy validation failure: <reason>'``. Which reasons are AWS's observed texts and which
are crossdock's own is listed in docs/lifecycle.md.

Archive storage (``storageClass: archive``, ``action.type: transition``,
``sinceImageTransitioned``) and ``sinceImagePulled`` are refused: crossdock has no archive
storage class and does not record pull times.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

MAX_WILDCARDS = 4
"""``*`` characters allowed in one ``tagPatternList`` entry (AWS user guide)."""
ONE_OF = "instance failed to match exactly one schema (matched 0 out of 2)"
UNMAPPABLE = "Could not map policyString into LifecyclePolicy."

_RULE_REQUIRED = ("action", "rulePriority", "selection")
_RULE_ALLOWED = frozenset({"rulePriority", "description", "selection", "action"})
_SELECTION_REQUIRED = ("countNumber", "countType", "tagStatus")
_SELECTION_ALLOWED = frozenset(
    {
        "tagStatus",
        "tagPrefixList",
        "tagPatternList",
        "countType",
        "countUnit",
        "countNumber",
        "storageClass",
    }
)
_UNSUPPORTED_COUNT_TYPES = frozenset({"sinceImagePulled", "sinceImageTransitioned"})


class LifecyclePolicyError(ValueError):
    """The policy text is not a valid lifecycle policy; ``reason`` says why (ECR's words)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TagStatus(Enum):
    """Which images a rule looks at (the policy JSON spells these in lower case)."""

    TAGGED = "tagged"
    UNTAGGED = "untagged"
    ANY = "any"


class CountType(Enum):
    """How a rule picks the images it expires among those it selects."""

    IMAGE_COUNT_MORE_THAN = "imageCountMoreThan"
    """Keep the ``countNumber`` most recently pushed; expire the rest."""
    SINCE_IMAGE_PUSHED = "sinceImagePushed"
    """Expire those pushed more than ``countNumber`` days ago."""


@dataclass(frozen=True, slots=True)
class Selection:
    """A rule's ``selection``."""

    tag_status: TagStatus
    count_type: CountType
    count_number: int
    tag_prefixes: tuple[str, ...] = ()
    tag_patterns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LifecycleRule:
    """One rule; its action is always ``expire``."""

    priority: int
    selection: Selection
    description: str | None = None


@dataclass(frozen=True, slots=True)
class LifecyclePolicy:
    """A checked policy: its rules in evaluation order (lowest ``rulePriority`` first)."""

    rules: tuple[LifecycleRule, ...]


def _json(value: Any) -> str:
    """A JSON value as the validator prints it (Jackson: no spaces)."""
    return json.dumps(value, separators=(",", ":"))


def _kind(value: Any) -> str:
    """The JSON Schema primitive type of ``value``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _expect(value: Any, kind: str) -> None:
    found = _kind(value)
    if found != kind:
        raise LifecyclePolicyError(
            f"instance type ({found}) does not match any allowed primitive type "
            f"(allowed: {_json([kind])})"
        )


def _properties(value: Mapping[str, Any], required: Iterable[str], allowed: frozenset[str]) -> None:
    missing = sorted(name for name in required if name not in value)
    if missing:
        raise LifecyclePolicyError(f"object has missing required properties ({_json(missing)})")
    extra = sorted(name for name in value if name not in allowed)
    if extra:
        raise LifecyclePolicyError(
            f"object instance has properties which are not allowed by the schema: ({_json(extra)})"
        )


def _enum(value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise LifecyclePolicyError(
            f"instance value ({_json(value)}) not found in enum "
            f"(possible values: {_json(list(allowed))})"
        )
    return str(value)


def _positive(value: Any) -> int:
    _expect(value, "integer")
    if value < 1:
        raise LifecyclePolicyError(
            f"numeric instance is lower than the required minimum (minimum: 1, found: {value})"
        )
    return int(value)


def unsupported(what: str) -> LifecyclePolicyError:
    """A feature of the ECR language that crossdock refuses rather than ignores."""
    return LifecyclePolicyError(f"{what} is not supported by crossdock (see docs/lifecycle.md)")


def _strings(value: Any) -> tuple[str, ...]:
    _expect(value, "array")
    if not value:
        raise LifecyclePolicyError(
            "array is too short: must have at least 1 elements but instance has 0 elements"
        )
    for item in value:
        _expect(item, "string")
        if not item:
            raise LifecyclePolicyError('string "" is too short (length: 0, required minimum: 1)')
    return tuple(value)


def _count(selection: Mapping[str, Any]) -> CountType:
    count_type = selection["countType"]
    if count_type in _UNSUPPORTED_COUNT_TYPES:
        raise unsupported(f"countType {_json(count_type)}")
    if count_type == CountType.IMAGE_COUNT_MORE_THAN.value and "countUnit" not in selection:
        return CountType.IMAGE_COUNT_MORE_THAN
    if count_type == CountType.SINCE_IMAGE_PUSHED.value and selection.get("countUnit") == "days":
        return CountType.SINCE_IMAGE_PUSHED
    raise LifecyclePolicyError(ONE_OF)


def _selection(value: Any) -> Selection:
    _expect(value, "object")
    _properties(value, _SELECTION_REQUIRED, _SELECTION_ALLOWED)
    statuses = tuple(s.value for s in TagStatus)
    tag_status = TagStatus(_enum(value["tagStatus"], statuses))
    storage = value.get("storageClass", "standard")
    if storage != "standard":
        raise unsupported(f"storageClass {_json(storage)}")
    count_type = _count(value)
    count_number = _positive(value["countNumber"])
    prefixes = _strings(value["tagPrefixList"]) if "tagPrefixList" in value else ()
    patterns = _strings(value["tagPatternList"]) if "tagPatternList" in value else ()
    for pattern in patterns:
        if pattern.count("*") > MAX_WILDCARDS:
            raise LifecyclePolicyError(
                f"tagPatternList entry {_json(pattern)} has more than {MAX_WILDCARDS} wildcards (*)"
            )
    return Selection(tag_status, count_type, count_number, prefixes, patterns)


def _action(value: Any) -> None:
    _expect(value, "object")
    if value.get("type") == "transition":
        raise unsupported('action type "transition"')
    if value != {"type": "expire"}:
        raise LifecyclePolicyError(ONE_OF)


def _rule(value: Any) -> LifecycleRule:
    _expect(value, "object")
    _properties(value, _RULE_REQUIRED, _RULE_ALLOWED)
    priority = _positive(value["rulePriority"])
    description = value.get("description")
    if description is not None:
        _expect(description, "string")
    selection = _selection(value["selection"])
    _action(value["action"])
    return LifecycleRule(priority, selection, description)


def _check_tag_lists(rule: LifecycleRule) -> None:
    selection = rule.selection
    lists = bool(selection.tag_prefixes) + bool(selection.tag_patterns)
    if selection.tag_status is TagStatus.TAGGED and lists == 0:
        raise LifecyclePolicyError(
            "Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED."
        )
    if lists == 2:
        raise LifecyclePolicyError(
            f"Rule {rule.priority} has both tagPrefixList and tagPatternList; "
            "a rule may use only one of them."
        )
    if selection.tag_status is not TagStatus.TAGGED and lists:
        raise LifecyclePolicyError(
            f"Rule {rule.priority} has tagStatus={selection.tag_status.name}; "
            "tagPrefixList and tagPatternList are allowed only with tagStatus=TAGGED."
        )


def _check_together(rules: tuple[LifecycleRule, ...]) -> None:
    """The rules against each other (``rules`` sorted by priority)."""
    repeated = sorted(p for p, n in Counter(r.priority for r in rules).items() if n > 1)
    if repeated:
        raise LifecyclePolicyError(
            f"rulePriority {repeated[0]} is used by more than one rule; "
            "every rule needs a unique rulePriority."
        )
    statuses = [r.selection.tag_status for r in rules]
    if statuses.count(TagStatus.UNTAGGED) > 1:
        raise LifecyclePolicyError("Only one rule can select Untagged images per storage class.")
    if TagStatus.ANY in statuses[:-1]:
        raise LifecyclePolicyError(
            "Rule for tagStatus=ANY must have the lowest priority per storage class"
        )
    prefixes = Counter(p for r in rules for p in set(r.selection.tag_prefixes))
    shared = sorted(p for p, n in prefixes.items() if n > 1)
    if shared:
        raise LifecyclePolicyError(
            f"The tag prefix {_json(shared[0])} is used by more than one rule; "
            "the rules must have a unique set of tag prefixes."
        )


def parse_lifecycle_policy(text: str) -> LifecyclePolicy:
    """Read and check ``text``; raise :class:`LifecyclePolicyError` with ECR's reason."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        raise LifecyclePolicyError(UNMAPPABLE) from None
    if not isinstance(document, dict):
        raise LifecyclePolicyError(UNMAPPABLE)
    _properties(document, ("rules",), frozenset({"rules"}))
    _expect(document["rules"], "array")
    if not document["rules"]:
        raise LifecyclePolicyError(
            "array is too short: must have at least 1 elements but instance has 0 elements"
        )
    rules = tuple(_rule(item) for item in document["rules"])
    for rule in rules:
        _check_tag_lists(rule)
    ordered = tuple(sorted(rules, key=lambda r: r.priority))
    _check_together(ordered)
    return LifecyclePolicy(ordered)
