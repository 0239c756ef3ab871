"""``crossdock gc``: online garbage collection of a data dir (docs/gc.md).

Safe while ``crossdock serve`` runs on the same data dir (or the same database and blob
store). Exit status: 0 when the run completed, 1 when some blob could not be deleted
(kept for the next run), 2 for a usage error. The collection is ``crossdock.service.gc``;
this module wires the stores and renders.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.text import Text

from crossdock.cli.db import database_url_option
from crossdock.cli.lifecycle import DURATION
from crossdock.cli.options import format_option, open_database_or_exit
from crossdock.service.gc import (
    Action,
    Decision,
    GarbageCollector,
    GcOptions,
    GcReport,
)
from crossdock.storage.blobs import BlobStore
from crossdock.storage.blobs_fs import FileBlobStore
from crossdock.storage.data_dir import BLOB_DIR_NAME
from crossdock.storage.sql.gc_sql import SqlGcStore

_STYLES = {Action.DELETE: "bold red", Action.KEEP: "green", Action.ADOPT: "yellow"}


def decision_line(decision: Decision) -> str:
    """One decision as a line of text: what happened to what, and why."""
    if decision.action is Action.KEEP:
        verb = "kept"
    elif decision.action is Action.ADOPT:
        verb = "adopted" if decision.applied else "would adopt"
    else:
        done = {"blob": "deleted", "link": "dropped", "upload": "expired"}[decision.kind.value]
        would = {"blob": "would delete", "link": "would drop", "upload": "would expire"}
        verb = done if decision.applied else would[decision.kind.value]
    size = f" ({decision.size} bytes)" if decision.size is not None else ""
    return f"{verb} {decision.kind.value} {decision.subject}{size}: {decision.reason}"


class _Bar:
    """A :class:`crossdock.service.gc.Progress` drawn with rich, one bar per phase."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def phase(self, name: str, total: int | None) -> None:
        self._finish()
        self._task = self._progress.add_task(name, total=total)

    def advance(self, steps: int = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, steps)

    def _finish(self) -> None:
        if self._task is not None:
            done = next(t.completed for t in self._progress.tasks if t.id == self._task)
            self._progress.update(self._task, total=done, completed=done)

    def close(self) -> None:
        self._finish()


def _open_blob_store(url: str | None, data_dir: Path) -> BlobStore:
    if url is None:
        return FileBlobStore(data_dir / BLOB_DIR_NAME, create=False)
    from crossdock.api.compose import open_blob_store

    return open_blob_store(url, data_dir)


@click.command()
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="The data dir to collect [default: $XDG_DATA_HOME/crossdock].",
)
@database_url_option
@click.option("--dry-run", is_flag=True, help="Report what would be deleted; change nothing.")
@click.option(
    "--grace",
    type=DURATION,
    default="1h",
    show_default=True,
    help="Keep unused blobs, links and uploads this long after their last use (90s, 30m, 1h).",
)
@click.option(
    "--blob-store",
    default=None,
    metavar="URL",
    help="The server's --blob-store (s3://...) [default: DATA_DIR/blobs].",
)
@format_option
def gc(
    data_dir: Path | None,
    database_url: str | None,
    dry_run: bool,
    grace: float,
    blob_store: str | None,
    output_format: str,
) -> None:
    """Delete unreferenced blobs and abandoned uploads; print why each blob is kept or goes."""
    directory, engine = open_database_or_exit(data_dir, database_url)
    try:
        collector = GarbageCollector(SqlGcStore(engine), _open_blob_store(blob_store, directory))
        report = _run(collector, GcOptions(grace=grace, dry_run=dry_run), output_format)
    finally:
        engine.dispose()
    if output_format == "json":
        click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    sys.exit(report.exit_code)


def _run(collector: GarbageCollector, options: GcOptions, output_format: str) -> GcReport:
    text = output_format == "text"
    interactive = (sys.stdout if text else sys.stderr).isatty()
    if not interactive:
        report = collector.run(options, _echo if text else None, keep_decisions=not text)
        if text:
            click.echo(_summary(report))
        return report
    console = Console(stderr=not text, highlight=False, soft_wrap=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        bar = _Bar(progress)

        def show(decision: Decision) -> None:
            if text:
                line = Text(decision_line(decision), style=_STYLES[decision.action])
                progress.console.print(line)

        report = collector.run(options, show, bar, keep_decisions=not text)
        bar.close()
    if text:
        console.print(Text(_summary(report), style="bold"))
    return report


def _echo(decision: Decision) -> None:
    click.echo(decision_line(decision))


def _summary(report: GcReport) -> str:
    line = f"gc: {report.summary()}"
    return line + (" (dry run: nothing was changed)" if report.dry_run else "")
