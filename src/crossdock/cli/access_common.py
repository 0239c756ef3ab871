"""What ``explain``, ``who-can`` and ``access-matrix`` share: where the policies come
from (a data dir, or a scenario file applied to a temporary one), the ``--format``
option, and the one-line error for bad input.

Exit status for bad input (unknown repository, principal, account or action, a
directory that is not a data dir): 2, with one ``error:`` line on standard error.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console

from crossdock.service.access.context import AccessContext
from crossdock.settings import Settings, default_data_dir
from crossdock.storage.data_dir import BLOB_DIR_NAME, open_existing_data_dir

BAD_INPUT = 2
_F = TypeVar("_F", bound=Callable[..., Any])


def source_options(function: _F) -> _F:
    """``--data-dir`` and ``--scenario``: where the stored policies come from."""
    function = click.option(
        "--scenario",
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        default=None,
        help="Read the policies of this scenario file (applied to a temporary data dir) "
        "instead of a data dir.",
    )(function)
    return click.option(
        "--data-dir",
        type=click.Path(path_type=Path),
        default=None,
        help="The server's data dir [default: $XDG_DATA_HOME/crossdock].",
    )(function)


def console() -> Console:
    """A rich console; off a terminal it is wide and plain, so output never wraps."""
    if sys.stdout.isatty():
        return Console(highlight=False, soft_wrap=True)
    return Console(highlight=False, width=400, no_color=True)


def fail(message: str) -> NoReturn:
    """Print one ``error:`` line and exit with status 2."""
    click.echo(f"error: {message}", err=True)
    sys.exit(BAD_INPUT)


@contextmanager
def open_access(
    data_dir: Path | None, scenario: Path | None, region: str = "us-east-1"
) -> Iterator[AccessContext]:
    """The access context over ``data_dir`` (read only), or over ``scenario`` applied to
    a temporary data dir that is removed afterwards."""
    if scenario is not None and data_dir is not None:
        fail("give --data-dir or --scenario, not both")
    if scenario is not None:
        with (
            tempfile.TemporaryDirectory(prefix="crossdock-access-") as temporary,
            _scenario_access(Path(temporary), scenario, region) as context,
        ):
            yield context
        return
    yield from _data_dir_access(data_dir or default_data_dir())


def _data_dir_access(directory: Path) -> Iterator[AccessContext]:
    from crossdock.api.ecr.services import ecr_lookup, ecr_stores
    from crossdock.storage.errors import DataDirError
    from crossdock.storage.sql.identity_stores import sql_identity_stores

    try:
        engine = open_existing_data_dir(directory)
    except DataDirError as error:
        fail(f"{error}; pass --data-dir DIR (or --scenario FILE)")
    try:
        registry = ecr_stores(engine, directory / BLOB_DIR_NAME)
        yield AccessContext.create(
            sql_identity_stores(engine),
            registry.repositories,
            ecr_lookup(registry),
            datetime.now(UTC),
        )
    finally:
        engine.dispose()


@contextmanager
def _scenario_access(directory: Path, scenario: Path, region: str) -> Iterator[AccessContext]:
    from crossdock.api.compose import build_server
    from crossdock.api.ecr.services import ecr_lookup
    from crossdock.api.scenario import apply_scenario_file
    from crossdock.service.scenario_model import ScenarioError

    server = build_server(Settings(data_dir=directory, region=region))
    try:
        apply_scenario_file(server, scenario, region)
    except ScenarioError as error:
        fail(f"{scenario}: {error}")
    yield AccessContext.create(
        server.identity_stores,
        server.registry_stores.repositories,
        ecr_lookup(server.registry_stores),
        server.clock(),
    )
