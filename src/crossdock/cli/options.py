"""Options that several commands share, so each is spelled (and documented) once."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click
from sqlalchemy import Engine

from crossdock.settings import default_data_dir
from crossdock.storage.data_dir import open_existing_data_dir
from crossdock.storage.errors import DataDirError

F = TypeVar("F", bound=Callable[..., object])

USAGE_ERROR = 2
"""The exit status of a usage error (click's own)."""


def format_option(function: F) -> F:
    """``--format text|json`` (default text), passed to the command as ``output_format``."""
    option = click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
    )
    return option(function)


def open_database_or_exit(data_dir: Path | None, database_url: str | None) -> tuple[Path, Engine]:
    """The data dir (default: the server's) and its database at this version's schema.

    A missing data dir, a database at another revision or an unreachable one is one
    ``error:`` line and exit status 2 (the offline commands: fsck, gc, lifecycle run).
    """
    directory = data_dir or default_data_dir()
    try:
        return directory, open_existing_data_dir(directory, database_url)
    except DataDirError as error:
        click.echo(f"error: {error}; pass --data-dir DIR", err=True)
        sys.exit(USAGE_ERROR)
