"""``crossdock explain``: why a principal can or cannot pull, push or call an action on a
repository, with the policies stored in the data dir, and the smallest fix.

The work is :func:`crossdock.service.access.explain_live.explain_live`; this module reads
the options and renders. ``--last-denied`` (the decision trail) supplies the principal,
action and repository instead of the options; an expired registry token is explained by
``explain_token.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.text import Text

from crossdock.cli.access_common import console, fail, open_access, source_options
from crossdock.cli.explain_token import TokenExpiry, render_token_expiry
from crossdock.cli.options import format_option
from crossdock.service.access.context import AccessContext
from crossdock.service.access.errors import AccessInputError
from crossdock.service.access.explain_live import LiveExplanation, explain_live
from crossdock.service.access.targets import parse_image_uri, parse_repository_arn
from crossdock.service.ecr.common import RepositoryRef
from crossdock.service.trail import TrailEvent, TrailReader
from crossdock.settings import default_data_dir
from crossdock.storage.trail_files import trail_dir

_STYLES = {"ALLOWED": "bold green", "CONDITIONAL": "bold yellow", "DENIED": "bold red"}


def render_explanation(explanation: LiveExplanation, output_format: str) -> None:
    """Print ``explanation`` as JSON or as (coloured on a terminal) text."""
    if output_format == "json":
        click.echo(json.dumps(explanation.to_json(), indent=2))
        return
    out = console()
    for line in explanation.to_text().splitlines():
        style = ""
        if line.startswith("result:"):
            style = _STYLES.get(explanation.access.value.upper(), "")
        elif line.startswith("AWS error:") or "Denied (" in line:
            style = "red"
        elif line.startswith(("smallest fix", "  1.", "  2.", "  3.", "  4.")):
            style = "cyan"
        elif ": Allowed (" in line or " applies:" in line:
            style = "green"
        out.print(Text(line, style=style))


def last_denied_event(
    data_dir: Path | None, scenario: Path | None, given: tuple[str | None, ...]
) -> TrailEvent:
    """The trail's newest denial on a repository; one error line when there is none."""
    if scenario is not None:
        fail("--last-denied reads the decision trail of a data dir: drop --scenario")
    if any(value is not None for value in given):
        fail(
            "--last-denied takes the principal and repository from the trail: drop "
            "--principal, --image and --repository"
        )
    event = TrailReader(trail_dir(data_dir or default_data_dir())).last_denied()
    if event is None:
        fail("the decision trail has no denied request (see `crossdock trail`)")
    if not event.token_expired and not event.resource.startswith("arn:aws:ecr:"):
        fail(
            f"the last denied request, {event.action} on {event.resource}, is not on a "
            "repository: see `crossdock trail --denied`"
        )
    return event


def render_trail_event(event: TrailEvent, explanation: LiveExplanation, output_format: str) -> None:
    """The trail event, then the live explanation of it."""
    if output_format == "json":
        click.echo(json.dumps({"trailEvent": event.record, **explanation.to_json()}, indent=2))
        return
    record = event.record
    out = console()
    out.print(
        Text(
            f"last denied: {record.get('eventTime')} {record.get('eventName')} by"
            f" {event.principal_arn} from {record.get('sourceIPAddress')}"
            f" ({record.get('crossdock', {}).get('protocol')})",
            style="bold",
        )
    )
    out.print(Text(f"the client saw: {record.get('errorCode')}: {event.error_message}"))
    if explanation.first_denied is None:
        out.print(Text("now: allowed (the policies changed since)", style="green"))
    render_explanation(explanation, output_format)


def _repository(image: str | None, repository: str | None, region: str) -> RepositoryRef:
    if (image is None) == (repository is None):
        fail("give exactly one of --image URI and --repository ARN")
    if image is not None:
        return parse_image_uri(image, region)
    assert repository is not None
    return parse_repository_arn(repository)


def _explain_request(
    context: AccessContext,
    principal: str | None,
    image: str | None,
    repository: str | None,
    action: str,
    region: str,
) -> LiveExplanation:
    if principal is None:
        fail("--principal ARN is required (or --last-denied)")
    return explain_live(context, principal, _repository(image, repository, region), action)


def _token_expiry(event: TrailEvent, data_dir: Path | None, region: str) -> TokenExpiry:
    """A ``TokenExpired`` event, with the live decision of its request when it named a
    repository."""
    if event.repository is None:
        return TokenExpiry(event, None)
    with open_access(data_dir, None, region) as context:
        try:
            ref = parse_repository_arn(event.resource)
            live = explain_live(context, event.principal_arn, ref, event.action)
        except AccessInputError as error:
            return TokenExpiry(event, None, str(error))
    return TokenExpiry(event, live)


@click.command(name="explain")
@click.option("--principal", help="The caller: a user, role, assumed-role session or root ARN.")
@click.option(
    "--image",
    help="An image URI: ACCOUNT.dkr.ecr.REGION.DOMAIN/REPO[:TAG] or HOST:PORT/ACCOUNT/REPO[:TAG].",
)
@click.option("--repository", help="A repository ARN.")
@click.option(
    "--action",
    default="pull",
    show_default=True,
    help="pull, push, or one ECR action (ecr:BatchGetImage).",
)
@click.option(
    "--region",
    default="us-east-1",
    show_default=True,
    help="The region of a path-style image URI (and of --scenario repositories).",
)
@click.option(
    "--last-denied",
    is_flag=True,
    help="Explain the newest denied request of the decision trail (docs/trail.md): its "
    "principal, action and repository, decided again with the policies stored now.",
)
@source_options
@format_option
def explain(
    principal: str | None,
    image: str | None,
    repository: str | None,
    action: str,
    region: str,
    last_denied: bool,
    data_dir: Path | None,
    scenario: Path | None,
    output_format: str,
) -> None:
    """Explain a live decision: the account sides, each policy, the deciding statements,
    the AWS error the client sees, and the smallest fix."""
    event = None
    if last_denied:
        event = last_denied_event(data_dir, scenario, (principal, image, repository))
        if event.token_expired:
            render_token_expiry(_token_expiry(event, data_dir, region), output_format)
            return
        principal, image, repository, action = (
            event.principal_arn,
            None,
            event.resource,
            event.action,
        )
    with open_access(data_dir, scenario, region) as context:
        try:
            explanation = _explain_request(context, principal, image, repository, action, region)
        except AccessInputError as error:
            fail(str(error))
    if event is not None:
        render_trail_event(event, explanation, output_format)
        return
    render_explanation(explanation, output_format)
