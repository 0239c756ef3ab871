"""``docker-credential-crossdock``: a Docker credential helper that mints registry tokens.

Docker, Podman, skopeo and buildah run it for the registries a ``credHelpers`` entry maps
to ``crossdock``, with one verb as its argument and the request on standard input:

``get``
    reads a server URL, prints ``{"ServerURL", "Username", "Secret"}``. The token comes
    from ``GetAuthorizationToken`` and is cached (:mod:`crossdock.cli.token_cache`) until
    it nears expiry, then fetched again: clients never hold an expired token.
``store``, ``erase``
    tokens are minted, never stored: ``store`` reads and ignores what ``docker login``
    hands it; ``erase`` (``docker logout``) drops the server's cached token.
``list``
    prints ``{server: "AWS"}`` for the registries it serves.

Which registry and which identity (:func:`resolve_registry`), first match wins:

1. the mapping file (``$CROSSDOCK_CREDENTIAL_HELPER_CONFIG``, default
   ``$XDG_CONFIG_HOME/crossdock/credential-helper.json``): ``{"registries": {HOST:
   {"endpointUrl", "profile", "region", "registryId"}}}``, each key optional;
2. a host-style name ``<account>.dkr.ecr.<region>.<domain>``: that account and region,
   the endpoint ``$CROSSDOCK_ENDPOINT_URL`` (else AWS);
3. the host of ``$CROSSDOCK_ENDPOINT_URL`` (path style): the account
   ``$CROSSDOCK_REGISTRY_ID``, else the caller's own (the token is bound to the caller,
   not to a registry, so it reads every repository the caller may pull).

Credentials: the entry's ``profile``, else boto3's chain (``AWS_PROFILE``, the
``AWS_ACCESS_KEY_ID`` variables, ...). Other servers get Docker's
``credentials not found in native keychain``, so the client carries on without.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from crossdock import __version__
from crossdock.cli.registry_auth import (
    ENDPOINT_ENV,
    ApiTarget,
    LoginError,
    fetch_tokens,
    parse_host_style,
    server_host,
)
from crossdock.cli.token_cache import CachedToken, TokenCache, cache_dir, cache_key, utc_now
from crossdock.core.arn import is_account_id

NOT_FOUND = "credentials not found in native keychain"
CONFIG_ENV = "CROSSDOCK_CREDENTIAL_HELPER_CONFIG"
REGISTRY_ID_ENV = "CROSSDOCK_REGISTRY_ID"
_ENTRY_KEYS = frozenset({"endpointUrl", "profile", "region", "registryId"})
USAGE = "Usage: docker-credential-crossdock <store|get|erase|list|version>"


class HelperError(Exception):
    """A failure reported to the client on standard output (exit status 1)."""


@dataclass(frozen=True, slots=True)
class RegistryTarget:
    """Where to get a token for one registry host."""

    host: str
    api: ApiTarget
    registry_id: str | None


def config_path(environ: Mapping[str, str]) -> Path:
    """The mapping file's path."""
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV]).expanduser()
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "crossdock" / "credential-helper.json"


def load_mapping(environ: Mapping[str, str]) -> dict[str, RegistryTarget]:
    """The mapping file's registries by host (empty when there is no file)."""
    path = config_path(environ)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise HelperError(f"cannot read {path}: {error}") from None
    registries = data.get("registries") if isinstance(data, dict) else None
    if not isinstance(registries, dict):
        raise HelperError(f'{path}: expected {{"registries": {{HOST: {{...}}}}}}')
    found: dict[str, RegistryTarget] = {}
    for host, entry in registries.items():
        if not isinstance(entry, dict) or not set(entry) <= _ENTRY_KEYS:
            allowed = ", ".join(sorted(_ENTRY_KEYS))
            raise HelperError(f"{path}: registries.{host} may only have the keys {allowed}")
        registry_id = entry.get("registryId")
        if registry_id is not None and not is_account_id(str(registry_id)):
            raise HelperError(f"{path}: registries.{host}.registryId is not a 12-digit id")
        api = ApiTarget(entry.get("endpointUrl"), entry.get("profile"), entry.get("region"))
        key = server_host(host)
        found[key] = RegistryTarget(key, api, None if registry_id is None else str(registry_id))
    return found


def resolve_registry(host: str, environ: Mapping[str, str]) -> RegistryTarget | None:
    """The registry and identity for ``host`` (see the module docstring), or None."""
    mapped = load_mapping(environ).get(host)
    if mapped is not None:
        return mapped
    endpoint = environ.get(ENDPOINT_ENV) or None
    named = parse_host_style(host)
    if named is not None:
        return RegistryTarget(host, ApiTarget(endpoint, None, named.region), named.account_id)
    if endpoint is not None and server_host(endpoint) == host:
        registry_id = environ.get(REGISTRY_ID_ENV) or None
        if registry_id is not None and not is_account_id(registry_id):
            raise HelperError(f"{REGISTRY_ID_ENV}={registry_id} is not a 12-digit account id")
        return RegistryTarget(host, ApiTarget(endpoint, None, None), registry_id)
    return None


def _key(target: RegistryTarget, environ: Mapping[str, str]) -> str:
    api = target.api
    return cache_key(
        target.host,
        api.endpoint_url,
        api.profile or environ.get("AWS_PROFILE"),
        api.region,
        target.registry_id,
        environ.get("AWS_ACCESS_KEY_ID"),
    )


def token_for(target: RegistryTarget, cache: TokenCache, environ: Mapping[str, str]) -> str:
    """A usable ``authorizationToken`` for ``target``: cached, or freshly fetched."""
    key = _key(target, environ)
    now = utc_now()
    cached = cache.load(key)
    if cached is not None and cached.usable(now):
        return cached.authorization_token
    ids = [target.registry_id] if target.registry_id else []
    try:
        tokens = fetch_tokens(target.api, ids)
    except LoginError as error:
        raise HelperError(str(error)) from None
    if not tokens:
        raise HelperError("GetAuthorizationToken returned no authorization data")
    token = tokens[0]
    cache.store(
        key,
        CachedToken(
            target.host, token.proxy_endpoint, token.authorization_token, now, token.expires_at
        ),
    )
    return token.authorization_token


def _get(stdin: IO[str], stdout: IO[str], environ: Mapping[str, str]) -> int:
    server_url = stdin.read().strip()
    target = resolve_registry(server_host(server_url), environ) if server_url else None
    if target is None:
        stdout.write(NOT_FOUND + "\n")
        return 1
    value = token_for(target, TokenCache(cache_dir(environ)), environ)
    user, _, secret = base64.b64decode(value).decode().partition(":")
    json.dump({"ServerURL": server_url, "Username": user, "Secret": secret}, stdout)
    stdout.write("\n")
    return 0


def _list(stdout: IO[str], environ: Mapping[str, str]) -> int:
    servers = dict.fromkeys(load_mapping(environ), "AWS")
    endpoint = environ.get(ENDPOINT_ENV)
    if endpoint:
        servers.setdefault(server_host(endpoint), "AWS")
    for token in TokenCache(cache_dir(environ)).entries():
        servers.setdefault(token.server_host, "AWS")
    json.dump(servers, stdout)
    stdout.write("\n")
    return 0


def run(
    args: Sequence[str],
    stdin: IO[str],
    stdout: IO[str],
    environ: Mapping[str, str] | None = None,
) -> int:
    """Run one helper verb; returns the exit status."""
    env: Mapping[str, str] = os.environ if environ is None else environ
    if len(args) != 1:
        stdout.write(USAGE + "\n")
        return 1
    verb = args[0]
    try:
        if verb == "get":
            return _get(stdin, stdout, env)
        if verb == "store":
            stdin.read()  # tokens are minted on demand: nothing to keep
            return 0
        if verb == "erase":
            server_url = stdin.read().strip()
            if server_url:
                TokenCache(cache_dir(env)).erase(server_host(server_url))
            return 0
        if verb == "list":
            return _list(stdout, env)
        if verb == "version":
            stdout.write(f"docker-credential-crossdock (crossdock) {__version__}\n")
            return 0
    except HelperError as error:
        stdout.write(f"{error}\n")
        return 1
    stdout.write(USAGE + "\n")
    return 1


def main() -> None:
    """The ``docker-credential-crossdock`` console script."""
    sys.exit(run(sys.argv[1:], sys.stdin, sys.stdout))
