"""Fixtures of the ECR tests (the in-process world; the boto3 server is in ecr_server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ecr_server import EcrServer, running_server
from ecr_world import World, build_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """Services over a fresh SQLite database and blob directory."""
    built = build_world(tmp_path)
    yield built
    built.engine.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EcrServer]:
    """A real server for a whole test module (use distinct repository names per test)."""
    with running_server(tmp_path_factory.mktemp("ecr-server")) as running:
        yield running
