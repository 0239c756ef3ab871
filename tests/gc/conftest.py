"""Fixtures of the garbage-collection tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gc_world import GcWorld, build_gc_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[GcWorld]:
    """A fresh server with the walkthrough applied, and a collector over its stores."""
    built = build_gc_world(tmp_path)
    try:
        yield built
    finally:
        built.join()
        built.engine.dispose()
