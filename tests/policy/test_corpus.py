"""The policy-evaluation corpus: ``tests/data/policy_corpus/*.json``.

Every case's expectation was written from the AWS documentation (its ``rule`` cites the page),
never from the engine's output. This module first checks the corpus itself strictly (shape,
unique ids, coverage, cross-account pairs), then runs every case through the engine API and
every file through ``crossdock policy simulate``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from crossdock.policy.cases import parse_case, simulate_case

CORPUS_DIR = Path(__file__).parent.parent / "data" / "policy_corpus"
MIN_CASES = 300
MIN_MESSAGES = 60

CATEGORIES = frozenset(
    {
        "seed",
        "same_account",
        "cross_account",
        "explicit_deny",
        "principals",
        "wildcards",
        "conditions_string",
        "conditions_numeric_date",
        "conditions_ip_bool_binary_arn_null",
        "conditions_set_ops",
        "variables",
        "boundaries",
        "scps",
        "session_policies",
        "get_authorization_token",
        "push_under_readonly",
        "trust_assume_role",
        "not_elements",
    }
)
REQUIRED_KEYS = frozenset(
    {
        "id",
        "category",
        "description",
        "rule",
        "request",
        "identityPolicies",
        "resourcePolicy",
        "permissionBoundaries",
        "scps",
        "expected",
    }
)
OPTIONAL_KEYS = frozenset({"sessionPolicies"})
REQUEST_KEYS = frozenset({"principal", "action", "resource", "context"})
EXPECTED_REQUIRED = frozenset({"decision", "decisive"})
EXPECTED_OPTIONAL = frozenset({"message"})
DECISIONS = frozenset({"Allowed", "ImplicitlyDenied", "ExplicitlyDenied"})
MULTIVALUED_KEYS = frozenset({"aws:tagkeys", "aws:principalorgpaths", "aws:calledvia"})
STATEMENT_ID = re.compile(
    r"^(identity\[\d+\]|resource|boundary\[\d+\]|session\[\d+\]|scp\[\d+\]\[\d+\])#.+$"
)
IMPLICIT_SUFFIXES = tuple(
    f"because no {kind} allows the {{action}} action"
    for kind in (
        "identity-based policy",
        "resource-based policy",
        "permissions boundary",
        "session policy",
        "service control policy",
    )
)
EXPLICIT_SUFFIXES = tuple(
    f"with an explicit deny in {kind}"
    for kind in (
        "an identity-based policy",
        "a resource-based policy",
        "a permissions boundary",
        "a session policy",
        "a service control policy",
    )
)
ACCOUNT = re.compile(r"^\d{12}$")


@cache
def corpus_files() -> tuple[Path, ...]:
    return tuple(sorted(CORPUS_DIR.glob("*.json")))


@cache
def load_file(path: Path) -> tuple[dict[str, Any], ...]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, list), f"{path.name}: the file must hold a JSON array"
    for item in data:
        assert isinstance(item, dict), f"{path.name}: every case must be a JSON object"
    return tuple(data)


@cache
def all_cases() -> tuple[dict[str, Any], ...]:
    return tuple(case for path in corpus_files() for case in load_file(path))


def case_account(arn: str) -> str:
    """The account field of an ARN."""
    parts = arn.split(":")
    assert len(parts) >= 6, f"not an ARN: {arn}"
    return parts[4]


def is_cross_account(case: dict[str, Any]) -> bool:
    request = case["request"]
    if request["resource"] == "*":
        return False
    return case_account(request["principal"]) != case_account(request["resource"])


def _is_doc_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(doc, dict) for doc in value)


def shape_problems(case: dict[str, Any], category: str) -> list[str]:
    """Every way ``case`` departs from the corpus format (empty when it conforms)."""
    problems: list[str] = []
    keys = set(case)
    if missing := REQUIRED_KEYS - keys:
        problems.append(f"missing keys {sorted(missing)}")
    if unknown := keys - REQUIRED_KEYS - OPTIONAL_KEYS:
        problems.append(f"unknown keys {sorted(unknown)}")
    if problems:
        return problems
    for key in ("id", "category", "description", "rule"):
        if not isinstance(case[key], str) or not case[key].strip():
            problems.append(f"{key} must be a non-empty string")
    if case["category"] != category:
        problems.append(f"category {case['category']!r} is not the file's ({category!r})")
    if isinstance(case["id"], str) and not case["id"].startswith(f"{category}/"):
        problems.append(f"id must start with {category}/")
    if isinstance(case["description"], str) and "\n" in case["description"]:
        problems.append("description must be one line")
    problems += _request_problems(case["request"])
    if not _is_doc_list(case["identityPolicies"]):
        problems.append("identityPolicies must be a list of objects")
    if case["resourcePolicy"] is not None and not isinstance(case["resourcePolicy"], dict):
        problems.append("resourcePolicy must be an object or null")
    for key in ("permissionBoundaries", "sessionPolicies"):
        value = case.get(key)
        if value is not None and not _is_doc_list(value):
            problems.append(f"{key} must be null or a list of objects")
    scps = case["scps"]
    if scps is not None and not (
        isinstance(scps, list) and all(_is_doc_list(level) for level in scps)
    ):
        problems.append("scps must be null or a list of lists of objects")
    if not problems:
        problems += _expected_problems(case)
    return problems


def _request_problems(request: Any) -> list[str]:
    if not isinstance(request, dict):
        return ["request must be an object"]
    keys = set(request)
    problems: list[str] = []
    if keys != REQUEST_KEYS:
        problems.append(f"request keys must be exactly {sorted(REQUEST_KEYS)}, got {sorted(keys)}")
        return problems
    for key in ("principal", "action", "resource"):
        if not isinstance(request[key], str) or not request[key]:
            problems.append(f"request.{key} must be a non-empty string")
    if problems:
        return problems
    if not ACCOUNT.match(case_account(request["principal"])):
        problems.append("the principal ARN must carry a 12-digit account")
    resource = request["resource"]
    if resource != "*" and not ACCOUNT.match(case_account(resource)):
        problems.append("the resource ARN must carry a 12-digit account")
    context = request["context"]
    if not isinstance(context, dict):
        return [*problems, "request.context must be an object"]
    lowered = Counter(key.lower() for key in context)
    if duplicated := [key for key, count in lowered.items() if count > 1]:
        problems.append(f"context keys differ only in case: {duplicated}")
    for key, value in context.items():
        if key.lower() in MULTIVALUED_KEYS:
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                problems.append(f"context {key} must be a list of strings")
        elif not isinstance(value, str):
            problems.append(f"context {key} must be a string")
    return problems


def _expected_problems(case: dict[str, Any]) -> list[str]:
    expected = case["expected"]
    if not isinstance(expected, dict):
        return ["expected must be an object"]
    keys = set(expected)
    problems: list[str] = []
    if missing := EXPECTED_REQUIRED - keys:
        problems.append(f"expected is missing {sorted(missing)}")
    if unknown := keys - EXPECTED_REQUIRED - EXPECTED_OPTIONAL:
        problems.append(f"expected has unknown keys {sorted(unknown)}")
    if problems:
        return problems
    decision = expected["decision"]
    decisive = expected["decisive"]
    if decision not in DECISIONS:
        problems.append(f"expected.decision {decision!r} is not one of {sorted(DECISIONS)}")
    if not (isinstance(decisive, list) and all(isinstance(item, str) for item in decisive)):
        return [*problems, "expected.decisive must be a list of strings"]
    if len(set(decisive)) != len(decisive):
        problems.append("expected.decisive repeats an id")
    if bad := [item for item in decisive if not STATEMENT_ID.match(item)]:
        problems.append(f"expected.decisive has malformed statement ids {bad}")
    if decision == "ImplicitlyDenied" and decisive:
        problems.append("an implicit deny has no decisive statements")
    if decision == "ExplicitlyDenied" and not decisive:
        problems.append("an explicit deny names its deny statements")
    if "message" in expected:
        problems += _message_problems(case["request"], decision, expected["message"])
    return problems


def _message_problems(request: dict[str, Any], decision: str, text: Any) -> list[str]:
    if decision == "Allowed":
        return ["an allowed case has no AccessDenied message"]
    if not isinstance(text, str):
        return ["expected.message must be a string"]
    action = request["action"]
    head = (
        f"User: {request['principal']} is not authorized to perform: {action} "
        f"on resource: {request['resource']} "
    )
    if not text.startswith(head):
        return [f"expected.message must start with {head!r}"]
    suffixes = EXPLICIT_SUFFIXES if decision == "ExplicitlyDenied" else IMPLICIT_SUFFIXES
    if text[len(head) :] not in {suffix.format(action=action) for suffix in suffixes}:
        return [f"expected.message has an unknown reason: {text[len(head) :]!r}"]
    return []


def test_corpus_files_exist_for_every_category() -> None:
    names = {path.stem for path in corpus_files()}
    assert names == CATEGORIES


def test_every_case_is_well_formed() -> None:
    problems = [
        f"{path.name} #{index} ({case.get('id')}): {problem}"
        for path in corpus_files()
        for index, case in enumerate(load_file(path))
        for problem in shape_problems(case, path.stem)
    ]
    assert not problems, "\n".join(problems)


def test_case_ids_are_unique_across_the_corpus() -> None:
    counts = Counter(case["id"] for case in all_cases())
    assert not [cid for cid, count in counts.items() if count > 1]


def test_corpus_is_large_enough() -> None:
    assert len(all_cases()) >= MIN_CASES
    with_message = [case for case in all_cases() if "message" in case["expected"]]
    assert len(with_message) >= MIN_MESSAGES
    decisions = Counter(case["expected"]["decision"] for case in all_cases())
    assert set(decisions) == DECISIONS


def test_every_cross_account_case_has_its_pair() -> None:
    by_id = {case["id"]: case for case in all_cases()}
    problems: list[str] = []
    for cid, case in by_id.items():
        if not is_cross_account(case):
            continue
        stem, _, tail = cid.rpartition("/")
        if tail not in ("allow", "deny"):
            problems.append(f"{cid}: a cross-account id ends with /allow or /deny")
            continue
        other = by_id.get(f"{stem}/{'deny' if tail == 'allow' else 'allow'}")
        if other is None:
            problems.append(f"{cid}: the other member of the pair is missing")
            continue
        allowed = case["expected"]["decision"] == "Allowed"
        if allowed != (tail == "allow"):
            problems.append(f"{cid}: /allow must be Allowed and /deny must be denied")
        if not is_cross_account(other):
            problems.append(f"{cid}: both members of a pair are cross-account")
    assert not problems, "\n".join(problems)


def _case_params() -> list[Any]:
    return [pytest.param(case, id=case["id"]) for case in all_cases()]


@pytest.mark.parametrize("case", _case_params())
def test_engine_decides_case(case: dict[str, Any]) -> None:
    expected = case["expected"]
    decision = simulate_case(parse_case(case))
    got = {
        "decision": decision.decision.value,
        "decisive": sorted(decision.decisive_ids),
        "message": decision.message,
    }
    want = {
        "decision": expected["decision"],
        "decisive": sorted(expected["decisive"]),
        "message": expected.get("message", got["message"]),
    }
    if expected["decision"] == "Allowed":
        want["message"] = None
    assert got == want, case["rule"]


@pytest.mark.parametrize("path", corpus_files(), ids=lambda path: path.stem)
def test_cli_simulate_matches_the_corpus(path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "crossdock", "policy", "simulate", "--cases", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    got = [(item["id"], item["decision"]) for item in printed]
    want = [(case["id"], case["expected"]["decision"]) for case in load_file(path)]
    assert got == want
