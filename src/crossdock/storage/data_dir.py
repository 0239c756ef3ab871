"""The data dir: ``crossdock.db`` (SQLite, WAL) and ``secret.key`` side by side.

``crossdock serve`` and ``crossdock account create`` both open the data dir with
:func:`open_data_dir`, whether or not the other is running on it: SQLite in WAL mode lets
one writer and many readers share the file, and the key file is created atomically.
"""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from crossdock.storage.secrets import KEY_FILE_NAME, SecretBox
from crossdock.storage.sql.engine import create_sql_engine
from crossdock.storage.sql.migrate import upgrade

DATABASE_FILE_NAME = "crossdock.db"


def database_url(data_dir: Path) -> str:
    """The SQLAlchemy URL of the metadata database inside ``data_dir``."""
    return f"sqlite:///{data_dir / DATABASE_FILE_NAME}"


def open_data_dir(data_dir: Path, key_file: Path | None = None) -> tuple[Engine, SecretBox]:
    """Open (creating when missing) the data dir: its engine and its secret box.

    The schema is created when missing (``metadata.create_all``: every table module
    imported so far). ``key_file`` defaults to ``<data_dir>/secret.key``.
    """
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    box = SecretBox.from_key_file(key_file or data_dir / KEY_FILE_NAME)
    engine = create_sql_engine(database_url(data_dir))
    _create_schema(engine)
    return engine, box


def _create_schema(engine: Engine) -> None:
    # Two processes opening a fresh data dir may race on the first migration: retry.
    for attempt in range(3):
        try:
            upgrade(engine)
            return
        except OperationalError:
            if attempt == 2:
                raise
            time.sleep(0.05 * (attempt + 1))
