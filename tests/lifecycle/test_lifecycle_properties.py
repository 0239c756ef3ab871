"""Properties of lifecycle evaluation over generated policies and repositories."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st
from lifecycle_data import NOW

from crossdock.service.ecr.lifecycle_model import (
    CountType,
    LifecyclePolicy,
    LifecycleRule,
    Selection,
    TagStatus,
)
from crossdock.service.ecr.lifecycle_rules import (
    DAY,
    LifecycleImage,
    evaluate,
    selects,
)

TAGS = ["prod-1", "prod-2", "beta-1", "beta-2", "v1", "v2", "latest", "rc"]
PREFIXES = ["prod", "beta", "v", "l", "r"]
PATTERNS = ["prod*", "*-1", "v*", "*", "latest", "*e*"]


@st.composite
def selections(draw: st.DrawFn) -> Selection:
    status = draw(st.sampled_from(TagStatus))
    prefixes: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    if status is TagStatus.TAGGED:
        if draw(st.booleans()):
            prefixes = tuple(draw(st.lists(st.sampled_from(PREFIXES), min_size=1, max_size=2)))
        else:
            patterns = tuple(draw(st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=2)))
    count_type = draw(st.sampled_from(CountType))
    return Selection(status, count_type, draw(st.integers(1, 6)), prefixes, patterns)


@st.composite
def policies(draw: st.DrawFn) -> LifecyclePolicy:
    chosen = draw(st.lists(selections(), min_size=1, max_size=5))
    priorities = draw(
        st.lists(st.integers(1, 50), min_size=len(chosen), max_size=len(chosen), unique=True)
    )
    rules = sorted(
        (LifecycleRule(p, s) for p, s in zip(priorities, chosen, strict=True)),
        key=lambda r: r.priority,
    )
    return LifecyclePolicy(tuple(rules))


@st.composite
def repositories(draw: st.DrawFn) -> list[LifecycleImage]:
    count = draw(st.integers(0, 25))
    return [
        LifecycleImage(
            f"sha256:{n:064x}",
            tuple(draw(st.lists(st.sampled_from(TAGS), max_size=3, unique=True))),
            NOW - draw(st.integers(0, 12 * 24)) * 3600.0,
            n,
        )
        for n in range(count)
    ]


@settings(max_examples=300, deadline=None)
@given(policies(), repositories())
def test_an_image_is_expired_by_at_most_one_rule(
    policy: LifecyclePolicy, images: list[LifecycleImage]
) -> None:
    result = evaluate(policy, images, NOW)
    digests = [e.image.digest for e in result]
    assert len(digests) == len(set(digests))
    assert {e.rule_priority for e in result} <= {r.priority for r in policy.rules}


@settings(max_examples=300, deadline=None)
@given(policies(), repositories())
def test_each_rule_stays_within_its_count_and_age(
    policy: LifecyclePolicy, images: list[LifecycleImage]
) -> None:
    result = evaluate(policy, images, NOW)
    by_rule = Counter(e.rule_priority for e in result)
    for rule in policy.rules:
        selected = [i for i in images if selects(rule.selection, i.tags)]
        mine = [e.image for e in result if e.rule_priority == rule.priority]
        assert all(selects(rule.selection, i.tags) for i in mine)
        if rule.selection.count_type is CountType.IMAGE_COUNT_MORE_THAN:
            assert by_rule[rule.priority] <= max(0, len(selected) - rule.selection.count_number)
            newest = sorted(selected, key=lambda i: (i.pushed_at, i.sequence), reverse=True)
            assert not set(newest[: rule.selection.count_number]) & set(mine)
        else:
            cutoff = NOW - rule.selection.count_number * DAY
            assert all(i.pushed_at < cutoff for i in mine)


@settings(max_examples=300, deadline=None)
@given(policies(), repositories())
def test_a_rule_never_expires_what_a_higher_rule_selects(
    policy: LifecyclePolicy, images: list[LifecycleImage]
) -> None:
    for expiry in evaluate(policy, images, NOW):
        higher = [r for r in policy.rules if r.priority < expiry.rule_priority]
        assert not any(selects(r.selection, expiry.image.tags) for r in higher)


@settings(max_examples=300, deadline=None)
@given(policies(), repositories())
def test_applying_the_result_again_expires_nothing_more(
    policy: LifecyclePolicy, images: list[LifecycleImage]
) -> None:
    gone = {e.image.digest for e in evaluate(policy, images, NOW)}
    remaining = [i for i in images if i.digest not in gone]
    assert evaluate(policy, remaining, NOW) == ()


@settings(max_examples=200, deadline=None)
@given(policies(), repositories(), st.integers(1, 240))
def test_age_rules_expire_more_as_time_passes(
    policy: LifecyclePolicy, images: list[LifecycleImage], hours: int
) -> None:
    # Only sinceImagePushed rules: a later evaluation expires a superset.
    only_age = LifecyclePolicy(
        tuple(r for r in policy.rules if r.selection.count_type is CountType.SINCE_IMAGE_PUSHED)
    )
    earlier = {e.image.digest for e in evaluate(only_age, images, NOW)}
    later = {e.image.digest for e in evaluate(only_age, images, NOW + hours * 3600.0)}
    assert earlier <= later
