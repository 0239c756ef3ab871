"""Fixtures for end-to-end tests against a real ``crossdock serve`` process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_process import RunningServer, start_server, stop_server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    """A fresh server with an empty data dir."""
    running = start_server(tmp_path / "data")
    try:
        yield running
    finally:
        stop_server(running)
