"""The ``crossdock`` pytest plugin (entry point ``pytest11``): a server per test from a
scenario, with helpers to act as its principals and check their access.

Nothing here runs unless a test asks for a fixture: importing the plugin registers one
marker, two ini options and two fixtures, and imports only pytest and the standard library.

- ``crossdock_scenario``: the scenario the server starts from. By default, the path given
  by the closest ``@pytest.mark.crossdock_scenario("file.yaml")`` (relative to the test
  file), else the ``crossdock_scenario`` ini option (relative to the ini file), else
  None (an empty server). Override the fixture to return a path or a scenario document.
- ``crossdock_server``: a :class:`crossdock.testing.CrossdockServer` started from it,
  stopped after the test (or after the module or session: ini ``crossdock_server_scope``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from crossdock.testing.server import CrossdockServer

SCOPES = ("function", "class", "module", "package", "session")


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ini options."""
    parser.addini(
        "crossdock_scenario",
        "scenario YAML the crossdock_server fixture starts from (relative to the ini file)",
        default="",
    )
    parser.addini(
        "crossdock_server_scope",
        "scope of the crossdock_server fixture: function (default), class, module, "
        "package or session",
        default="function",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker (so ``--strict-markers`` accepts it)."""
    config.addinivalue_line(
        "markers",
        "crossdock_scenario(path): the scenario YAML the crossdock_server fixture starts "
        "from (relative to the test file)",
    )


def server_scope(fixture_name: str, config: pytest.Config) -> Any:
    """The ``crossdock_server_scope`` ini option, checked."""
    value = str(config.getini("crossdock_server_scope") or "function").strip()
    if value not in SCOPES:
        raise pytest.UsageError(f"crossdock_server_scope = {value}: use one of {', '.join(SCOPES)}")
    return value


@pytest.fixture(scope=server_scope)
def crossdock_scenario(request: pytest.FixtureRequest) -> Any:
    """The scenario for ``crossdock_server``: a marker's path, the ini option, or None."""
    marker = request.node.get_closest_marker("crossdock_scenario")
    if marker is not None:
        if len(marker.args) != 1:
            raise pytest.UsageError("@pytest.mark.crossdock_scenario takes one path")
        found = Path(marker.args[0])
        return found if found.is_absolute() else Path(request.path).parent / found
    configured = str(request.config.getini("crossdock_scenario") or "").strip()
    if configured:
        inipath = request.config.inipath
        base = inipath.parent if inipath is not None else request.config.rootpath
        return base / configured
    return None


@pytest.fixture(scope=server_scope)
def crossdock_server(
    crossdock_scenario: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CrossdockServer]:
    """A ``crossdock serve`` process on a free 127.0.0.1 port, from ``crossdock_scenario``."""
    from crossdock.testing.server import start_server

    with start_server(crossdock_scenario, tmp_path_factory.mktemp("crossdock")) as server:
        yield server
