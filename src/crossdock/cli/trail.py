"""``crossdock trail``: query the decision trail a server writes in its data dir.

The text form is a table (time, principal, action, repository, decision, error); the JSON
form prints the recorded lines as they are. ``--follow`` keeps printing new events.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NoReturn

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from crossdock.cli.options import format_option
from crossdock.service.trail import TrailEvent, TrailReader
from crossdock.settings import default_data_dir
from crossdock.storage.trail_files import trail_dir

USAGE_ERROR = 2
_RELATIVE = re.compile(r"([0-9]+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DECISION_STYLES = {"Allowed": "green", "ImplicitDeny": "yellow", "ExplicitDeny": "bold red"}


def parse_since(text: str, now: datetime) -> datetime:
    """``30m``, ``1h``, ``2d`` (s, m, h, d, w) before ``now``, or an ISO-8601 time (UTC if
    it names no zone). Raises ValueError with the reason."""
    relative = _RELATIVE.fullmatch(text.strip())
    if relative is not None:
        amount, unit = int(relative.group(1)), relative.group(2)
        return now - timedelta(**{_UNITS[unit]: amount})
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"`{text}` is neither a duration (30m, 1h, 2d) nor an ISO-8601 time"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(USAGE_ERROR)


def _reason(event: TrailEvent) -> str:
    """The denial's reason: AWS's text after ``on resource: <arn>``."""
    message = event.error_message
    if message is None:
        return ""
    _, found, rest = message.partition(f" on resource: {event.resource} ")
    return rest if found else message


def _where(event: TrailEvent) -> str:
    parameters = event.record.get("requestParameters") or {}
    name = event.repository
    if name is not None:
        return f"{parameters.get('registryId', '?')}/{name}"
    return event.resource


def _row(event: TrailEvent) -> list[Text | str]:
    decision = event.decision
    return [
        str(event.record.get("eventTime", "")),
        event.principal_arn,
        event.action,
        _where(event),
        Text(decision, style=_DECISION_STYLES.get(decision, "")),
        _reason(event),
    ]


def _table(events: list[TrailEvent]) -> Table:
    table = Table("time", "principal", "action", "repository", "decision", "error")
    for event in events:
        table.add_row(*_row(event))
    return table


def _line(event: TrailEvent) -> Text:
    """One event as one line (the text form of --follow)."""
    line = Text()
    for cell in _row(event):
        if line:
            line.append("  ")
        line.append(cell if isinstance(cell, Text) else Text(cell))
    return line


def _console() -> Console:
    # Off a terminal, a wide fixed width: rows stay whole in files and in the docs.
    return Console(highlight=False, width=None if sys.stdout.isatty() else 400)


@click.command()
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="The server's data dir [default: $XDG_DATA_HOME/crossdock].",
)
@click.option("--denied", is_flag=True, help="Only denied requests.")
@click.option(
    "--principal",
    metavar="ARN",
    default=None,
    help="Only this caller (a role ARN also matches every session of the role).",
)
@click.option(
    "--repository",
    metavar="NAME",
    default=None,
    help="Only requests on this repository (a name or a repository ARN).",
)
@click.option(
    "--since",
    metavar="1h|30m|2d|ISO",
    default=None,
    help="Only events at or after this time (a duration before now, or ISO-8601).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="Only the newest N matching events.",
)
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events until interrupted.")
@format_option
def trail(
    data_dir: Path | None,
    denied: bool,
    principal: str | None,
    repository: str | None,
    since: str | None,
    limit: int | None,
    follow: bool,
    output_format: str,
) -> None:
    """Show the decision trail: every authorization decision, oldest first."""
    directory = data_dir or default_data_dir()
    if not directory.is_dir():
        _fail(f"the data dir `{directory}` does not exist; pass --data-dir DIR")
    try:
        start = None if since is None else parse_since(since, datetime.now(UTC))
    except ValueError as error:
        _fail(f"--since: {error}")
    reader = TrailReader(trail_dir(directory))
    if follow:
        found = reader.follow(
            denied=denied, principal=principal, repository=repository, since=start, backlog=limit
        )
        _follow(found, output_format)
        return
    events = reader.query(
        denied=denied, principal=principal, repository=repository, since=start, limit=limit
    )
    if output_format == "json":
        for event in events:
            click.echo(json.dumps(event.record, separators=(",", ":")))
        return
    console = _console()
    if not events:
        console.print("no matching decisions in the trail")
        return
    console.print(_table(events))


def _follow(events: Iterator[TrailEvent], output_format: str) -> None:
    console = _console()
    try:
        for event in events:
            if output_format == "json":
                click.echo(json.dumps(event.record, separators=(",", ":")))
            else:
                console.print(_line(event))
            sys.stdout.flush()
    except KeyboardInterrupt:
        pass
