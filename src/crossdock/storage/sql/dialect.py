"""Everything that differs between SQLite and PostgreSQL, in one place.

The stores are written in SQLAlchemy Core, which is portable; what is not portable is here:

* database URLs (``sqlite:///...``, ``postgresql://`` normalised to the psycopg 3 driver);
* connection setup (SQLite: WAL, foreign keys, busy timeout; PostgreSQL: a connect timeout);
* the lock a read-then-write transaction takes first (:func:`begin_exclusive`): SQLite's
  ``BEGIN IMMEDIATE``, a transaction-scoped advisory lock on PostgreSQL;
* the lock around schema migrations (:func:`migration_lock`), so several processes or
  nodes starting at once migrate one after the other;
* ordering: :func:`ordered_string` columns compare byte by byte (code point order) on both,
  whatever the PostgreSQL database's default collation is;
* free text: :func:`free_text` columns take any length on both (SQLite ignores lengths);
* which driver errors mean "the database cannot be reached right now" (:func:`is_unavailable`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, String, Text, text
from sqlalchemy.engine import make_url
from sqlalchemy.types import TypeEngine

from crossdock.storage.errors import StorageError

POSTGRESQL_DRIVER = "postgresql+psycopg"
_POSTGRESQL_SCHEMES = ("postgresql", "postgres", POSTGRESQL_DRIVER)
CONNECT_TIMEOUT_SECONDS = 5
"""How long a PostgreSQL connection attempt may take before the request fails (503)."""

IDENTITY_LOCK_KEY = 0x63726F7364_01
"""The advisory lock that serializes identity writes on PostgreSQL (``crosd`` + 1)."""
MIGRATION_LOCK_KEY = 0x63726F7364_02
"""The advisory lock held while one node migrates the schema (``crosd`` + 2)."""


class DatabaseUrlError(StorageError, ValueError):
    """A ``--database-url`` crossdock cannot use."""


def normalise_database_url(url: str) -> str:
    """``url`` with PostgreSQL URLs pointed at the psycopg 3 driver.

    Accepts ``sqlite:///path``, ``postgresql://...``, ``postgres://...`` and
    ``postgresql+psycopg://...``; raises DatabaseUrlError for anything else (another
    PostgreSQL driver, another database).
    """
    scheme, separator, rest = url.partition("://")
    if not separator:
        raise DatabaseUrlError(f"`{url}` is not a database URL (sqlite:///... or postgresql://...)")
    if scheme in _POSTGRESQL_SCHEMES:
        return f"{POSTGRESQL_DRIVER}://{rest}"
    if scheme == "sqlite":
        return url
    raise DatabaseUrlError(
        f"unsupported database URL scheme `{scheme}://`: use sqlite:/// or postgresql://"
    )


def display_url(url: str) -> str:
    """``url`` with its password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def connect_args(url: str) -> dict[str, Any]:
    """The DBAPI ``connect()`` arguments crossdock adds for ``url``'s database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return {"check_same_thread": False}
    if "connect_timeout" in parsed.query:
        return {}  # the URL's own value wins
    return {"connect_timeout": CONNECT_TIMEOUT_SECONDS}


def sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """The ``connect`` hook of SQLite engines: WAL, foreign keys, a busy timeout."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def is_sqlite(engine: Engine | Connection) -> bool:
    """Whether ``engine`` talks to SQLite."""
    return engine.dialect.name == "sqlite"


def begin_exclusive(conn: Connection, key: int = IDENTITY_LOCK_KEY) -> None:
    """Start ``conn``'s transaction holding the writer lock for ``key``'s data.

    SQLite has one writer lock per database: ``BEGIN IMMEDIATE`` takes it up front, so a
    read-then-write transaction cannot fail to upgrade. PostgreSQL locks rows, not
    databases; a transaction-scoped advisory lock on ``key`` makes the writers of that
    data (on every node) run one at a time, which the quota and conflict checks rely on.
    """
    if is_sqlite(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


@contextmanager
def migration_lock(conn: Connection) -> Iterator[None]:
    """Hold the migration lock on ``conn``'s database until its transaction ends.

    The first statement of the migration transaction: SQLite's write lock, or a
    transaction-scoped advisory lock on PostgreSQL (other tables stay usable meanwhile).
    """
    begin_exclusive(conn, MIGRATION_LOCK_KEY)
    yield


def ordered_string(length: int) -> TypeEngine[str]:
    """``VARCHAR(length)`` that compares and sorts by code point on every database.

    SQLite compares strings with ``memcmp``; a PostgreSQL database compares them with its
    default collation (often a natural-language one: ``a-b`` sorts after ``a_c``). Columns
    used for ordering, paging and uniqueness use the ``C`` collation on PostgreSQL, so both
    databases page through the same names in the same order.
    """
    return String(length).with_variant(String(length, collation="C"), "postgresql")


def free_text(length: int) -> TypeEngine[str]:
    """``VARCHAR(length)`` on SQLite (which never enforces the length), ``TEXT`` on PostgreSQL.

    For values taken from clients' content without a length check (media types in
    manifests): a long one is stored on both databases alike instead of failing on one.
    """
    return String(length).with_variant(Text(), "postgresql")


def is_unavailable(engine: Engine | Connection, error: BaseException) -> bool:
    """Whether the DBAPI ``error`` means the database cannot serve now (retry later).

    PostgreSQL: any ``OperationalError`` (no connection, the server shutting down, too many
    connections, a deadlock or serialization failure). SQLite: the database stayed locked
    past the busy timeout.
    """
    dbapi = engine.dialect.loaded_dbapi
    if not isinstance(error, dbapi.OperationalError):
        return False
    if is_sqlite(engine):
        return "locked" in str(error) or "busy" in str(error)
    return True
