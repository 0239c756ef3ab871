"""``crossdock policy simulate`` and ``crossdock policy explain``."""

from __future__ import annotations

import json
import sys
import time
from typing import IO, Any

import click
from rich.console import Console
from rich.text import Text

from crossdock.cli.cases_input import CaseFailure, parse_cases, read_case_list
from crossdock.cli.options import format_option
from crossdock.policy.cases import SimulationCase, simulate_case
from crossdock.policy.decide import Decision
from crossdock.policy.explain import Explanation, explain


def _result(case: SimulationCase, decision: Decision) -> dict[str, Any]:
    kind = decision.policy_type
    return {
        "id": case.case_id,
        "decision": decision.outcome.value,
        "decisive": list(decision.decisive_ids),
        "policyType": None if kind is None else kind.value,
        "message": decision.message,
    }


@click.command()
@click.option(
    "--cases",
    "cases_file",
    type=click.File("r"),
    required=True,
    help="JSON file of cases (an array), or - for standard input.",
)
@click.option(
    "--repeat",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Evaluate the whole file N times (for throughput); print once.",
)
@click.option("--timing", is_flag=True, help="Print decisions per second to standard error.")
def simulate(cases_file: IO[str], repeat: int, timing: bool) -> None:
    """Decide every case and print a JSON array of results, in input order."""
    parsed = parse_cases(read_case_list(cases_file))
    good = [c for c in parsed if isinstance(c, SimulationCase)]
    started = time.perf_counter()
    decisions: dict[int, Decision] = {}
    for _ in range(repeat):
        for position, case in enumerate(good):
            decisions[position] = simulate_case(case)
    elapsed = time.perf_counter() - started
    output: list[dict[str, Any]] = []
    position = 0
    for item in parsed:
        if isinstance(item, CaseFailure):
            output.append({"id": item.case_id, "decision": None, "error": item.message})
        else:
            output.append(_result(item, decisions[position]))
            position += 1
    click.echo(json.dumps(output, indent=2))
    if timing:
        total = repeat * len(good)
        rate = total / elapsed if elapsed > 0 else float("inf")
        click.echo(f"{total} decisions in {elapsed:.3f} s: {rate:,.0f} per second", err=True)
    if len(good) != len(parsed):
        sys.exit(1)


_STYLES = {
    "Allowed": "bold green",
    "ImplicitlyDenied": "bold yellow",
    "ExplicitlyDenied": "bold red",
}


def _render(console: Console, case_id: str, explanation: Explanation) -> None:
    console.print(Text(f"case {case_id}", style="bold"))
    for line in explanation.to_text().splitlines():
        style = ""
        if line.startswith("decision: "):
            style = _STYLES.get(explanation.decision, "")
        elif line.startswith(("AccessDenied", "fix:")):
            style = "cyan" if line.startswith("fix") else "red"
        elif " applies:" in line:
            style = "green"
        console.print(Text(line, style=style))
    console.print()


@click.command(name="explain")
@click.option(
    "--cases",
    "cases_file",
    type=click.File("r"),
    required=True,
    help="JSON file of cases (an array), or - for standard input.",
)
@click.option("--id", "case_id", help="Explain only the case with this id.")
@format_option
def explain_cases(cases_file: IO[str], case_id: str | None, output_format: str) -> None:
    """Trace each case: account sides, every statement, the decision, the AWS error, a fix."""
    parsed = parse_cases(read_case_list(cases_file))
    if case_id is not None:
        parsed = [c for c in parsed if c.case_id == case_id]
        if not parsed:
            raise click.ClickException(f"no case has the id `{case_id}`")
    console = Console(highlight=False, soft_wrap=True)
    documents: list[dict[str, Any]] = []
    failed = False
    for item in parsed:
        if isinstance(item, CaseFailure):
            failed = True
            click.echo(f"error: {item.message}", err=True)
            continue
        explanation = explain(simulate_case(item))
        if output_format == "json":
            documents.append({"id": item.case_id, **explanation.to_json()})
        else:
            _render(console, item.case_id, explanation)
    if output_format == "json":
        click.echo(json.dumps(documents, indent=2))
    if failed:
        sys.exit(1)
