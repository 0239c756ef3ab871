"""The ``crossdock`` entry point and its command groups."""

from __future__ import annotations

import click

from crossdock import __version__
from crossdock.cli.access_matrix import access_matrix_command
from crossdock.cli.account import account
from crossdock.cli.db import db
from crossdock.cli.explain import explain
from crossdock.cli.fsck import fsck
from crossdock.cli.gc import gc
from crossdock.cli.lifecycle import lifecycle
from crossdock.cli.login import login
from crossdock.cli.policy import policy
from crossdock.cli.scenario import scenario
from crossdock.cli.serve import serve
from crossdock.cli.share import share, unshare
from crossdock.cli.trail import trail
from crossdock.cli.who_can import who_can_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="crossdock")
def cli() -> None:
    """crossdock: an ECR-compatible registry where cross-account sharing works as on AWS."""


cli.add_command(serve)
cli.add_command(account)
cli.add_command(db)
cli.add_command(scenario)
cli.add_command(policy)
cli.add_command(fsck)
cli.add_command(gc)
cli.add_command(lifecycle)
cli.add_command(explain)
cli.add_command(who_can_command)
cli.add_command(access_matrix_command)
cli.add_command(login)
cli.add_command(trail)
cli.add_command(share)
cli.add_command(unshare)


def main() -> None:
    """Run the command line (the ``crossdock`` console script)."""
    cli(prog_name="crossdock")
