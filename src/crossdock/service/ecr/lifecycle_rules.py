"""Which images a lifecycle policy expires (pure: no I/O; the time is passed in).

The evaluation follows the AWS user guide's "Lifecycle policy evaluation rules":

* every rule picks its candidates on its own, counting every image it selects, including
  images a higher-priority rule expires ("can still identify them as if they haven't been
  expired");
* ``imageCountMoreThan N`` sorts the selected images newest first (by push time) and
  picks everything after the first N; ``sinceImagePushed N`` picks those pushed more than
  N days ago;
* the rules are then applied in priority order: an image is expired by at most one rule,
  and a rule never expires an image that matches the tag selection of a higher-priority
  rule (even one that rule keeps);
* ``tagPrefixList`` / ``tagPatternList``: an image is selected when *every* entry matches
  at least one of its tags; ``*`` in a pattern matches any run of characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from crossdock.service.ecr.lifecycle_model import (
    CountType,
    LifecyclePolicy,
    LifecycleRule,
    Selection,
    TagStatus,
)

DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class LifecycleImage:
    """What the evaluation needs to know about an image."""

    digest: str
    tags: tuple[str, ...]
    pushed_at: float
    """Epoch seconds."""
    sequence: int = 0
    """Push order, to order images pushed in the same instant (later is newer)."""


@dataclass(frozen=True, slots=True)
class Expiry:
    """An image the policy expires, and the rule that expires it."""

    image: LifecycleImage
    rule_priority: int


@lru_cache(maxsize=1024)
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


def tag_matches_pattern(tag: str, pattern: str) -> bool:
    """Whether ``tag`` matches a ``tagPatternList`` entry (``*``: any run, even empty)."""
    return _pattern(pattern).fullmatch(tag) is not None


def selects(selection: Selection, tags: Sequence[str]) -> bool:
    """Whether a rule's tag selection covers an image with ``tags``."""
    status = selection.tag_status
    if status is TagStatus.ANY:
        return True
    if status is TagStatus.UNTAGGED:
        return not tags
    if not tags:
        return False
    if selection.tag_prefixes:
        return all(any(t.startswith(p) for t in tags) for p in selection.tag_prefixes)
    return all(any(tag_matches_pattern(t, p) for t in tags) for p in selection.tag_patterns)


def _newest_first(images: Iterable[LifecycleImage]) -> list[LifecycleImage]:
    return sorted(images, key=lambda i: (i.pushed_at, i.sequence), reverse=True)


def candidates(rule: LifecycleRule, images: Sequence[LifecycleImage], now: float) -> list[str]:
    """The digests ``rule`` would expire on its own, oldest first."""
    selection = rule.selection
    chosen = _newest_first(i for i in images if selects(selection, i.tags))
    if selection.count_type is CountType.IMAGE_COUNT_MORE_THAN:
        picked = chosen[selection.count_number :]
    else:
        cutoff = now - selection.count_number * DAY
        picked = [i for i in chosen if i.pushed_at < cutoff]
    return [i.digest for i in reversed(picked)]


def evaluate(
    policy: LifecyclePolicy, images: Sequence[LifecycleImage], now: float
) -> tuple[Expiry, ...]:
    """Every image ``policy`` expires at ``now``, oldest first, each with its rule."""
    by_digest = {i.digest: i for i in images}
    expired: dict[str, int] = {}
    for position, rule in enumerate(policy.rules):
        higher = policy.rules[:position]
        for digest in candidates(rule, images, now):
            if digest in expired:
                continue
            tags = by_digest[digest].tags
            if any(selects(r.selection, tags) for r in higher):
                continue  # a higher-priority rule's selection protects it
            expired[digest] = rule.priority
    chosen = (Expiry(by_digest[d], p) for d, p in expired.items())
    return tuple(sorted(chosen, key=lambda e: (e.image.pushed_at, e.image.sequence)))
