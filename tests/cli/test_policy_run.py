"""``crossdock policy simulate`` and ``crossdock policy explain``: the CLI contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from crossdock.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE = ROOT / "examples" / "cross-account-pull.json"


def _run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_simulate_prints_decisions_in_input_order() -> None:
    code, out, _ = _run("policy", "simulate", "--cases", str(EXAMPLE))
    assert code == 0
    results = json.loads(out)
    assert [(r["id"], r["decision"]) for r in results] == [
        ("walkthrough/puller/BatchGetImage", "Allowed"),
        ("walkthrough/puller/PutImage", "ImplicitlyDenied"),
        ("walkthrough/mallory/BatchGetImage", "ImplicitlyDenied"),
    ]
    assert results[0]["decisive"] == [
        "resource#AllowPullFrom222222222222",
        "identity[0]#PullExample",
    ]
    assert results[2]["policyType"] == "resource-based policy"


def test_simulate_reads_stdin_and_repeats() -> None:
    code, out, err = _run(
        "policy",
        "simulate",
        "--cases",
        "-",
        "--repeat",
        "5",
        "--timing",
        stdin=EXAMPLE.read_text(encoding="utf-8"),
    )
    assert code == 0
    assert len(json.loads(out)) == 3
    assert err.startswith("15 decisions in ")


def test_simulate_accepts_one_case_object_and_ignores_extra_keys() -> None:
    case = json.loads(EXAMPLE.read_text(encoding="utf-8"))[0]
    case["category"] = "seed"
    case["expected"] = {"decision": "Allowed"}
    code, out, _ = _run("policy", "simulate", "--cases", "-", stdin=json.dumps(case))
    assert code == 0
    assert json.loads(out)[0]["decision"] == "Allowed"


def test_a_bad_case_is_reported_in_place_and_the_rest_still_run() -> None:
    cases: list[Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))[:2]
    cases.insert(
        1, {"id": "broken", "request": {"principal": "nobody", "action": "a", "resource": "*"}}
    )
    cases.append({"id": "bad-policy", **{k: v for k, v in cases[0].items() if k != "id"}})
    cases[-1]["identityPolicies"] = [{"Statement": {"Effect": "Permit", "Action": "*"}}]
    code, out, _ = _run("policy", "simulate", "--cases", "-", stdin=json.dumps(cases))
    assert code == 1
    results = json.loads(out)
    assert [r["decision"] for r in results] == ["Allowed", None, "ImplicitlyDenied", None]
    assert results[1]["error"].startswith("case `broken`: `nobody` is not a valid ARN")
    assert results[3]["error"] == (
        'case `bad-policy`: `Effect` "Permit" is not valid: use exactly `Allow` or `Deny`'
        " (at `/identityPolicies/0/Statement/Effect`)"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "{not json",
            "Error: <stdin> is not valid JSON: Expecting property name enclosed in double quotes"
            " at line 1 column 2",
            id="not-json",
        ),
        pytest.param('"a string"', "Error: <stdin> must hold a JSON array of cases", id="scalar"),
        pytest.param(
            "[" * 100_000, "Error: <stdin> is nested too deeply to be a case file", id="deep"
        ),
    ],
)
def test_unreadable_case_files_give_one_clear_line(text: str, message: str) -> None:
    code, out, err = _run("policy", "simulate", "--cases", "-", stdin=text)
    assert code == 1
    assert out == ""
    assert err.strip() == message


def test_missing_file_is_a_usage_error() -> None:
    code, _, err = _run("policy", "simulate", "--cases", "/nonexistent/cases.json")
    assert code == 2
    assert "No such file or directory" in err


def test_explain_one_case_as_text() -> None:
    code, out, _ = _run(
        "policy", "explain", "--cases", str(EXAMPLE), "--id", "walkthrough/puller/PutImage"
    )
    assert code == 0
    assert out.startswith("case walkthrough/puller/PutImage\ndecision: ImplicitlyDenied\n")
    assert "fix: add a statement to the resource policy of" in out


def test_explain_json_and_unknown_id() -> None:
    code, out, _ = _run("policy", "explain", "--cases", str(EXAMPLE), "--format", "json")
    assert code == 0
    documents = json.loads(out)
    assert documents[0]["id"] == "walkthrough/puller/BatchGetImage"
    assert documents[0]["decision"] == "Allowed"
    code, _, err = _run("policy", "explain", "--cases", str(EXAMPLE), "--id", "nope")
    assert code == 1
    assert err.strip() == "Error: no case has the id `nope`"


def test_explain_reports_bad_cases_on_stderr() -> None:
    bad = [{"id": "x", "request": {}}]
    code, _, err = _run("policy", "explain", "--cases", "-", stdin=json.dumps(bad))
    assert code == 1
    assert (
        err.strip()
        == "error: case `x`: `principal` must be a non-empty string (at `/request/principal`)"
    )


def test_python_dash_m_runs_the_real_entry_point() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "crossdock", "policy", "simulate", "--cases", str(EXAMPLE)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["decision"] == "Allowed"


def test_explain_every_case_as_text() -> None:
    code, out, _ = _run("policy", "explain", "--cases", str(EXAMPLE))
    assert code == 0
    assert out.count("\ncase ") + out.startswith("case ") == 3
    assert "  identity[0]#PullExample Allow applies: matches the request" in out
