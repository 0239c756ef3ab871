"""The ``crossdock`` entry point and its command groups."""

from __future__ import annotations

import click

from crossdock import __version__
from crossdock.cli.account import account
from crossdock.cli.policy import policy
from crossdock.cli.scenario import scenario
from crossdock.cli.serve import serve


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="crossdock")
def cli() -> None:
    """crossdock: an ECR-compatible registry where cross-account sharing works as on AWS."""


cli.add_command(serve)
cli.add_command(account)
cli.add_command(scenario)
cli.add_command(policy)


def main() -> None:
    """Run the command line (the ``crossdock`` console script)."""
    cli(prog_name="crossdock")
