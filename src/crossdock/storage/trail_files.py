"""The decision trail's files: ``<data-dir>/trail/<YYYY-MM-DD>.jsonl``, one per UTC day.

Only the server's trail writer appends (whole lines, in batches); readers take complete
lines only, so a line being written is read on the next pass. Old days are deleted whole.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import IO

TRAIL_DIR_NAME = "trail"
"""The trail's directory inside the data dir."""

_DAY_FILE = re.compile(r"(\d{4}-\d{2}-\d{2})\.jsonl")


def trail_dir(data_dir: Path) -> Path:
    """``<data_dir>/trail``."""
    return data_dir / TRAIL_DIR_NAME


def day_file(directory: Path, day: date) -> Path:
    """The file that holds the events of ``day`` (UTC)."""
    return directory / f"{day.isoformat()}.jsonl"


def day_files(directory: Path) -> list[tuple[date, Path]]:
    """Every day file in ``directory``, oldest first (none when it does not exist)."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    found = []
    for name in names:
        match = _DAY_FILE.fullmatch(name)
        if match is None:
            continue
        try:
            day = date.fromisoformat(match.group(1))
        except ValueError:
            continue
        found.append((day, directory / name))
    return sorted(found)


def delete_days_before(directory: Path, first_kept: date) -> list[Path]:
    """Delete the day files older than ``first_kept``; return what was deleted."""
    deleted = []
    for day, path in day_files(directory):
        if day < first_kept:
            path.unlink(missing_ok=True)
            deleted.append(path)
    return deleted


def open_day_file(directory: Path, day: date) -> IO[str]:
    """``day``'s file opened for appending (owner-only, like the rest of the data dir)."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(day_file(directory, day), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    return os.fdopen(fd, "a", encoding="utf-8")


def read_complete_lines(path: Path, offset: int = 0) -> tuple[list[str], int]:
    """The complete lines of ``path`` from byte ``offset``, and the offset after them.

    A last line without its newline is still being written: it is left for the next read.
    A missing file reads as empty.
    """
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            data = handle.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1
    if end == 0:
        return [], offset
    text = data[:end].decode("utf-8", errors="replace")
    return text.splitlines(), offset + end


def iter_lines(path: Path) -> Iterator[str]:
    """The complete lines of ``path``, oldest first, streamed (a missing file has none)."""
    try:
        handle = path.open("r", encoding="utf-8", errors="replace", newline="\n")
    except FileNotFoundError:
        return
    with handle:
        for line in handle:
            if line.endswith("\n"):
                yield line[:-1]


def iter_lines_reversed(path: Path, block: int = 1 << 16) -> Iterator[str]:
    """The complete lines of ``path``, newest first, read backwards in blocks."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return
    with handle:
        end = handle.seek(0, os.SEEK_END)
        tail = b""
        complete = False  # a last line without its newline is still being written
        while end > 0:
            start = max(0, end - block)
            handle.seek(start)
            data = handle.read(end - start) + tail
            end = start
            if not complete:
                cut = data.rfind(b"\n")
                if cut < 0:
                    tail = b""
                    continue
                data, complete = data[: cut + 1], True
            lines = data.split(b"\n")
            tail = lines[0] if start > 0 else b""
            body = lines[1:] if start > 0 else lines
            for raw in reversed(body):
                if raw:
                    yield raw.decode("utf-8", errors="replace")
