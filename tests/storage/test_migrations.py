"""The Alembic migrations are the schema: migrating an empty database gives the tables."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from crossdock.storage.sql import identity_tables, registry_tables
from crossdock.storage.sql.engine import create_sql_engine
from crossdock.storage.sql.migrate import current_revision, head_revision, upgrade
from crossdock.storage.sql.schema import metadata


def test_migrations_match_the_table_definitions(tmp_path: Path) -> None:
    assert identity_tables.accounts is not None
    assert registry_tables.repositories is not None
    engine = create_sql_engine(f"sqlite:///{tmp_path / 'm.db'}")
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_upgrade_is_idempotent(tmp_path: Path) -> None:
    engine = create_sql_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
