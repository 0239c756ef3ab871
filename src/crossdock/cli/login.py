"""``crossdock login``: one command that logs Docker, Podman and skopeo in to every registry
a ``GetAuthorizationToken`` token covers.

It calls ``GetAuthorizationToken`` (boto3: crossdock or real AWS), then writes one
``auths`` entry per registry host into the auth file (``$REGISTRY_AUTH_FILE``, else
``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``) and says when the token
expires. With an explicit endpoint (a crossdock server), the endpoint's own ``host:port``
is written too: crossdock serves path-style names (``HOST:PORT/<account>/<repo>``) on it
even when it also serves host-style names.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.table import Table

from crossdock.cli.auth_file import AuthFileError, auth_file_path, helper_for, write_auths
from crossdock.cli.options import format_option
from crossdock.cli.registry_auth import (
    ApiTarget,
    LoginError,
    RegistryToken,
    endpoint_from_env,
    fetch_tokens,
    parse_host_style,
    server_host,
)
from crossdock.core.arn import is_account_id

FAILURE = 1


@dataclass(frozen=True, slots=True)
class LoginEntry:
    """One registry host written to the auth file."""

    host: str
    proxy_endpoint: str
    registry_ids: tuple[str, ...]
    """The accounts asked for (or named by a host-style host); empty when not known (the
    caller's own account, or any account on a path-style host)."""


@dataclass(frozen=True, slots=True)
class LoginResult:
    """What ``crossdock login`` did."""

    auth_file: Path
    entries: tuple[LoginEntry, ...]
    expires_at: datetime
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The ``--format json`` document."""
        return {
            "authFile": str(self.auth_file),
            "registries": [
                {
                    "server": e.host,
                    "proxyEndpoint": e.proxy_endpoint,
                    "registryIds": list(e.registry_ids),
                }
                for e in self.entries
            ],
            "expiresAt": self.expires_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "notes": list(self.notes),
        }


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(FAILURE)


def login_entries(
    tokens: Sequence[RegistryToken], registry_ids: Sequence[str], endpoint_url: str | None
) -> list[LoginEntry]:
    """One entry per distinct registry host: each ``proxyEndpoint`` (path style gives one
    host for every account), then the endpoint's own host when an endpoint was given."""
    endpoints: dict[str, str] = {}
    ids: dict[str, list[str]] = {}
    for index, token in enumerate(tokens):
        endpoints.setdefault(token.registry_host, token.proxy_endpoint)
        found = ids.setdefault(token.registry_host, [])
        named = parse_host_style(token.registry_host)
        registry_id = registry_ids[index] if index < len(registry_ids) else None
        registry_id = registry_id or (named.account_id if named is not None else None)
        if registry_id is not None and registry_id not in found:
            found.append(registry_id)
    if endpoint_url and tokens:
        host = server_host(endpoint_url)
        endpoints.setdefault(host, endpoint_url.rstrip("/"))
        ids.setdefault(host, [])
    return [LoginEntry(host, endpoints[host], tuple(ids[host])) for host in endpoints]


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def expiry_line(expires_at: datetime, now: datetime) -> str:
    """``Token expires at <local> (<UTC>), in <duration>.``"""
    local = expires_at.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    utc = expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    left = _duration((expires_at - now).total_seconds())
    return f"Token expires at {local} ({utc}), in {left}."


def render_text(result: LoginResult, now: datetime, console: Console) -> None:
    """The human form: the registries as a table, the file, the expiry, any notes."""
    table = Table("registry", "registry ids", "proxy endpoint", box=None, pad_edge=False)
    for entry in result.entries:
        table.add_row(entry.host, ", ".join(entry.registry_ids) or "-", entry.proxy_endpoint)
    count = len(result.entries)
    noun = "registry" if count == 1 else "registries"
    console.print(f"[bold green]Logged in[/] to {count} {noun} as AWS:")
    console.print(table)
    console.print(f"Wrote {result.auth_file}")
    console.print(expiry_line(result.expires_at, now))
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}")


def run_login(target: ApiTarget, registry_ids: Sequence[str], auth_file: Path) -> LoginResult:
    """Fetch the token and write the auth file; raise LoginError or AuthFileError."""
    tokens = fetch_tokens(target, registry_ids)
    if not tokens:
        raise LoginError("GetAuthorizationToken returned no authorization data")
    entries = login_entries(tokens, registry_ids, target.endpoint_url)
    value = tokens[0].authorization_token
    config = write_auths(auth_file, {entry.host: value for entry in entries})
    notes = []
    for entry in entries:
        helper = helper_for(config, entry.host)
        if helper is not None:
            notes.append(
                f"{entry.host} uses the credential helper `docker-credential-{helper}` "
                f"(credHelpers/credsStore in {auth_file}): Docker asks it, not this entry"
            )
    return LoginResult(auth_file, tuple(entries), tokens[0].expires_at, tuple(notes))


@click.command()
@click.option(
    "--registry-ids",
    "registry_ids",
    multiple=True,
    metavar="ID",
    help="Registry (account) ids to log in to; repeat or separate with spaces "
    "[default: the caller's account].",
)
@click.option("--profile", default=None, help="The AWS profile [default: boto3's chain].")
@click.option(
    "--endpoint-url",
    default=None,
    help="The ECR API [default: $CROSSDOCK_ENDPOINT_URL, else AWS].",
)
@click.option("--region", default=None, help="The region [default: the profile's].")
@format_option
def login(
    registry_ids: tuple[str, ...],
    profile: str | None,
    endpoint_url: str | None,
    region: str | None,
    output_format: str,
) -> None:
    """Log Docker, Podman and skopeo in to the registries of a GetAuthorizationToken token."""
    ids = [part for value in registry_ids for part in value.replace(",", " ").split()]
    bad = [value for value in ids if not is_account_id(value)]
    if bad:
        _fail(f"`{bad[0]}` is not a registry id: use the 12-digit account id")
    target = ApiTarget(endpoint_from_env(endpoint_url), profile, region)
    auth_file = auth_file_path()
    try:
        result = run_login(target, list(dict.fromkeys(ids)), auth_file)
    except (LoginError, AuthFileError) as error:
        _fail(str(error))
    if output_format == "json":
        click.echo(json.dumps(result.to_json(), indent=2))
        return
    render_text(result, datetime.now(UTC), Console(highlight=False, soft_wrap=True))
