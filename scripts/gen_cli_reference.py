"""Write docs/cli.md: the ``--help`` of every crossdock command, as console blocks.

tests/test_docs.py runs every console block in docs/ and compares the output, so the
reference cannot drift from the code: after changing a command, run
``python scripts/gen_cli_reference.py`` and commit the result.
"""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from crossdock.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
HEADER = """# CLI reference

Every `crossdock` command and its options, as `--help` prints them. This page is generated
by `scripts/gen_cli_reference.py`, and `tests/test_docs.py` runs each block below and
compares the output, so it always matches the installed version. The guides explain the
commands in context: [policy](policy.md), [scenarios](scenarios.md),
[sharing tools](sharing-tools.md), [fsck](fsck.md), [trail](trail.md).

The other console script, `docker-credential-crossdock`, is described in
[sharing-tools.md](sharing-tools.md#docker-credential-crossdock).
"""


def _commands(group: click.Group, prefix: tuple[str, ...]) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name in sorted(group.commands):
        command = group.commands[name]
        if getattr(command, "hidden", False):
            continue
        path = (*prefix, name)
        found.append(path)
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
    return found


def render() -> str:
    """The whole page."""
    runner = CliRunner()
    parts = [HEADER]
    for path in [(), *_commands(cli, ())]:
        args = [*path, "--help"]
        result = runner.invoke(cli, args, prog_name="crossdock")
        if result.exit_code != 0:
            raise SystemExit(f"crossdock {' '.join(args)} failed: {result.output}")
        title = "crossdock " + " ".join(path) if path else "crossdock"
        block = f"```console\n$ crossdock {' '.join(args)}\n{result.output.rstrip()}\n```\n"
        parts.append(f"## `{title}`\n\n{block}")
    return "\n".join(parts)


def main() -> None:
    """Write docs/cli.md."""
    (ROOT / "docs" / "cli.md").write_text(render(), encoding="utf-8")


if __name__ == "__main__":
    main()
