"""Options that several commands share, so each is spelled (and documented) once."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

F = TypeVar("F", bound=Callable[..., object])


def format_option(function: F) -> F:
    """``--format text|json`` (default text), passed to the command as ``output_format``."""
    option = click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
    )
    return option(function)
