"""``crossdock db upgrade``: bring the metadata database to this version's schema.

``crossdock serve`` migrates at start too (on PostgreSQL under an advisory lock, so nodes
starting together take turns); ``db upgrade`` does it ahead of a rollout, from one place.
The database is ``--database-url`` (or ``$CROSSDOCK_DATABASE_URL``), else the data dir's
SQLite file. Exit codes: 0 done, 1 the database failed, 2 a usage error.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from crossdock.settings import default_data_dir

F = TypeVar("F", bound=Callable[..., object])

DATABASE_URL_ENV = "CROSSDOCK_DATABASE_URL"


def database_url_option(function: F) -> F:
    """The ``--database-url`` option shared by ``serve``, ``db upgrade`` and ``account``."""
    option = click.option(
        "--database-url",
        envvar=DATABASE_URL_ENV,
        show_envvar=True,
        default=None,
        metavar="URL",
        help=(
            "The metadata database: postgresql://USER@HOST:PORT/DB (psycopg 3; the password "
            "from the URL, PGPASSWORD or ~/.pgpass) or sqlite:///PATH "
            "[default: crossdock.db in the data dir]."
        ),
    )
    return option(function)


@click.group()
def db() -> None:
    """The metadata database (SQLite or PostgreSQL)."""


@db.command("upgrade")
@database_url_option
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Whose SQLite database to upgrade when no --database-url is given "
    "[default: $XDG_DATA_HOME/crossdock].",
)
def upgrade(database_url: str | None, data_dir: Path | None) -> None:
    """Apply every pending schema migration (Alembic); a no-op when there is none."""
    from sqlalchemy.exc import DBAPIError

    from crossdock.storage.data_dir import database_url as sqlite_url
    from crossdock.storage.data_dir import upgrade_database
    from crossdock.storage.errors import StorageUnavailableError
    from crossdock.storage.sql.dialect import DatabaseUrlError, display_url

    if database_url is None:
        directory = data_dir or default_data_dir()
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        database_url = sqlite_url(directory)
    try:
        shown = display_url(database_url)
        before, after = upgrade_database(database_url)
    except (DatabaseUrlError, ValueError) as error:
        raise click.UsageError(str(error)) from None
    except StorageUnavailableError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    except DBAPIError as error:
        click.echo(f"error: the migration failed: {error.orig}", err=True)
        sys.exit(1)
    if before == after:
        click.echo(f"{shown}: at schema revision {after}; nothing to do")
    else:
        click.echo(f"{shown}: upgraded from schema revision {before or 'none'} to {after}")
