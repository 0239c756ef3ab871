"""``crossdock policy lint``: exit codes, text and JSON output, type inference.

Exit 0 without an ERROR finding, 1 with one, 2 for a usage error (including a missing
or unreadable FILE, reported in one line without a traceback).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from crossdock.cli import policy_lint
from crossdock.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent.parent
DATA = ROOT / "tests" / "data" / "lint"
REPOSITORY = DATA / "walkthrough-repository-policy.json"
IDENTITY = DATA / "walkthrough-identity-policy.json"
CLEAN = DATA / "clean-repository-policy.json"
PUBLIC = DATA / "public-repository-policy.json"
TRUST = DATA / "org-trust-policy.json"
REGISTRY = DATA / "registry-replication-policy.json"


def _run(*args: str, stdin: str | bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["policy", "lint", *args], input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _json(*args: str, stdin: str | None = None) -> tuple[int, list[dict[str, str]]]:
    code, out, _ = _run("--format", "json", *args, stdin=stdin)
    return code, json.loads(out)


def test_walkthrough_repository_policy() -> None:
    code, findings = _json(str(REPOSITORY))
    assert code == 1
    assert findings == [
        {
            "file": str(REPOSITORY),
            "code": "INVALID_ACCOUNT_ID",
            "severity": "ERROR",
            "message": findings[0]["message"],
            "path": "/Statement/0/Principal/AWS",
        }
    ]
    assert "`2222222222`" in findings[0]["message"]


def test_walkthrough_identity_policy() -> None:
    code, findings = _json(str(IDENTITY))
    assert code == 1
    assert [(f["code"], f["path"]) for f in findings] == [
        ("INVALID_ACCOUNT_ID", "/Statement/0/Resource")
    ]


def test_json_across_files_names_each_file() -> None:
    code, findings = _json(str(CLEAN), str(REPOSITORY), str(IDENTITY), str(PUBLIC))
    assert code == 1
    assert [(Path(f["file"]).name, f["code"]) for f in findings] == [
        ("walkthrough-repository-policy.json", "INVALID_ACCOUNT_ID"),
        ("walkthrough-identity-policy.json", "INVALID_ACCOUNT_ID"),
        ("public-repository-policy.json", "PUBLIC_ACCESS"),
    ]
    assert all(list(f) == ["file", "code", "severity", "message", "path"] for f in findings)


def test_clean_files_exit_0() -> None:
    code, out, err = _run(str(CLEAN), str(TRUST), str(REGISTRY))
    assert code == 0
    assert err == ""
    assert out.splitlines()[-1] == "no findings in 3 files"


def test_a_security_warning_alone_exits_0() -> None:
    code, out, _ = _run(str(PUBLIC))
    assert code == 0
    line = f"{PUBLIC}:/Statement/0/Principal SECURITY_WARNING PUBLIC_ACCESS `Principal` "
    assert any(text.startswith(line) for text in out.splitlines())
    assert "opens the repository to every AWS account" in out
    assert out.splitlines()[-1] == (
        "1 finding in 1 file: 0 errors, 1 security warning, 0 warnings, 0 suggestions"
    )


def test_text_output_states_the_inferred_type() -> None:
    code, out, _ = _run(str(REPOSITORY), str(IDENTITY), str(TRUST), str(REGISTRY))
    assert code == 1
    lines = out.splitlines()
    assert f"{REPOSITORY}: linted as a repository policy (inferred; set it with --type)" in lines
    assert f"{IDENTITY}: linted as an identity policy (inferred; set it with --type)" in lines
    assert f"{TRUST}: linted as a trust policy (inferred; set it with --type)" in lines
    assert f"{REGISTRY}: linted as a registry policy (inferred; set it with --type)" in lines
    assert f"{REPOSITORY}:/Statement/0/Principal/AWS ERROR INVALID_ACCOUNT_ID the account" in out
    assert (
        lines[-1]
        == "2 findings in 4 files: 2 errors, 0 security warnings, 0 warnings, 0 suggestions"
    )


def test_type_option_overrides_inference() -> None:
    code, out, _ = _run("--type", "identity", str(CLEAN))
    assert code == 1
    assert "inferred" not in out
    assert "PRINCIPAL_NOT_ALLOWED" in out
    assert "MISSING_RESOURCE" in out


def test_whole_document_findings_show_slash(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    path.write_text('{"Statement": {"Effect": "Deny", "Action": "ecr:*", "Resource": "*"}}')
    code, out, _ = _run("--type", "scp", str(path))
    assert code == 0
    assert f"{path}:/ SUGGESTION MISSING_VERSION" in out
    assert out.splitlines()[-1].endswith("1 suggestion")


def test_invalid_json_is_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"Version": "2012-10-17", "Statement": [}')
    code, findings = _json(str(path))
    assert code == 1
    assert [f["code"] for f in findings] == ["INVALID_JSON"]


def test_non_utf8_file_is_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"Sid": "caf\xe9"}')
    code, findings = _json(str(path))
    assert code == 1
    assert [f["code"] for f in findings] == ["INVALID_JSON"]
    assert "UTF-8" in findings[0]["message"]
    code, findings = _json("--type", "trust", str(path))
    assert [f["code"] for f in findings] == ["INVALID_JSON"]


def test_standard_input() -> None:
    code, findings = _json("-", stdin=REPOSITORY.read_text())
    assert code == 1
    assert [(f["file"], f["code"]) for f in findings] == [("-", "INVALID_ACCOUNT_ID")]


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    code, out, err = _run(str(CLEAN), str(missing))
    assert code == 2
    assert out == ""
    assert err == f"error: cannot read `{missing}`: No such file or directory\n"


def test_directory_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = _run(str(tmp_path))
    assert code == 2
    assert err.startswith(f"error: cannot read `{tmp_path}`: ")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--type", "bucket", str(CLEAN)],
        ["--format", "yaml", str(CLEAN)],
    ],
)
def test_bad_usage_exits_2(args: list[str]) -> None:
    code, _, err = _run(*args)
    assert code == 2
    assert "Error:" in err


def test_lint_is_registered_in_the_policy_group() -> None:
    result = CliRunner().invoke(cli, ["policy", "--help"])
    assert result.exit_code == 0
    assert "lint" in result.stdout


def test_colour_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(policy_lint, "stdout_is_tty", lambda: True)
    code, out, _ = _run(str(REPOSITORY))
    assert code == 1
    assert "\x1b[" in out
    assert "INVALID_ACCOUNT_ID" in out


def test_plain_when_not_a_terminal() -> None:
    _, out, _ = _run(str(REPOSITORY))
    assert "\x1b[" not in out
    assert policy_lint.stdout_is_tty() in (True, False)


def _subprocess(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crossdock", "policy", "lint", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def test_subprocess_walkthrough_fixtures() -> None:
    done = _subprocess("--format", "json", str(REPOSITORY), str(IDENTITY))
    assert done.returncode == 1
    findings = json.loads(done.stdout)
    assert [(Path(f["file"]).name, f["code"]) for f in findings] == [
        ("walkthrough-repository-policy.json", "INVALID_ACCOUNT_ID"),
        ("walkthrough-identity-policy.json", "INVALID_ACCOUNT_ID"),
    ]
    assert "\x1b[" not in _subprocess(str(REPOSITORY)).stdout


def test_subprocess_exit_codes(tmp_path: Path) -> None:
    assert _subprocess(str(CLEAN)).returncode == 0
    missing = _subprocess(str(tmp_path / "nope.json"))
    assert missing.returncode == 2
    assert missing.stdout == ""
    assert missing.stderr.count("\n") == 1
    assert "Traceback" not in missing.stderr
