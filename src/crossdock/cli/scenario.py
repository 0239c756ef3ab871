"""``crossdock scenario apply``: apply a scenario file to a data dir, offline."""

from __future__ import annotations

from pathlib import Path

import click

from crossdock.settings import Settings, default_data_dir


@click.group()
def scenario() -> None:
    """Declare accounts, organizations, IAM entities and repositories in one YAML file."""


@scenario.command(name="apply")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The data dir to apply it to [default: $XDG_DATA_HOME/crossdock].",
)
@click.option(
    "--region",
    default="us-east-1",
    show_default=True,
    help="The region of repositories that do not name one.",
)
def apply(file: Path, data_dir: Path | None, region: str) -> None:
    """Apply FILE idempotently (as `serve --scenario` does at start)."""
    from crossdock.api.compose import build_server
    from crossdock.api.scenario import apply_scenario_file
    from crossdock.service.scenario_model import ScenarioError

    settings = Settings(data_dir=data_dir or default_data_dir(), region=region)
    try:
        apply_scenario_file(build_server(settings), file, region)
    except ScenarioError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"applied {file}")
