"""Fixtures of the decision trail tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from trail_world import TrailWorld, build_trail_world


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TrailWorld]:
    """An in-process server with the walkthrough applied and the trail on."""
    built = build_trail_world(tmp_path, monkeypatch)
    try:
        yield built
    finally:
        built.server.close()
