"""Fixtures: a data dir holding examples/org-access.yaml, and its access context."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from access_scenario import apply_to, scenario_data

from crossdock.cli.access_common import open_access
from crossdock.service.access.context import AccessContext


@pytest.fixture(scope="module")
def org_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with examples/org-access.yaml applied."""
    return apply_to(tmp_path_factory.mktemp("org"), scenario_data())


@pytest.fixture
def org(org_dir: Path) -> Iterator[AccessContext]:
    """The access context over :func:`org_dir`."""
    with open_access(org_dir, None) as context:
        yield context
