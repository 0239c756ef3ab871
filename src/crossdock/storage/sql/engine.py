"""Engines for the metadata database (SQLite or PostgreSQL; the differences: ``dialect.py``).

Every engine turns the driver errors that mean "the database cannot be reached" into
:class:`~crossdock.storage.errors.StorageUnavailableError`, which the API answers with
503 and ``Retry-After``. PostgreSQL engines check a pooled connection before using it
(``pool_pre_ping``), so once the server is back the next request reconnects by itself.

After a failed connection attempt, new attempts fail at once for
:data:`CONNECT_HOLD_SECONDS`: a database that does not answer (a partition: each attempt
waits out the connect timeout) holds up one request per window, not every request.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext

from crossdock.storage.errors import StorageUnavailableError
from crossdock.storage.sql.dialect import (
    connect_args,
    is_unavailable,
    normalise_database_url,
    sqlite_pragmas,
)

DATABASE = "database"
"""The ``service`` of the StorageUnavailableError raised for the metadata database."""
RETRY_AFTER_SECONDS = 1
CONNECT_HOLD_SECONDS = 1.0
"""How long new connection attempts fail fast after one failed."""
POOL_SIZE = 10
POOL_OVERFLOW = 20
"""PostgreSQL connections per process: the server's worker threads share them."""


def create_sql_engine(url: str) -> Engine:
    """An engine for ``url`` (``sqlite:///path``, ``postgresql://`` or ``postgresql+psycopg://``).

    Raises DatabaseUrlError for a URL of another kind. Nothing connects yet.
    """
    url = normalise_database_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args=connect_args(url))
        event.listen(engine, "connect", sqlite_pragmas)
    else:
        engine = create_engine(
            url,
            connect_args=connect_args(url),
            pool_pre_ping=True,
            pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
        )
        event.listen(engine, "do_connect", _ConnectHold(CONNECT_HOLD_SECONDS))
    event.listen(engine, "handle_error", _unavailable_hook(engine))
    return engine


def unavailable_error(error: BaseException) -> StorageUnavailableError:
    """The StorageUnavailableError for a driver error that :func:`is_unavailable` accepted."""
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return StorageUnavailableError(DATABASE, reason, RETRY_AFTER_SECONDS)


@contextmanager
def raw_errors(engine: Engine) -> Iterator[None]:
    """Around work on a raw DBAPI connection: unavailability errors as for Core statements.

    ``Engine.raw_connection()`` and DBAPI cursors bypass the ``handle_error`` hook.
    """
    try:
        yield
    except StorageUnavailableError:
        raise
    except Exception as error:
        if is_unavailable(engine, error):
            raise unavailable_error(error) from error
        raise


class _ConnectHold:
    """The ``do_connect`` hook: connect, and after a failure refuse at once for a while."""

    def __init__(self, hold: float) -> None:
        self._hold = hold
        self._until = 0.0
        self._reason = ""

    def __call__(self, dialect: Any, record: Any, cargs: Any, cparams: Any) -> Any:
        if time.monotonic() < self._until:
            raise StorageUnavailableError(DATABASE, self._reason, RETRY_AFTER_SECONDS)
        try:
            return dialect.connect(*cargs, **cparams)
        except dialect.loaded_dbapi.OperationalError as error:
            self._reason = unavailable_error(error).reason
            self._until = time.monotonic() + self._hold
            raise


def _unavailable_hook(engine: Engine) -> Callable[[ExceptionContext], None]:
    def handle_error(context: ExceptionContext) -> None:
        if context.is_pre_ping:
            return  # a stale pooled connection: the pool reconnects on its own
        original = context.original_exception
        if is_unavailable(engine, original):
            raise unavailable_error(original) from context.sqlalchemy_exception

    return handle_error
