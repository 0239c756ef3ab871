"""The Alembic migrations on every backend: the schema they build, upgrades in place, races."""

from __future__ import annotations

import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, select

from crossdock.storage.sql import identity_tables, registry_tables
from crossdock.storage.sql.engine import create_sql_engine
from crossdock.storage.sql.migrate import current_revision, head_revision, upgrade
from crossdock.storage.sql.schema import metadata

FIRST_RELEASE = "0001"


def test_migrations_build_the_declared_schema(empty_database: str) -> None:
    assert identity_tables.accounts is not None
    assert registry_tables.repositories is not None
    engine = create_sql_engine(empty_database)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
        assert differences == []
    finally:
        engine.dispose()


def test_a_first_release_database_is_upgraded_in_place(empty_database: str) -> None:
    engine = create_sql_engine(empty_database)
    try:
        upgrade(engine, FIRST_RELEASE)
        with engine.begin() as connection:
            connection.execute(
                insert(registry_tables.repositories).values(
                    id=7,
                    account_id="111111111111",
                    region="us-east-1",
                    name="kept",
                    created_at=1.5,
                    tag_mutability="MUTABLE",
                    mutability_filters="[]",
                    scan_on_push=False,
                    encryption_type="AES256",
                    tags="[]",
                )
            )
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as connection:
            row = connection.execute(select(registry_tables.repositories)).one()
        assert (row.id, row.name, row.created_at) == (7, "kept", 1.5)
    finally:
        engine.dispose()


def test_nodes_starting_together_migrate_once(empty_database: str) -> None:
    """``crossdock db upgrade`` in several processes at once: all succeed, one migrates.

    (Processes, not threads: Alembic keeps its migration context in module globals.)
    """
    command = [sys.executable, "-m", "crossdock", "db", "upgrade", "--database-url"]
    runs = [
        subprocess.Popen([*command, empty_database], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0] * 4, outputs
    upgraded = [o for o in outputs if "upgraded from schema revision none" in o]
    assert len(upgraded) == 1, outputs
    assert all(o in upgraded or "nothing to do" in o for o in outputs), outputs
    engine = create_sql_engine(empty_database)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
