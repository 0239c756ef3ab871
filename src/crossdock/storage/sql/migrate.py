"""Bring a database to the newest schema with Alembic (the only way DDL reaches a database)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from crossdock.storage.sql.dialect import migration_lock

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    """An Alembic configuration pointing at the packaged migrations (no alembic.ini)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Apply every migration up to ``revision`` in one transaction (idempotent).

    The transaction first takes the migration lock, so processes (or nodes) that start
    together migrate one at a time: the first applies the migrations, the others then
    find the database at ``revision`` and change nothing. Returns the revisions before
    and after, as read under the lock.
    """
    from alembic.runtime.migration import MigrationContext

    config = alembic_config()
    with engine.begin() as connection, migration_lock(connection):
        before = MigrationContext.configure(connection).get_current_revision()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        after = MigrationContext.configure(connection).get_current_revision()
    return before, after


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision the packaged migrations define."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
