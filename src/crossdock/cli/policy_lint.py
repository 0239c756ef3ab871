"""``crossdock policy lint``: check policy files offline, as AWS would, and more.

Exit status: 0 when no finding is an ERROR, 1 when one is, 2 for a usage error (an
unknown option, a missing or unreadable FILE).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import click
from rich.console import Console
from rich.text import Text

from crossdock.cli.options import format_option
from crossdock.policy.errors import PolicyParseError
from crossdock.policy.findings import Finding, PolicyKind, Severity
from crossdock.policy.lint import infer_policy_kind, lint_policy_text
from crossdock.policy.parse import load_policy_json

USAGE_ERROR = 2
_STYLES = {
    Severity.ERROR: "bold red",
    Severity.SECURITY_WARNING: "bold magenta",
    Severity.WARNING: "yellow",
    Severity.SUGGESTION: "cyan",
}
_NAMES = {
    Severity.ERROR: "error",
    Severity.SECURITY_WARNING: "security warning",
    Severity.WARNING: "warning",
    Severity.SUGGESTION: "suggestion",
}


@dataclass(frozen=True, slots=True)
class FileReport:
    """The findings of one file, and the policy type it was linted as."""

    name: str
    kind: PolicyKind
    inferred: bool
    findings: tuple[Finding, ...]


def read_policy_file(name: str) -> bytes:
    """The bytes of ``name`` (``-`` is standard input); exit 2 if it cannot be read."""
    if name == "-":
        return sys.stdin.buffer.read()
    try:
        with open(name, "rb") as handle:
            return handle.read()
    except OSError as error:
        reason = error.strerror or str(error)
        click.echo(f"error: cannot read `{name}`: {reason}", err=True)
        sys.exit(USAGE_ERROR)


def lint_file(name: str, data: bytes, kind: PolicyKind | None) -> FileReport:
    """Lint one file's bytes as ``kind``, or as the type its content suggests."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        message = f"the file is not UTF-8 text (byte {error.start}): save it as UTF-8"
        finding = Finding.of("INVALID_JSON", message, "")
        return FileReport(name, kind or PolicyKind.IDENTITY, kind is None, (finding,))
    chosen = kind if kind is not None else _infer(text)
    return FileReport(name, chosen, kind is None, tuple(lint_policy_text(text, chosen)))


def _infer(text: str) -> PolicyKind:
    try:
        return infer_policy_kind(load_policy_json(text))
    except PolicyParseError:
        return PolicyKind.IDENTITY


def stdout_is_tty() -> bool:
    """True when standard output is a terminal (then the text output is coloured)."""
    return sys.stdout.isatty()


def _summary(reports: Sequence[FileReport]) -> str:
    counts = Counter(f.severity for report in reports for f in report.findings)
    files = f"{len(reports)} file" + ("" if len(reports) == 1 else "s")
    total = sum(counts.values())
    if not total:
        return f"no findings in {files}"
    parts = [_plural(counts[severity], _NAMES[severity]) for severity in Severity]
    return f"{_plural(total, 'finding')} in {files}: " + ", ".join(parts)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _text_lines(reports: Sequence[FileReport]) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    for report in reports:
        if report.inferred:
            note = f"{report.name}: linted as {report.kind.a_label} (inferred; set it with --type)"
            lines.append((note, "dim"))
        for item in report.findings:
            where = f"{report.name}:{item.path or '/'}"
            line = f"{where} {item.severity.value} {item.code} {item.message}"
            lines.append((line, _STYLES[item.severity]))
    lines.append((_summary(reports), "bold"))
    return lines


def _print_text(reports: Sequence[FileReport]) -> None:
    lines = _text_lines(reports)
    if not stdout_is_tty():
        for line, _ in lines:
            click.echo(line)
        return
    console = Console(highlight=False, soft_wrap=True, force_terminal=True)
    for line, style in lines:
        console.print(Text(line, style=style))


def _print_json(reports: Sequence[FileReport]) -> None:
    documents = [
        {"file": report.name, **item.to_json()} for report in reports for item in report.findings
    ]
    click.echo(json.dumps(documents, indent=2, ensure_ascii=False))


@click.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option(
    "--type",
    "kind_name",
    type=click.Choice([kind.value for kind in PolicyKind]),
    help="The policy type; inferred from each file's content when omitted.",
)
@format_option
def lint(files: tuple[str, ...], kind_name: str | None, output_format: str) -> None:
    """Lint policy files; exit 1 if any finding is an ERROR (see docs/policy-lint.md)."""
    kind = PolicyKind(kind_name) if kind_name is not None else None
    contents = [(name, read_policy_file(name)) for name in files]
    reports = [lint_file(name, data, kind) for name, data in contents]
    if output_format == "json":
        _print_json(reports)
    else:
        _print_text(reports)
    if any(f.severity is Severity.ERROR for report in reports for f in report.findings):
        sys.exit(1)
