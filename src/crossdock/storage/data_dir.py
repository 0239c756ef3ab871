"""The data dir: ``crossdock.db`` (SQLite, WAL) and ``secret.key`` side by side.

``crossdock serve`` and ``crossdock account create`` both open the data dir with
:func:`open_data_dir`, whether or not the other is running on it: SQLite in WAL mode lets
one writer and many readers share the file, and the key file is created atomically.

With ``--database-url postgresql://...`` the metadata lives in PostgreSQL instead, and the
data dir keeps the key file (every node sharing the database needs the same one).
"""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import DatabaseError, OperationalError

from crossdock.storage.errors import DataDirError, StorageUnavailableError
from crossdock.storage.secrets import KEY_FILE_NAME, SecretBox
from crossdock.storage.sql.dialect import display_url
from crossdock.storage.sql.engine import create_sql_engine
from crossdock.storage.sql.migrate import current_revision, head_revision, upgrade

DATABASE_FILE_NAME = "crossdock.db"
BLOB_DIR_NAME = "blobs"
"""The blob store's directory inside the data dir (``storage/blobs_fs.py``)."""
QUARANTINE_DIR_NAME = "quarantine"
"""Where ``crossdock fsck --repair`` moves damaged and unknown files."""


def database_url(data_dir: Path) -> str:
    """The SQLAlchemy URL of the metadata database inside ``data_dir``."""
    return f"sqlite:///{data_dir / DATABASE_FILE_NAME}"


def open_data_dir(
    data_dir: Path, key_file: Path | None = None, url: str | None = None
) -> tuple[Engine, SecretBox]:
    """Open (creating when missing) the data dir: its engine and its secret box.

    The database is ``url`` (SQLite or PostgreSQL) or else the data dir's SQLite file; it
    is brought to the newest schema (Alembic, under a lock on PostgreSQL).
    ``key_file`` defaults to ``<data_dir>/secret.key``.
    """
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    box = SecretBox.from_key_file(key_file or data_dir / KEY_FILE_NAME)
    engine = create_sql_engine(url or database_url(data_dir))
    try:
        _create_schema(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine, box


def upgrade_database(url: str) -> tuple[str | None, str | None]:
    """Bring the database at ``url`` to the newest schema; (revision before, after)."""
    engine = create_sql_engine(url)
    try:
        return _create_schema(engine)
    finally:
        engine.dispose()


def open_existing_data_dir(data_dir: Path, url: str | None = None) -> Engine:
    """The engine of an existing data dir, creating and migrating nothing (``fsck``).

    ``url`` names the database when it is not the data dir's SQLite file. Raises
    DataDirError when ``data_dir`` is missing, is not a directory, has no database, or
    holds a database at another schema revision than this version's.
    """
    if not data_dir.exists():
        raise DataDirError(f"the data dir `{data_dir}` does not exist")
    if not data_dir.is_dir():
        raise DataDirError(f"the data dir `{data_dir}` is not a directory")
    if url is None and not (data_dir / DATABASE_FILE_NAME).is_file():
        raise DataDirError(
            f"`{data_dir}` is not a crossdock data dir: it has no {DATABASE_FILE_NAME}"
        )
    where = f"`{display_url(url)}`" if url else f"`{data_dir / DATABASE_FILE_NAME}`"
    engine = create_sql_engine(url or database_url(data_dir))
    try:
        found, wanted = current_revision(engine), head_revision()
    except (DatabaseError, StorageUnavailableError) as error:
        engine.dispose()
        reason = error.orig if isinstance(error, DatabaseError) else error.reason
        raise DataDirError(f"cannot read {where}: {reason}") from None
    if found != wanted:
        engine.dispose()
        fix = "crossdock db upgrade" + (" --database-url URL" if url else f" --data-dir {data_dir}")
        raise DataDirError(
            f"the database {where} is at schema revision {found or 'none'}, not "
            f"{wanted}: run `{fix}` (or `crossdock serve` once) to migrate it"
        )
    return engine


def _create_schema(engine: Engine) -> tuple[str | None, str | None]:
    # Two processes opening a fresh data dir may race on the first migration: retry.
    for attempt in range(3):
        try:
            return upgrade(engine)
        except (OperationalError, StorageUnavailableError):
            if attempt == 2:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")
