"""``crossdock explain --last-denied`` for a ``/v2/`` request refused for its expired
registry token (a ``TokenExpired`` trail event, docs/trail.md).

No policy was consulted for such a request: the explanation is whose token it was, when
it expired, why tokens expire, how to get a fresh one, and whether the policies allow the
request now (the live decision, when the request named a repository).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import click
from rich.text import Text

from crossdock.cli.access_common import console
from crossdock.service.access.explain_live import LiveExplanation
from crossdock.service.trail import TrailEvent

WHY = (
    "a registry token from GetAuthorizationToken lasts 12 hours (less when the server runs"
    " with `crossdock serve --token-ttl SECONDS`, or when the caller's STS session ends"
    " sooner); past its expiry the registry refuses it before any policy is consulted"
)


@dataclass(frozen=True, slots=True)
class TokenExpiry:
    """What a ``TokenExpired`` event tells, and the fix it calls for."""

    event: TrailEvent
    live: LiveExplanation | None
    """The live decision of the same request, when it named a repository and the
    principal still exists."""
    live_error: str | None = None
    """Why there is no live decision, when the request named a repository."""

    def _block(self) -> dict[str, Any]:
        block = self.event.record.get("crossdock")
        return block if isinstance(block, dict) else {}

    @property
    def access_key_id(self) -> str:
        """The access key the token was issued to."""
        identity = self.event.record.get("userIdentity") or {}
        return str(identity.get("accessKeyId", "")) if isinstance(identity, dict) else ""

    @property
    def client_saw(self) -> str:
        """The error as a Docker client prints it (403, code ``DENIED``)."""
        return f"denied: {self.event.error_message}"

    @property
    def registry_host(self) -> str:
        """The registry host the client addressed."""
        return str(self._block().get("registryHost", ""))

    @property
    def account(self) -> str:
        """The registry (account) the request was for."""
        parameters = self.event.record.get("requestParameters") or {}
        registry = parameters.get("registryId") if isinstance(parameters, dict) else None
        return str(registry or self.event.record.get("recipientAccountId", ""))

    def lifetime(self) -> str:
        """When the token expired, and how long it was valid when the issue time is known."""
        block = self._block()
        expired, issued = block.get("tokenExpiredAt"), block.get("tokenIssuedAt")
        if not issued:
            return str(expired)
        seconds = int((_time(str(expired)) - _time(str(issued))).total_seconds())
        return f"{expired} (issued {issued}: valid for {_duration(seconds)})"

    def fixes(self) -> list[str]:
        """Ways to get a fresh token, the automatic one last. Off AWS (a crossdock
        server), the ECR API is the registry's own endpoint: ``--endpoint-url`` names it."""
        region = self.event.record.get("awsRegion", "")
        host = self.registry_host
        endpoint = ""
        if not host.split(":")[0].endswith(".amazonaws.com"):
            endpoint = f" --endpoint-url {self._block().get('registryEndpoint', '')}"
        return [
            f"aws ecr get-login-password --region {region}{endpoint}"
            f" | docker login --username AWS --password-stdin {host}",
            f"crossdock login --registry-ids {self.account}{endpoint}",
            f'configure docker-credential-crossdock ("credHelpers": {{"{host}": "crossdock"}}'
            " in ~/.docker/config.json) so tokens renew automatically",
        ]

    def now(self) -> str:
        """Whether the policies allow the request now: the live decision's summary."""
        event = self.event
        if self.live is None:
            if self.live_error is not None:
                return f"cannot decide the request now: {self.live_error}"
            return "the request named no repository: a fresh token is all it needs"
        summary = _summary(self.live)
        if self.live.first_denied is None:
            return (
                f"{summary}: the policies allow {event.action} now; a fresh token is all it needs"
            )
        return (
            f"{summary}: a fresh token is not enough, the policies deny it now; see"
            f" crossdock explain --principal {event.principal_arn}"
            f" --repository {event.resource} --action {event.action}"
        )

    def to_json(self) -> dict[str, Any]:
        """The ``--format json`` document."""
        block = self._block()
        return {
            "trailEvent": self.event.record,
            "tokenExpired": {
                "principal": self.event.principal_arn,
                "accessKeyId": self.access_key_id,
                "expiredAt": block.get("tokenExpiredAt"),
                "issuedAt": block.get("tokenIssuedAt"),
                "registryHost": self.registry_host,
                "registryEndpoint": self._block().get("registryEndpoint"),
                "clientSaw": self.client_saw,
                "why": WHY,
                "fix": self.fixes(),
            },
            "now": self.now(),
            "live": None if self.live is None else self.live.to_json(),
        }

    def to_text(self) -> str:
        """Plain multi-line text."""
        record = self.event.record
        lines = [
            f"last denied: {record.get('eventTime')} {record.get('eventName')} by"
            f" {self.event.principal_arn} from {record.get('sourceIPAddress')} (v2)",
            f"the client saw: {self.client_saw} (HTTP 403, code DENIED)",
            f"whose token: {self.event.principal_arn}, access key {self.access_key_id}",
            f"expired: {self.lifetime()}",
            f"why: {WHY}",
            "fix: get a fresh token, with one of:",
            *(f"  {fix}" for fix in self.fixes()),
            f"now: {self.now()}",
        ]
        return "\n".join(lines)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    parts.append(f"{seconds} s" if seconds or not (hours or minutes) else "")
    return " ".join(part for part in parts if part)


def _summary(live: LiveExplanation) -> str:
    for line in live.to_text().splitlines():
        if line.startswith("result:"):
            return line.removeprefix("result:").strip()
    return live.access.value.upper()


def render_token_expiry(expiry: TokenExpiry, output_format: str) -> None:
    """Print ``expiry`` as JSON or as (coloured on a terminal) text."""
    if output_format == "json":
        click.echo(json.dumps(expiry.to_json(), indent=2))
        return
    out = console()
    for line in expiry.to_text().splitlines():
        style = ""
        if line.startswith("last denied:"):
            style = "bold"
        elif line.startswith("the client saw:"):
            style = "red"
        elif line.startswith(("fix:", "  ")):
            style = "cyan"
        out.print(Text(line, style=style))
