"""Migration 0002_lifecycle up and down, and the lifecycle scheduler thread.

The store itself is in tests/storage_conformance/test_lifecycle_store.py (every backend).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect

from crossdock.service.ecr.lifecycle_runner import LifecycleReport
from crossdock.service.ecr.lifecycle_schedule import LifecycleScheduler
from crossdock.storage.registry_store import RepositorySettings
from crossdock.storage.sql.engine import create_sql_engine
from crossdock.storage.sql.lifecycle_sql import SqlLifecycleStore
from crossdock.storage.sql.migrate import alembic_config, current_revision, head_revision, upgrade
from crossdock.storage.sql.repositories_sql import SqlRepositoryStore

POLICY = '{"rules": []}'


def _repository(engine: Engine, name: str = "app") -> int:
    store = SqlRepositoryStore(engine)
    return store.create_repository(
        "111111111111", "us-east-1", name, RepositorySettings(), (), 1.0
    ).id


def test_a_0001_database_is_upgraded_in_place_and_back(tmp_path: Path) -> None:
    engine = create_sql_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0001")
    repository = _repository(engine)
    assert "ecr_lifecycle_policies" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {"ecr_lifecycle_policies", "ecr_lifecycle_previews"} <= tables
    store = SqlLifecycleStore(engine)
    store.put_lifecycle_policy(repository, POLICY, 5.0)
    assert store.get_lifecycle_policy(repository) is not None
    # The repository made under 0001 is still there, and 0002 downgrades cleanly.
    assert SqlRepositoryStore(engine).get_repository("111111111111", "us-east-1", "app")
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    assert current_revision(engine) == "0001"
    assert "ecr_lifecycle_policies" not in inspect(engine).get_table_names()
    engine.dispose()


class _FlakyRunner:
    """Fails on its first run, then reports; counts its runs."""

    def __init__(self) -> None:
        self.runs = 0
        self.done = threading.Event()

    def run(self) -> LifecycleReport:
        self.runs += 1
        if self.runs == 1:
            raise RuntimeError("the database is away")
        if self.runs >= 3:
            self.done.set()
        return LifecycleReport(False, ())


def test_the_scheduler_survives_a_failed_run_and_stops(caplog: pytest.LogCaptureFixture) -> None:
    runner = _FlakyRunner()
    reports: list[LifecycleReport] = []
    scheduler = LifecycleScheduler(runner, 0.01, reports.append)  # type: ignore[arg-type]
    scheduler.start()
    assert runner.done.wait(10)
    scheduler.stop()
    runs = runner.runs
    assert runs >= 3
    assert len(reports) == runs - 1
    assert "lifecycle policy run failed" in caplog.text
    threading.Event().wait(0.05)
    assert runner.runs == runs  # stopped: no more runs
    with pytest.raises(ValueError, match="must be positive"):
        LifecycleScheduler(runner, 0)  # type: ignore[arg-type]
