"""Properties of the policy engine, checked with Hypothesis.

* an applicable explicit deny always wins (IAM UG, "Policy evaluation logic": an explicit
  deny in any policy overrides every allow);
* neither statement order nor policy order matters (IAM UG: a policy is a set of
  statements; every applicable policy is evaluated);
* adding an Allow never turns Allowed into a denial; adding a Deny never turns a denial
  into Allowed;
* the glob matcher agrees with naive reference matchers written here;
* parse → serialize → parse is the identity;
* malformed input only ever raises the engine's own errors.
"""

from __future__ import annotations

import copy
import json
import random
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from crossdock.policy.cases import SimulationCase, parse_case, simulate_case
from crossdock.policy.conditions import base_operators
from crossdock.policy.context import Caller
from crossdock.policy.decide import Decision, Outcome
from crossdock.policy.errors import CaseError, PolicyParseError
from crossdock.policy.evaluate import not_principal_excludes, principal_grant
from crossdock.policy.model import PrincipalSpec
from crossdock.policy.parse import (
    check_policy,
    load_policy_json,
    parse_policy,
    parse_policy_text,
)
from crossdock.policy.serialize import policy_to_json
from crossdock.policy.wildcard import GlobStyle, compile_glob, glob_match, glob_to_regex

Json = dict[str, Any]

# Sized so the whole file runs in about 15 s on two cores; raise locally when hunting.
CASE_SETTINGS = settings(max_examples=80, deadline=None)
MONOTONE = settings(max_examples=60, deadline=None)  # each example adds to every slot
FUZZ = settings(max_examples=60, deadline=None)
FAST = settings(max_examples=100, deadline=None)
GLOBS = settings(max_examples=300, deadline=None)

# === vocabulary ====================================================================

A = "111111111111"
B = "222222222222"


def repo(account: str, name: str, region: str = "us-east-1") -> str:
    return f"arn:aws:ecr:{region}:{account}:repository/{name}"


POLICY_ACTIONS = [
    "ecr:BatchGetImage",
    "ecr:*",
    "ecr:Batch*",
    "ecr:PutImage",
    "ECR:batchgetimage",
    "ecr:GetDownloadUrlForLayer",
    "*",
]
REQUEST_ACTIONS = ["ecr:BatchGetImage", "ecr:PutImage", "ecr:GetDownloadUrlForLayer"]
REQUEST_RESOURCES = [repo(A, "app"), repo(A, "app/web"), repo(B, "app"), repo(B, "other")]
RESOURCE_PATTERNS = [
    *REQUEST_RESOURCES,
    repo(A, "*"),
    repo(B, "app*"),
    repo("*", "app"),
    "arn:aws:ecr:*:222222222222:repository/*",
    "arn:aws:ecr:us-east-?:111111111111:repository/app/*",
    "*",
]


def identities(account: str) -> list[str]:
    return [
        f"arn:aws:sts::{account}:assumed-role/deployer/ci",
        f"arn:aws:iam::{account}:user/alice",
        f"arn:aws:iam::{account}:role/deployer",
        f"arn:aws:iam::{account}:root",
    ]


# Hypothesis favours the first entries of sampled_from: the special cases (root, a
# service) come last.
CALLERS = [*identities(A), *identities(B), "ecr.amazonaws.com"]
# Account forms first: a list then often names the caller twice, by account and by ARN.
AWS_PRINCIPAL_VALUES = [A, *identities(A), B, *identities(B), "*"]

CONDITIONS: list[tuple[str, str, Any]] = [
    ("IpAddress", "aws:SourceIp", "10.0.0.0/8"),
    ("NotIpAddress", "aws:SourceIp", ["203.0.113.0/24"]),
    ("IpAddressIfExists", "aws:SourceIp", ["10.0.0.0/8", "2001:db8::/32"]),
    ("StringEquals", "aws:PrincipalTag/team", "dev"),
    ("StringLike", "aws:PrincipalTag/team", ["d*", "q?"]),
    ("StringNotEquals", "aws:PrincipalTag/team", "ops"),
    ("ForAnyValue:StringEquals", "aws:TagKeys", ["team", "env"]),
    ("ForAllValues:StringLike", "aws:TagKeys", ["team", "env*"]),
    ("Null", "aws:TagKeys", "true"),
]
CONTEXT_CHOICES: dict[str, list[Any]] = {
    "aws:SourceIp": ["10.1.2.3", "203.0.113.10", "2001:db8::1"],
    "aws:PrincipalTag/team": ["dev", "ops"],
    "aws:TagKeys": [[], ["team"], ["team", "env1"], ["x"]],
}


# === strategies: policies and cases in the case format ==================================
# Strategies are built once, at import: building them inside a draw costs Hypothesis a
# validation pass per example.


def one_or_many(values: list[Any]) -> st.SearchStrategy[Any]:
    return st.sampled_from(values) | st.lists(
        st.sampled_from(values), min_size=1, max_size=3, unique=True
    )


def _condition_block(entries: list[tuple[str, str, Any]]) -> Json:
    block: Json = {}
    for operator, key, value in entries:
        block.setdefault(operator, {})[key] = value
    return block


ACTION_VALUES = one_or_many(POLICY_ACTIONS)
RESOURCE_VALUES = one_or_many(RESOURCE_PATTERNS)
AWS_VALUES = st.sampled_from(AWS_PRINCIPAL_VALUES) | st.lists(
    st.sampled_from(AWS_PRINCIPAL_VALUES), min_size=2, max_size=4, unique=True
)
PRINCIPAL_VALUES = (
    st.just("*")
    | st.builds(lambda v: {"AWS": v}, AWS_VALUES)
    | st.builds(lambda v: {"AWS": v}, AWS_VALUES)
    | st.just({"Service": "ecr.amazonaws.com"})
)
CONDITION_BLOCKS = st.lists(st.sampled_from(CONDITIONS), min_size=1, max_size=2).map(
    _condition_block
)
EFFECTS = st.sampled_from(["Allow", "Allow", "Allow", "Deny"])  # else most cases are denied
ACTION_KEYS = st.sampled_from(["Action", "Action", "NotAction"])
RESOURCE_KEYS = st.sampled_from(["Resource", "Resource", "NotResource"])


@st.composite
def _statements(draw: st.DrawFn, kind: str, effect: str | None) -> Json:
    chosen: str = effect or draw(EFFECTS)
    out: Json = {"Effect": chosen}
    if kind == "resource":
        not_principal = chosen == "Deny" and draw(st.booleans())
        out["NotPrincipal" if not_principal else "Principal"] = draw(PRINCIPAL_VALUES)
    out[draw(ACTION_KEYS)] = draw(ACTION_VALUES)
    if kind != "resource" or draw(st.booleans()):
        out[draw(RESOURCE_KEYS)] = draw(RESOURCE_VALUES)
    if draw(CONDITIONAL):
        out["Condition"] = draw(CONDITION_BLOCKS)
    return out


CONDITIONAL = st.sampled_from([False, False, True])
KINDS = ("resource", "identity", "boundary", "session", "scp")
STATEMENTS = {
    (kind, effect): _statements(kind, effect)
    for kind in KINDS
    for effect in ("Allow", "Deny", None)
}


def statements(kind: str, effect: str | None = None) -> st.SearchStrategy[Json]:
    """One statement for a policy of ``kind``; Principal/NotPrincipal only for ``resource``."""
    return STATEMENTS[kind, effect]


def _policy(kind: str, broad: bool, body: list[Json]) -> Json:
    """A policy; ``broad`` puts an Allow of every ecr action first, so that generated cases
    are allowed often enough for the monotonicity properties to bite."""
    first: list[Json] = []
    if broad:
        first.append({"Effect": "Allow", "Action": "ecr:*"})
        first[0].update({"Principal": "*"} if kind == "resource" else {"Resource": "*"})
    return {"Version": "2012-10-17", "Statement": first + body}


POLICIES = {
    kind: st.builds(
        _policy,
        st.just(kind),
        st.booleans(),
        st.lists(statements(kind), min_size=1, max_size=3),
    )
    for kind in KINDS
}


def all_policies(case: Json) -> list[Json]:
    found: list[Json] = list(case["identityPolicies"])
    if case["resourcePolicy"] is not None:
        found.append(case["resourcePolicy"])
    for key in ("permissionBoundaries", "sessionPolicies"):
        found.extend(case[key] or ())
    for level in case["scps"] or ():
        found.extend(level)
    return found


CALLER_NAMES = st.sampled_from(CALLERS)
ACTION_NAMES = st.sampled_from(REQUEST_ACTIONS)
RESOURCE_NAMES = st.sampled_from(REQUEST_RESOURCES)
CONTEXTS = st.fixed_dictionaries(
    {}, optional={key: st.sampled_from(choices) for key, choices in CONTEXT_CHOICES.items()}
)
IDENTITY_LISTS = st.lists(POLICIES["identity"], max_size=3)
RESOURCE_POLICIES = st.none() | POLICIES["resource"] | POLICIES["resource"]
BOUNDARY_LISTS = st.none() | st.lists(POLICIES["boundary"], min_size=1, max_size=2)
SESSION_LISTS = st.none() | st.lists(POLICIES["session"], min_size=1, max_size=2)
SCP_LEVELS = (
    st.none()
    | st.none()
    | st.lists(st.lists(POLICIES["scp"], min_size=1, max_size=2), min_size=1, max_size=2)
)


@st.composite
def cases(draw: st.DrawFn) -> Json:
    case: Json = {
        "id": "property",
        "request": {
            "principal": draw(CALLER_NAMES),
            "action": draw(ACTION_NAMES),
            "resource": draw(RESOURCE_NAMES),
            "context": draw(CONTEXTS),
        },
        "identityPolicies": draw(IDENTITY_LISTS),
        "resourcePolicy": draw(RESOURCE_POLICIES),
        "permissionBoundaries": draw(BOUNDARY_LISTS),
        "sessionPolicies": draw(SESSION_LISTS),
        "scps": draw(SCP_LEVELS),
    }
    # Every statement gets a unique Sid, so decision labels name statements, not positions.
    for number, statement in enumerate(s for p in all_policies(case) for s in p["Statement"]):
        statement["Sid"] = f"S{number}"
    return case


def decide_case(case: Json) -> Decision:
    decision = simulate_case(parse_case(case))
    # every decision is well formed, whatever the case
    assert (decision.message is None) is (decision.outcome is Outcome.ALLOWED)
    assert (decision.gaps == ()) is (decision.outcome is not Outcome.IMPLICITLY_DENIED)
    return decision


def sids(decision: Decision) -> list[str]:
    return sorted(label.split("#", 1)[1] for label in decision.decisive_ids)


def summary(decision: Decision) -> tuple[Any, ...]:
    return (
        decision.outcome,
        decision.policy_type,
        decision.reason,
        decision.message,
        decision.gaps,
        decision.missing_scp_level,
        sids(decision),
    )


# --- where a statement can be added ------------------------------------------------------

Slot = tuple[str, ...]


def slots(case: Json, *, new_policies: bool) -> list[Slot]:
    """Places to add a statement: existing policies, a new identity policy, the resource policy."""
    found: list[Slot] = [("identityPolicies", str(i)) for i in range(len(case["identityPolicies"]))]
    found.append(("resourcePolicy",))
    if new_policies:
        found.append(("identityPolicies", "new"))
    for key in ("permissionBoundaries", "sessionPolicies"):
        found.extend((key, str(i)) for i in range(len(case[key] or ())))
    for level, docs in enumerate(case["scps"] or ()):
        found.extend(("scps", str(level), str(i)) for i in range(len(docs)))
    return found


def slot_kind(slot: Slot) -> str:
    return {
        "identityPolicies": "identity",
        "resourcePolicy": "resource",
        "permissionBoundaries": "boundary",
        "sessionPolicies": "session",
        "scps": "scp",
    }[slot[0]]


def with_statement(case: Json, slot: Slot, statement: Json) -> Json:
    """A copy of ``case`` with ``statement`` appended to the policy at ``slot``."""
    out = copy.deepcopy(case)
    fresh = {"Version": "2012-10-17", "Statement": [statement]}
    if slot == ("resourcePolicy",):
        if out["resourcePolicy"] is None:
            out["resourcePolicy"] = fresh
        else:
            out["resourcePolicy"]["Statement"].append(statement)
    elif slot == ("identityPolicies", "new"):
        out["identityPolicies"].append(fresh)
    elif slot[0] == "scps":
        out["scps"][int(slot[1])][int(slot[2])]["Statement"].append(statement)
    else:
        out[slot[0]][int(slot[1])]["Statement"].append(statement)
    return out


# === explicit deny, order, monotonicity ================================================


@MONOTONE
@given(cases())
def test_an_applicable_deny_always_wins(case: Json) -> None:
    for slot in slots(case, new_policies=True):
        deny: Json = {"Sid": "AddedDeny", "Effect": "Deny", "Action": "*", "Resource": "*"}
        if slot_kind(slot) == "resource":
            deny["Principal"] = "*"
        decision = decide_case(with_statement(case, slot, deny))
        assert decision.outcome is Outcome.EXPLICITLY_DENIED, slot
        assert "AddedDeny" in sids(decision)
        assert decision.message is not None
        assert " with an explicit deny in " in decision.message


def _shuffle_values(statement: Json, rnd: random.Random) -> None:
    """Shuffle every list inside a statement: values of an element are a set too."""
    stack: list[Any] = [statement]
    while stack:
        node = stack.pop()
        children = list(node.values()) if isinstance(node, dict) else node
        if isinstance(node, list):
            rnd.shuffle(node)
        stack.extend(c for c in children if isinstance(c, (dict, list)))


def shuffled(case: Json, rnd: random.Random) -> Json:
    out = copy.deepcopy(case)
    for policy in all_policies(out):
        rnd.shuffle(policy["Statement"])
        for statement in policy["Statement"]:
            _shuffle_values(statement, rnd)
    rnd.shuffle(out["identityPolicies"])
    for key in ("permissionBoundaries", "sessionPolicies"):
        if out[key] is not None:
            rnd.shuffle(out[key])
    for level in out["scps"] or ():
        rnd.shuffle(level)
    return out


@CASE_SETTINGS
@given(cases(), st.randoms(use_true_random=False))
def test_statement_and_policy_order_never_matter(case: Json, rnd: random.Random) -> None:
    before = decide_case(case)
    after = decide_case(shuffled(case, rnd))
    assert summary(after) == summary(before)


@FAST
@given(
    st.sampled_from(CALLERS),
    st.lists(st.sampled_from(AWS_PRINCIPAL_VALUES), min_size=1, max_size=5, unique=True),
    st.randoms(use_true_random=False),
)
def test_principal_value_order_never_matters(
    caller_arn: str, values: list[str], rnd: random.Random
) -> None:
    # The values of a Principal are a set: the strongest way it names the caller counts.
    caller = Caller.parse(caller_arn)
    spec = PrincipalSpec(False, (("AWS", tuple(values)),))
    permuted = PrincipalSpec(False, (("AWS", tuple(rnd.sample(values, len(values)))),))
    assert principal_grant(permuted, caller) is principal_grant(spec, caller)
    assert not_principal_excludes(permuted, caller) is not_principal_excludes(spec, caller)


def relevant_allows(case: Json, kind: str) -> list[Json]:
    """Allows of the request's own action; for a resource policy, one per form that names
    the caller (everyone, its account, its root ARN, its own ARN, its role)."""
    request = case["request"]
    action = request["action"]
    if kind != "resource":
        return [{"Effect": "Allow", "Action": action, "Resource": "*"}]
    caller = Caller.parse(request["principal"])
    names: list[Any] = ["*"]
    if caller.account:
        names += [{"AWS": caller.account}, {"AWS": caller.root_arn}, {"AWS": caller.arn}]
    else:
        names.append({"Service": caller.arn})
    if caller.role_arn is not None:
        names.append({"AWS": caller.role_arn})
    return [{"Effect": "Allow", "Principal": name, "Action": action} for name in names]


def on_its_own(case: Json) -> Json:
    """The caller asking for a repository of its own account, with no identity policies
    and no SCPs: where a resource-policy grant alone decides (IAM UG, same-account
    evaluation)."""
    out = copy.deepcopy(case)
    out["identityPolicies"] = []
    out["scps"] = None
    account = Caller.parse(out["request"]["principal"]).account
    if account:
        out["request"]["resource"] = repo(account, "app")
    return out


@MONOTONE
@given(cases(), st.data())
def test_adding_an_allow_never_denies(case: Json, data: st.DataObject) -> None:
    # Adding an Allow to an existing policy, a new identity policy or the resource policy
    # can only add permissions (a new boundary would restrict: that is not an Allow).
    for variant in (case, on_its_own(case)):
        before = decide_case(variant)
        for slot in slots(variant, new_policies=True):
            kind = slot_kind(slot)
            added = relevant_allows(variant, kind)
            if variant is case:
                added.append(data.draw(statements(kind, "Allow"), label=f"allow in {slot}"))
            for statement in added:
                statement["Sid"] = "AddedAllow"
                after = decide_case(with_statement(variant, slot, statement))
                if before.outcome is Outcome.ALLOWED:
                    assert after.outcome is Outcome.ALLOWED, (slot, statement)
                if before.outcome is Outcome.EXPLICITLY_DENIED:
                    assert after.outcome is Outcome.EXPLICITLY_DENIED, (slot, statement)
                    assert sids(after) == sids(before)


@MONOTONE
@given(cases(), st.data())
def test_adding_a_deny_never_allows(case: Json, data: st.DataObject) -> None:
    for variant in (case, on_its_own(case)):
        before = decide_case(variant)
        for slot in slots(variant, new_policies=True):
            statement = data.draw(statements(slot_kind(slot), "Deny"), label=f"deny in {slot}")
            statement["Sid"] = "AddedDeny"
            after = decide_case(with_statement(variant, slot, statement))
            if before.outcome is not Outcome.ALLOWED:
                assert after.outcome is not Outcome.ALLOWED, slot
            # a Deny either applies (explicit deny) or changes nothing at all
            if after.outcome is Outcome.EXPLICITLY_DENIED and "AddedDeny" in sids(after):
                continue
            assert summary(after) == summary(before), slot


def test_the_case_strategy_covers_every_outcome() -> None:
    # A guard that the properties above see allows as well as both kinds of denial.
    seen: set[Outcome] = set()

    @settings(max_examples=40, deadline=None, database=None)
    @given(cases())
    def collect(case: Json) -> None:
        seen.add(decide_case(case).outcome)

    collect()
    assert seen == set(Outcome)


# === the glob matcher against naive references ========================================


def naive_glob(
    pattern: str,
    subject: str,
    *,
    no_colon: Callable[[int], bool] = lambda i: False,
    crosses: Callable[[int], bool] = lambda i: True,
) -> bool:
    """Backtracking ``*`` / ``?`` matcher.

    ``no_colon(i)``: pattern position ``i`` (a ``?`` or ``*``) may not match ``:``, unless
    it is a ``*`` with ``crosses(i)``.
    """

    @cache
    def match(i: int, j: int) -> bool:
        if i == len(pattern):
            return j == len(subject)
        char = pattern[i]
        if char == "*":
            if match(i + 1, j):
                return True
            if j == len(subject):
                return False
            if subject[j] == ":" and no_colon(i) and not crosses(i):
                return False
            return match(i, j + 1)
        if j == len(subject):
            return False
        if char == "?":
            if subject[j] == ":" and no_colon(i):
                return False
            return match(i + 1, j + 1)
        return char == subject[j] and match(i + 1, j + 1)

    return match(0, 0)


def naive_arn_condition(pattern: str, subject: str) -> bool:
    """Per segment: the first five never span a colon; the resource id is free text."""
    p_parts, s_parts = pattern.split(":", 5), subject.split(":", 5)
    return len(p_parts) == len(s_parts) and all(
        naive_glob(p, s) for p, s in zip(p_parts, s_parts, strict=True)
    )


def naive_arn_resource(pattern: str, subject: str) -> bool:
    """As the condition style, except a ``*`` that ends a segment may run across colons."""

    def segment(i: int) -> int:
        return pattern.count(":", 0, i)

    def ends_segment(i: int) -> bool:
        return i + 1 == len(pattern) or pattern[i + 1] == ":"

    return naive_glob(pattern, subject, no_colon=lambda i: segment(i) < 5, crosses=ends_segment)


GLOB_ALPHABET = "aAbB.+([\\$^:{|\n*?"
PATTERNS = st.text(alphabet=GLOB_ALPHABET, max_size=8)
SUBJECTS = st.text(alphabet=GLOB_ALPHABET.replace("*?", ""), max_size=8) | PATTERNS


@GLOBS
@given(PATTERNS, SUBJECTS)
@example("a*", "a\n")
@example("[a]", "[a]")
@example("\\", "\\")
@example("*?*", "")
def test_plain_glob_agrees_with_naive_matcher(pattern: str, subject: str) -> None:
    expected = naive_glob(pattern, subject)
    assert glob_match(pattern, subject) is expected
    assert compile_glob(pattern)(subject) is expected
    assert (re.fullmatch(glob_to_regex(pattern), subject, re.DOTALL) is not None) is expected
    folded = naive_glob(pattern.lower(), subject.lower())
    assert glob_match(pattern, subject, ignore_case=True) is folded
    assert compile_glob(pattern, ignore_case=True)(subject) is folded


ARN_PATTERNS = st.text(alphabet="aB:*?/", max_size=14)
ARN_SUBJECTS = st.text(alphabet="aB:/", max_size=14) | st.builds(
    ":".join, st.lists(st.text(alphabet="aB/:", max_size=3), min_size=5, max_size=7)
)


@GLOBS
@given(ARN_PATTERNS, ARN_SUBJECTS)
@example("arn:aws:ecr:*", "arn:aws:ecr:us:1:repository/x")
@example("a*:b", "ax:y:b")
@example("a:b:c:d:e:*", "a:b:c:d:e:f:g")
@example("*", "a:b")
def test_arn_globs_agree_with_per_segment_references(pattern: str, subject: str) -> None:
    condition = naive_arn_condition(pattern, subject)
    assert glob_match(pattern, subject, style=GlobStyle.ARN_CONDITION) is condition
    resource = naive_arn_resource(pattern, subject)
    assert glob_match(pattern, subject, style=GlobStyle.ARN_RESOURCE) is resource
    # Without a segment-ending * before the resource id both styles are per segment.
    head = pattern.split(":", 5)[:5] if pattern.count(":") >= 5 else pattern.split(":")
    if not any(part.endswith("*") for part in head):
        assert resource is condition
    for style in (GlobStyle.ARN_CONDITION, GlobStyle.ARN_RESOURCE):
        reference = naive_arn_condition if style is GlobStyle.ARN_CONDITION else naive_arn_resource
        folded = reference(pattern.lower(), subject.lower())
        assert glob_match(pattern, subject, ignore_case=True, style=style) is folded


# === parse → serialize → parse ==========================================================

OPERATORS = [
    *base_operators(),
    "ForAnyValue:StringLike",
    "ForAllValues:StringEquals",
    "StringEqualsIfExists",
    "ForAllValues:NumericLessThanIfExists",
]
TEXT = st.text(max_size=8)
SCALARS = (
    TEXT
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
)
STRINGS = TEXT | st.lists(TEXT, min_size=1, max_size=3)


@st.composite
def any_principal(draw: st.DrawFn) -> Any:
    if draw(st.booleans()):
        return "*"
    kinds = draw(
        st.lists(
            st.sampled_from(["AWS", "Service", "Federated", "CanonicalUser"]),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    return {kind: draw(STRINGS) for kind in kinds}


@st.composite
def any_statement(draw: st.DrawFn) -> Json:
    out: Json = {}
    if draw(st.booleans()):
        out["Sid"] = draw(TEXT)
    out["Effect"] = draw(st.sampled_from(["Allow", "Deny"]))
    for first, second, required in (
        ("Principal", "NotPrincipal", False),
        ("Action", "NotAction", True),
        ("Resource", "NotResource", False),
    ):
        choice = draw(st.sampled_from([first, second] if required else [first, second, None]))
        if choice is not None:
            out[choice] = draw(any_principal() if first == "Principal" else STRINGS)
    if draw(st.booleans()):
        out["Condition"] = draw(
            st.dictionaries(
                st.sampled_from(OPERATORS),
                st.dictionaries(
                    TEXT, SCALARS | st.lists(SCALARS, max_size=3), min_size=1, max_size=3
                ),
                max_size=3,
            )
        )
    return out


@st.composite
def any_document(draw: st.DrawFn) -> Json:
    out: Json = {}
    version = draw(st.sampled_from(["2012-10-17", "2008-10-17", None]))
    if version is not None:
        out["Version"] = version
    if draw(st.booleans()):
        out["Id"] = draw(TEXT)
    body = draw(st.lists(any_statement(), max_size=4))
    out["Statement"] = body[0] if len(body) == 1 and draw(st.booleans()) else body
    return out


@FAST
@given(any_document())
def test_parse_serialize_parse_is_the_identity(raw: Json) -> None:
    policy = parse_policy(raw)
    written = policy_to_json(policy)
    assert parse_policy(written) == policy
    assert policy_to_json(parse_policy(written)) == written
    assert parse_policy_text(json.dumps(written)) == policy


# === fuzz: malformed input raises only the engine's own errors ===========================

POLICY_WORDS = [
    "Allow",
    "Deny",
    "2012-10-17",
    "2008-10-17",
    "*",
    "ecr:*",
    "ecr:BatchGetImage",
    repo(A, "app"),
    *identities(A),
    "ecr.amazonaws.com",
    "${aws:username}",
    "10.0.0.0/8",
    "true",
]
KEYS = [
    "Version",
    "Id",
    "Statement",
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
    "AWS",
    "Service",
    "StringEquals",
    "ForAnyValue:StringLike",
    "NumericLessThan",
    "IpAddress",
    "Null",
    "aws:SourceIp",
    "id",
    "request",
    "principal",
    "action",
    "resource",
    "context",
    "identityPolicies",
    "resourcePolicy",
    "permissionBoundaries",
    "sessionPolicies",
    "scps",
]


def nest(value: Any, depth: int, as_dict: bool) -> Any:
    for _ in range(depth):
        value = {"Statement": value} if as_dict else [value]
    return value


LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    # longer than Python converts to text (sys.get_int_max_str_digits())
    | st.builds(lambda sign: sign * 10**4400, st.sampled_from([1, -1]))
    | st.floats()
    | st.text(max_size=6)
    | st.sampled_from(POLICY_WORDS)
)
# Deeper than sys.getrecursionlimit(): recursive code over these would fail.
DEEP = st.builds(nest, LEAVES, st.integers(1000, 1500), st.booleans())
JSON_VALUES = st.recursive(
    LEAVES | DEEP,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), children, max_size=5)
    ),
    max_leaves=25,
)


def fuzzed(shape: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Json]:
    return st.fixed_dictionaries({}, optional={k: v | JSON_VALUES for k, v in shape.items()})


FUZZ_STATEMENT = fuzzed(
    {
        "Sid": st.text(max_size=4),
        "Effect": st.sampled_from(["Allow", "Deny"]),
        "Principal": st.just("*")
        | st.dictionaries(st.sampled_from(["AWS", "Service"]), JSON_VALUES),
        "NotPrincipal": st.just("*"),
        "Action": st.sampled_from(POLICY_ACTIONS),
        "NotAction": st.lists(st.sampled_from(POLICY_ACTIONS)),
        "Resource": st.sampled_from(RESOURCE_PATTERNS),
        "NotResource": st.just("*"),
        "Condition": st.dictionaries(
            st.sampled_from(OPERATORS) | st.text(max_size=4),
            st.dictionaries(st.sampled_from(KEYS), JSON_VALUES),
        ),
    }
)
FUZZ_POLICY = fuzzed(
    {
        "Version": st.sampled_from(["2012-10-17", "2008-10-17"]),
        "Id": st.text(max_size=4),
        "Statement": FUZZ_STATEMENT | st.lists(FUZZ_STATEMENT, max_size=3),
    }
)
FUZZ_CASE = fuzzed(
    {
        "id": st.text(max_size=4),
        "request": fuzzed(
            {
                "principal": st.sampled_from(CALLERS) | st.text(max_size=12),
                "action": st.sampled_from(REQUEST_ACTIONS),
                "resource": st.sampled_from(REQUEST_RESOURCES),
                "context": st.dictionaries(st.sampled_from(KEYS), JSON_VALUES),
            }
        ),
        "identityPolicies": st.lists(FUZZ_POLICY, max_size=2),
        "resourcePolicy": FUZZ_POLICY,
        "permissionBoundaries": st.lists(FUZZ_POLICY, max_size=2),
        "sessionPolicies": st.lists(FUZZ_POLICY, max_size=2),
        "scps": st.lists(st.lists(FUZZ_POLICY, max_size=2), max_size=2),
    }
)


def _unprintable(value: Any) -> bool:
    """True when json.dumps(value) fails: nested past the recursion limit, or holding an
    integer longer than Python converts to text. Walks iteratively."""
    stack = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > 200:
            return True
        if isinstance(node, int) and not isinstance(node, bool) and node.bit_length() > 14_000:
            return True
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return False


def resolves(document: Any, pointer: str) -> bool:
    """True when the RFC 6901 ``pointer`` names a location that exists in ``document``."""
    node = document
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdecimal() and int(token) < len(node):
            node = node[int(token)]
        else:
            return False
    return True


KNOWN_CODES = {
    "WRONG_TYPE",
    "MISSPELLED_ELEMENT",
    "UNKNOWN_ELEMENT",
    "INVALID_VERSION",
    "MISSING_STATEMENT",
    "MISSING_EFFECT",
    "INVALID_EFFECT",
    "CONFLICTING_ELEMENTS",
    "MISSING_ACTION",
    "EMPTY_VALUE",
    "INVALID_PRINCIPAL",
    "UNKNOWN_OPERATOR",
}


@FUZZ
@given(JSON_VALUES | FUZZ_POLICY)
def test_check_policy_never_raises(raw: Any) -> None:
    policy, problems = check_policy(raw)
    assert (policy is None) == bool(problems)
    for problem in problems:
        assert problem.code in KNOWN_CODES
        assert resolves(raw, problem.pointer), problem
        assert problem.message
    if policy is not None:
        assert parse_policy(raw) == policy


@FUZZ
@given(JSON_VALUES | FUZZ_CASE)
@example({"id": "x", "request": {"principal": "x", "action": "a", "resource": "r"}})
def test_parse_case_raises_only_case_error(raw: Any) -> None:
    parsed = _parse_case_or_error(raw)
    if isinstance(parsed, CaseError):
        assert parsed.pointer == "" or parsed.pointer.startswith("/")
        return
    # a case that parses can always be decided
    decision = simulate_case(parsed)
    assert decision.outcome in Outcome


def _parse_case_or_error(raw: Any) -> SimulationCase | CaseError:
    try:
        return parse_case(raw)
    except CaseError as error:
        return error


def json_texts() -> st.SearchStrategy[str]:
    dumped = JSON_VALUES.filter(lambda v: not _unprintable(v)).map(json.dumps)
    return (
        st.text(max_size=40)
        | dumped
        | st.builds(lambda text, cut: text[:cut], dumped, st.integers(0, 60))
        | st.builds(
            lambda text, junk: text + junk, dumped, st.sampled_from(["}", "]", ",", "\x00"])
        )
    )


@FUZZ
@given(json_texts())
@example("[" * 100_000)
@example('{"a":' * 100_000)
@example('{"Version": "2012-10-17", "Version": "2012-10-17", "Statement": []}')
@example("NaN")
@example("")
def test_load_policy_json_raises_only_policy_parse_error(text: str) -> None:
    error = _load_error(text)
    if error is not None:
        assert error.code == "INVALID_JSON"
        assert error.pointer == ""
        assert len(error.problems) == 1


def _load_error(text: str) -> PolicyParseError | None:
    try:
        load_policy_json(text)
    except PolicyParseError as error:
        return error
    return None


# Deep structures cannot be Hypothesis @examples (it pretty-prints them recursively).
DEEP_DOCUMENTS = [
    nest("x", 100_000, as_dict=False),
    {"Statement": nest({"Effect": "Allow"}, 100_000, as_dict=True)},
    {"Statement": [{"Effect": "Allow", "Action": nest("*", 100_000, as_dict=False)}]},
    {
        "Statement": {
            "Effect": "Allow",
            "Action": "*",
            "Condition": {"Bool": nest(1, 100_000, as_dict=True)},
        }
    },
    {
        "Statement": {
            "Effect": "Allow",
            "Action": "*",
            "Principal": {"AWS": nest("*", 100_000, as_dict=False)},
        }
    },
]


def test_check_policy_never_raises_on_deep_nesting() -> None:
    for raw in DEEP_DOCUMENTS:
        policy, problems = check_policy(raw)
        assert policy is None
        assert problems
        assert all(resolves(raw, p.pointer) for p in problems)


def test_parse_case_never_raises_on_deep_nesting() -> None:
    request = {"principal": CALLERS[0], "action": "a", "resource": "*"}
    deep = nest("v", 100_000, as_dict=False)
    for raw in [
        deep,
        {"id": "x", "request": {**request, "context": {"k": deep}}},
        {"id": "x", "request": {**request, "context": nest("v", 100_000, as_dict=True)}},
        {"id": "x", "request": request, "identityPolicies": [deep]},
        {"id": "x", "request": request, "scps": [[{"Statement": deep}]]},
    ]:
        try:
            parse_case(raw)
        except CaseError:
            continue
        raise AssertionError("a deeply nested case was accepted")
