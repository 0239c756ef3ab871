"""``crossdock access-matrix``: effective pull/push, repositories × principals."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from crossdock.cli.access_common import console, fail, open_access, source_options
from crossdock.service.access.errors import AccessInputError
from crossdock.service.access.matrix import AccessMatrix, access_matrix
from crossdock.service.access.render import render_html, render_svg

_CELL_STYLES = {"pull+push": "green", "pull": "blue", "push": "yellow", "none": "dim"}


def render_table(matrix: AccessMatrix, console: Console) -> None:
    """The matrix as a rich table, principals grouped by account."""
    table = Table(title="effective access (? = conditional)", show_lines=False)
    table.add_column("principal", no_wrap=True)
    for repository in matrix.repositories:
        table.add_column(f"{repository.account_id}/{repository.name}", justify="center")
    account = None
    for principal, row in zip(matrix.principals, matrix.cells, strict=True):
        if principal.account_id != account:
            account = principal.account_id
            table.add_section()
            table.add_row(f"[bold]account {account}[/bold]", *[""] * len(row))
        cells = [
            f"[{_CELL_STYLES.get(cell.label.replace('?', ''), '')}]{cell.label}[/]" for cell in row
        ]
        table.add_row(f"  {principal.label}", *cells)
    console.print(table)


def _accounts(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(part.strip() for part in value.split(",") if part.strip())


@click.command(name="access-matrix")
@click.option("--accounts", help="Comma-separated account ids [default: every account].")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write FILE.svg, FILE.html or FILE.json instead of printing a table.",
)
@source_options
def access_matrix_command(
    accounts: str | None, output: Path | None, data_dir: Path | None, scenario: Path | None
) -> None:
    """The effective pull/push matrix of the accounts' repositories × their principals."""
    writers = {".svg": render_svg, ".html": render_html, ".json": None}
    if output is not None and output.suffix.lower() not in writers:
        fail(f"cannot write `{output}`: name it FILE.svg, FILE.html or FILE.json")
    with open_access(data_dir, scenario) as context:
        try:
            matrix = access_matrix(context, _accounts(accounts))
        except AccessInputError as error:
            fail(str(error))
    if output is None:
        render_table(matrix, console())
        return
    writer = writers[output.suffix.lower()]
    text = json.dumps(matrix.to_json(), indent=2) + "\n" if writer is None else writer(matrix)
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output}")
