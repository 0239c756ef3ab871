"""``crossdock policy``: lint, simulate and explain IAM policies offline."""

from __future__ import annotations

import click

from crossdock.cli.policy_lint import lint
from crossdock.cli.policy_run import explain_cases, simulate


@click.group()
def policy() -> None:
    """Lint, simulate and explain AWS policies exactly as AWS evaluates them."""


policy.add_command(simulate)
policy.add_command(explain_cases)
policy.add_command(lint)
