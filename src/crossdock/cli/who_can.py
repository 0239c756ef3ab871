"""``crossdock who-can pull|push REPOSITORY``: who can, and through which statements."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.tree import Tree

from crossdock.cli.access_common import console, fail, open_access, source_options
from crossdock.cli.options import format_option
from crossdock.service.access.effective import Access, AccessResult
from crossdock.service.access.errors import AccessInputError
from crossdock.service.access.principals import PrincipalType
from crossdock.service.access.targets import parse_repository
from crossdock.service.access.who_can import WhoCan, who_can


def _principal_node(entry: AccessResult) -> str:
    principal = entry.principal
    text = f"[bold]{principal.label}[/bold] {principal.arn}"
    if entry.access is Access.CONDITIONAL:
        keys = ", ".join(entry.conditional_on)
        text += f" [yellow](conditional: depends on {keys})[/yellow]"
    return text


def render_who_can(result: WhoCan, console: Console) -> None:
    """A tree: repository → account → principal → granting statements (with side)."""
    tree = Tree(f"[bold]who can {result.verb}[/bold] {result.repository_arn}")
    if not result.entries:
        tree.add("[red]nobody[/red]")
    for account, entries in result.by_account().items():
        branch = tree.add(f"account {account}")
        for entry in entries:
            node = branch.add(_principal_node(entry))
            grants = entry.grants()
            if not grants and entry.principal.kind is PrincipalType.ROOT:
                node.add("the account's root user needs no identity policy")
            for grant in grants:
                mark = " (conditional)" if grant.conditional else ""
                node.add(f"[green]{grant.side}[/green]: {grant.label}{mark}")
    console.print(tree)


@click.command(name="who-can")
@click.argument("verb", type=click.Choice(["pull", "push"]))
@click.argument("repository")
@click.option(
    "--registry-id",
    "--account",
    "registry_id",
    help="The repository's account, when REPOSITORY is a name.",
)
@click.option(
    "--region",
    default="us-east-1",
    show_default=True,
    help="The repository's region, when REPOSITORY is a name or a path-style URI.",
)
@source_options
@format_option
def who_can_command(
    verb: str,
    repository: str,
    registry_id: str | None,
    region: str,
    data_dir: Path | None,
    scenario: Path | None,
    output_format: str,
) -> None:
    """List every principal of every account that can pull (or push) REPOSITORY (a name
    with --registry-id, a repository ARN or an image URI), with the granting statements."""
    with open_access(data_dir, scenario, region) as context:
        try:
            result = who_can(context, verb, parse_repository(repository, registry_id, region))
        except AccessInputError as error:
            fail(str(error))
    if output_format == "json":
        click.echo(json.dumps(result.to_json(), indent=2))
        return
    render_who_can(result, console())
