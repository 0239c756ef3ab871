"""Fixtures of the ``/v2/`` tests: a whole crossdock (``build_server``) over a temp data dir,
with the cross-account walkthrough applied, driven in-process through httpx."""

from __future__ import annotations

from pathlib import Path

import pytest
from v2_world import V2World, build_v2_world


@pytest.fixture
def anyio_backend() -> str:
    """Run the async tests on asyncio."""
    return "asyncio"


@pytest.fixture(scope="module")
def v2(tmp_path_factory: pytest.TempPathFactory) -> V2World:
    """One server per test module (tests use their own repositories where they write)."""
    return build_v2_world(tmp_path_factory.mktemp("v2"))


@pytest.fixture
def fresh(tmp_path: Path) -> V2World:
    """A server of its own, for tests that change policies, keys or the clock."""
    return build_v2_world(tmp_path)
