"""``crossdock fsck``: verify every blob and every reference of a data dir; repair on request.

Exit status: 0 when nothing is wrong (or everything found was repaired), 1 when a problem
remains, 2 for a usage error (an unknown option, a directory that is not a data dir).
The checks and repairs are ``crossdock.service.fsck``; this module wires and renders.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from crossdock.cli.db import database_url_option
from crossdock.cli.options import format_option, open_database_or_exit
from crossdock.service.fsck import (
    DEFAULT_GRACE,
    DEFAULT_UPLOAD_EXPIRY,
    Finding,
    Fsck,
    FsckOptions,
    FsckReport,
)
from crossdock.storage.blobs_fs import FileBlobStore
from crossdock.storage.data_dir import BLOB_DIR_NAME, QUARANTINE_DIR_NAME
from crossdock.storage.sql.integrity_sql import SqlIntegrityStore


@click.command()
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="The data dir to check [default: $XDG_DATA_HOME/crossdock].",
)
@database_url_option
@click.option(
    "--blob-store",
    default=None,
    metavar="URL",
    help="The server's --blob-store (s3://...) [default: DATA_DIR/blobs].",
)
@click.option(
    "--repair",
    is_flag=True,
    help="Repair what can be repaired (docs/fsck.md); without it nothing is changed.",
)
@format_option
@click.option(
    "--grace",
    type=click.FloatRange(min=0),
    default=DEFAULT_GRACE,
    show_default=True,
    help="Seconds during which new files and upload sessions count as in flight.",
)
@click.option(
    "--upload-expiry",
    type=click.FloatRange(min=0),
    default=DEFAULT_UPLOAD_EXPIRY,
    show_default=True,
    help="Seconds after its last write that an upload session counts as abandoned.",
)
def fsck(
    data_dir: Path | None,
    database_url: str | None,
    blob_store: str | None,
    repair: bool,
    output_format: str,
    grace: float,
    upload_expiry: float,
) -> None:
    """Verify every blob's digest and every reference; exit 1 if a problem remains."""
    directory, engine = open_database_or_exit(data_dir, database_url)
    try:
        checker, where = _checker(directory, blob_store, SqlIntegrityStore(engine))
        options = FsckOptions(repair=repair, grace=grace, upload_expiry=upload_expiry)
        report = checker.run(options)
    finally:
        engine.dispose()
    if output_format == "json":
        click.echo(json.dumps(report.to_json(where), indent=2, ensure_ascii=False))
    else:
        _print_text(report)
    sys.exit(report.exit_code)


def _checker(directory: Path, blob_store: str | None, rows: SqlIntegrityStore) -> tuple[Fsck, str]:
    """The checker over the data dir's blob directory, or over ``--blob-store``'s bucket
    (keys below its prefix stand for paths; quarantine is its ``quarantine/``)."""
    if blob_store is None:
        files = FileBlobStore(directory / BLOB_DIR_NAME, create=False)
        return Fsck(files, rows, directory, directory / QUARANTINE_DIR_NAME), str(directory)
    from crossdock.storage.blobs_s3 import S3BlobStore
    from crossdock.storage.s3_blob_files import QUARANTINE, S3BlobFiles
    from crossdock.storage.s3_location import BlobStoreUrlError

    try:
        store = S3BlobStore.from_url(blob_store)
    except BlobStoreUrlError as error:
        raise click.BadParameter(str(error), param_hint="--blob-store") from None
    objects = S3BlobFiles(store)
    checker = Fsck(objects, rows, objects.root, objects.root / QUARANTINE)
    return checker, store.location.display()


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _finding_lines(finding: Finding, repair_run: bool) -> list[tuple[str, str]]:
    style = "green" if finding.repaired else "bold red"
    head = f"{finding.code.value} {finding.subject}"
    lines = [(head, style), (f"  {finding.message}", "")]
    if finding.path is not None and finding.path != finding.subject:
        lines.append((f"  file: {finding.path}", "dim"))
    lines.extend((f"  repository: {arn}", "dim") for arn in finding.repositories)
    if finding.repaired:
        moved = finding.detail.get("quarantined_to")
        done = f"  repaired: {finding.repair}" + (f" ({moved})" if moved else "")
        lines.append((done, "green"))
    elif finding.repair is None:
        lines.append(("  not repaired by fsck: reported only", "yellow"))
    elif repair_run:
        error = finding.detail.get("repair_error", "")
        lines.append((f"  repair failed: {error}", "bold red"))
    else:
        lines.append((f"  --repair would {finding.repair}", "cyan"))
    return lines


def _summary(report: FsckReport) -> str:
    checked = report.checked
    looked = (
        f"checked {_plural(checked.blob_files, 'blob file')} ({checked.blob_bytes} bytes), "
        f"{_plural(checked.blob_rows, 'blob row')}, {_plural(checked.images, 'image')}, "
        f"{_plural(checked.upload_sessions, 'upload session')}"
    )
    if checked.in_flight:
        looked += f" ({checked.in_flight} in flight, skipped)"
    if not report.findings:
        return f"{looked}: no problems"
    outcome = f"{_plural(len(report.findings), 'problem')}"
    if report.repair:
        outcome += f", {report.repaired} repaired, {report.remaining} remaining"
    return f"{looked}: {outcome}"


def _print_text(report: FsckReport) -> None:
    lines: list[tuple[str, str]] = []
    for finding in report.findings:
        lines.extend(_finding_lines(finding, report.repair))
    lines.append((_summary(report), "bold"))
    if not sys.stdout.isatty():
        for line, _ in lines:
            click.echo(line)
        return
    console = Console(highlight=False, soft_wrap=True, force_terminal=True)
    for line, style in lines:
        console.print(Text(line, style=style))
