"""The docs cannot drift from the code: every ``console`` block is run and compared.

A block in README.md or docs/*.md written as::

    ```console
    $ crossdock ARGS...
    expected output
    ```

is run with those arguments from the repository root, and its output must match.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from crossdock.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```console\n\$ crossdock (?P<args>[^\n]*)\n(?P<output>.*?)```", re.DOTALL)


def _blocks() -> list[tuple[str, str, str]]:
    found = []
    for path in DOCS:
        for match in BLOCK.finditer(path.read_text(encoding="utf-8")):
            found.append((path.name, match["args"], match["output"]))
    return found


def _normalize(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def test_the_docs_show_commands() -> None:
    assert len(_blocks()) >= 3


@pytest.mark.parametrize(("doc", "args", "expected"), _blocks(), ids=lambda v: str(v)[:60])
def test_console_block_matches_real_output(
    doc: str, args: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(
        cli, shlex.split(args), prog_name="crossdock", catch_exceptions=False
    )
    assert _normalize(result.output) == _normalize(expected), f"{doc}: crossdock {args}"


def test_the_scenario_docs_show_the_example_file() -> None:
    import yaml

    from crossdock.service.scenario_model import load_scenario

    text = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
    example = (ROOT / "examples" / "cross-account-walkthrough.yaml").read_text(encoding="utf-8")
    assert example in blocks
    for block in blocks:
        assert load_scenario(yaml.safe_load(block)).accounts


def test_the_cli_reference_lists_every_command() -> None:
    """docs/cli.md is what scripts/gen_cli_reference.py writes today (regenerate it)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "gen_cli_reference", ROOT / "scripts" / "gen_cli_reference.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    current = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == module.render(), "run: python scripts/gen_cli_reference.py"
