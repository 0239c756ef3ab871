"""Building lifecycle policies and images for the tests (plain data, no crossdock I/O)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from crossdock.service.ecr.lifecycle_rules import DAY, LifecycleImage

NOW = 1_800_000_000.0
"""The evaluation time of the table-driven tests (epoch seconds)."""


def rule(
    priority: int,
    tag_status: str,
    count_type: str,
    count: int,
    *,
    prefixes: list[str] | None = None,
    patterns: list[str] | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """One rule in the policy JSON (``countUnit: days`` added for ``sinceImagePushed``)."""
    selection: dict[str, Any] = {"tagStatus": tag_status, "countType": count_type}
    if count_type == "sinceImagePushed":
        selection["countUnit"] = "days"
    selection["countNumber"] = count
    if prefixes is not None:
        selection["tagPrefixList"] = prefixes
    if patterns is not None:
        selection["tagPatternList"] = patterns
    out: dict[str, Any] = {"rulePriority": priority}
    if description is not None:
        out["description"] = description
    out["selection"] = selection
    out["action"] = {"type": "expire"}
    return out


def policy_text(*rules: dict[str, Any]) -> str:
    """A policy document with ``rules``, indented (so even one short rule is ≥100 chars)."""
    return json.dumps({"rules": list(rules)}, indent=4)


def digest(name: str) -> str:
    """A stable fake digest for image ``name``."""
    return "sha256:" + hashlib.sha256(name.encode()).hexdigest()


def image(name: str, tags: list[str], days_ago: float, sequence: int = 0) -> LifecycleImage:
    """An image named ``name`` (its digest is derived from it), pushed ``days_ago`` days ago."""
    return LifecycleImage(digest(name), tuple(tags), NOW - days_ago * DAY, sequence)
