"""Reading a file of simulation cases for ``policy simulate`` and ``policy explain``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import IO, Any

import click

from crossdock.policy.cases import PolicyCache, SimulationCase, parse_case
from crossdock.policy.errors import CaseError


@dataclass(frozen=True, slots=True)
class CaseFailure:
    """A case that could not be read, reported in place of its decision."""

    case_id: str | None
    message: str


def read_case_list(stream: IO[str]) -> list[Any]:
    """Decode the file: a JSON array of cases, or one case object."""
    name = getattr(stream, "name", "-")
    try:
        data = json.load(stream)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}"
        raise click.ClickException(f"{name} is not valid JSON: {error.msg} at {where}") from error
    except RecursionError as error:
        raise click.ClickException(f"{name} is nested too deeply to be a case file") from error
    except ValueError as error:  # e.g. an integer literal longer than Python converts
        raise click.ClickException(f"{name} is not valid JSON: {error}") from error
    if isinstance(data, dict):
        return [data]
    if not isinstance(data, list):
        raise click.ClickException(f"{name} must hold a JSON array of cases")
    return data


def parse_cases(raw_cases: list[Any]) -> list[SimulationCase | CaseFailure]:
    """Parse every case, sharing one compile cache; bad cases become CaseFailure."""
    cache = PolicyCache()
    parsed: list[SimulationCase | CaseFailure] = []
    for index, raw in enumerate(raw_cases):
        case_id = raw.get("id") if isinstance(raw, dict) else None
        try:
            parsed.append(parse_case(raw, cache))
        except CaseError as error:
            shown = case_id if isinstance(case_id, str) else f"#{index}"
            parsed.append(CaseFailure(shown, f"case `{shown}`: {error}"))
    return parsed
