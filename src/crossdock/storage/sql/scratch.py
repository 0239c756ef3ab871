"""Throwaway PostgreSQL databases for tests and benchmarks.

:func:`scratch_database` creates a uniquely named database on the server of a given URL
(optionally as a copy of a template database), yields its URL and drops it afterwards, so
each test gets a database of its own on one shared server. The URL's user needs the
``CREATEDB`` privilege.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from crossdock.storage.sql.dialect import normalise_database_url

MAINTENANCE_DATABASE = "postgres"


def _admin_engine(url: str) -> Engine:
    """An autocommit engine on the server's maintenance database (CREATE/DROP DATABASE)."""
    admin = make_url(normalise_database_url(url)).set(database=MAINTENANCE_DATABASE)
    return create_engine(admin, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def database_url(url: str, name: str) -> str:
    """``url`` pointed at the database ``name`` on the same server (password kept)."""
    parsed = make_url(normalise_database_url(url)).set(database=name)
    return parsed.render_as_string(hide_password=False)


def create_database(url: str, name: str, template: str | None = None) -> str:
    """Create the database ``name`` (a copy of ``template`` if given); its URL."""
    engine = _admin_engine(url)
    try:
        with engine.connect() as conn:
            quoted = conn.dialect.identifier_preparer.quote(name)
            statement = f"CREATE DATABASE {quoted}"
            if template is not None:
                statement += f" TEMPLATE {conn.dialect.identifier_preparer.quote(template)}"
            conn.exec_driver_sql(statement)
    finally:
        engine.dispose()
    return database_url(url, name)


def drop_database(url: str, name: str) -> None:
    """Drop the database ``name``, disconnecting whoever is still connected to it."""
    engine = _admin_engine(url)
    try:
        with engine.connect() as conn:
            quoted = conn.dialect.identifier_preparer.quote(name)
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
    finally:
        engine.dispose()


def unique_name(prefix: str = "crossdock_scratch") -> str:
    """A database name nobody else uses: ``<prefix>_<16 hex digits>``."""
    return f"{prefix}_{secrets.token_hex(8)}"


@contextmanager
def scratch_database(
    url: str, template: str | None = None, prefix: str = "crossdock_scratch"
) -> Iterator[str]:
    """A new database on ``url``'s server for the ``with`` block; yields its URL."""
    name = unique_name(prefix)
    created = create_database(url, name, template)
    try:
        yield created
    finally:
        drop_database(url, name)
