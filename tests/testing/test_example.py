"""The shipped example (examples/testing/test_my_sharing.py) passes, and a wrong
expectation in it fails with the ``crossdock explain`` output in the message."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "testing"
DOC = ROOT / "docs" / "testing-your-setup.md"


def _doc_block(language: str, after: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(rf"```{language}\n(.*?)```", text[text.index(after) :], re.DOTALL)
    assert found is not None, f"no {language} block after {after!r}"
    return found.group(1)


def test_the_docs_show_the_example_files_verbatim() -> None:
    scenario = (EXAMPLE / "sharing.yaml").read_text(encoding="utf-8")
    example = (EXAMPLE / "test_my_sharing.py").read_text(encoding="utf-8")
    assert _doc_block("yaml", "## A complete example") == scenario
    assert _doc_block("python", "checks it") == example


def _pytest(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run pytest on ``directory`` as a user would (the plugin comes from the entry point)."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_the_example_passes() -> None:
    done = _pytest(EXAMPLE, "test_my_sharing.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed" in done.stdout


def test_a_wrong_expectation_fails_with_the_explanation(tmp_path: Path) -> None:
    copy = tmp_path / "example"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    test_file = copy / "test_my_sharing.py"
    source = test_file.read_text(encoding="utf-8")
    wrong = source.replace('BOB: "none",', 'BOB: "pull",')
    assert wrong != source
    test_file.write_text(wrong, encoding="utf-8")
    done = _pytest(copy, "test_my_sharing.py", "-k", "who_can_do_what")
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "1 failed" in out
    assert "AssertionError: 1 of 8 access checks differ from the expected table" in out
    assert (
        "111111111111/app / arn:aws:iam::222222222222:user/bob / pull: expected allowed, "
        "but crossdock explains: ImplicitlyDenied"
    ) in out
    # the explain output: the principal, every action, the AWS error and the proved fix
    assert "principal: arn:aws:iam::222222222222:user/bob (user bob)" in out
    assert (
        "ecr:BatchGetImage on arn:aws:ecr:us-east-1:111111111111:repository/app: "
        "ImplicitlyDenied (no identity-based policy allows the action)"
    ) in out
    assert (
        "AWS error: AccessDeniedException: User: arn:aws:iam::222222222222:user/bob is not "
        "authorized to perform: ecr:GetAuthorizationToken on resource: * because no "
        "identity-based policy allows the ecr:GetAuthorizationToken action"
    ) in out
    assert "smallest fix (every action is Allowed with it):" in out
    # the docs show this very message
    message = [line[8:].rstrip() for line in out.splitlines() if line.startswith("E       ")]
    shown = _doc_block("text", "## What a failure looks like").rstrip("\n").splitlines()
    assert message == shown
