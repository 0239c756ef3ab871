"""``crossdock policy``: lint, simulate and explain IAM policies offline."""

from __future__ import annotations

import click


@click.group()
def policy() -> None:
    """Lint, simulate and explain AWS policies exactly as AWS evaluates them."""
