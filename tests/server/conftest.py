"""Fixtures: one live crossdock API server per session (see ``live_server.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from live_server import LiveServer, OffsetClock, start_live_server


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One crossdock API server (IAM and STS) for the session, on a temporary data dir."""
    server, stop = start_live_server(tmp_path_factory.mktemp("crossdock-data"))
    try:
        yield server
    finally:
        stop()


@pytest.fixture
def clock_reset(live: LiveServer) -> Iterator[OffsetClock]:
    """The live server's clock, put back after the test."""
    saved = live.clock.offset
    try:
        yield live.clock
    finally:
        live.clock.offset = saved
