"""The credential helper's token cache: one 0600 JSON file per (registry, identity).

Files live in ``$XDG_CACHE_HOME/crossdock/ecr-tokens/`` (default ``~/.cache``), in a 0700
directory. A token is handed out again only while it has more than
:func:`refresh_margin` of its life left, so a client never receives one that is about to
expire; after that the helper fetches a new one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crossdock.cli.auth_file import FILE_MODE

MAX_REFRESH_MARGIN = timedelta(minutes=30)


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/crossdock/ecr-tokens`` (default ``~/.cache/crossdock/ecr-tokens``)."""
    env = os.environ if environ is None else environ
    base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "crossdock" / "ecr-tokens"


def refresh_margin(lifetime: timedelta) -> timedelta:
    """How long before expiry a cached token is replaced: half its life, at most 30 min."""
    return min(MAX_REFRESH_MARGIN, lifetime / 2)


@dataclass(frozen=True, slots=True)
class CachedToken:
    """A token fetched for one registry host."""

    server_host: str
    proxy_endpoint: str
    authorization_token: str
    fetched_at: datetime
    expires_at: datetime

    def usable(self, now: datetime) -> bool:
        """True while more than the refresh margin of the token's life is left."""
        margin = refresh_margin(self.expires_at - self.fetched_at)
        return now < self.expires_at - margin

    def to_json(self) -> dict[str, str]:
        """The file's content."""
        return {
            "serverHost": self.server_host,
            "proxyEndpoint": self.proxy_endpoint,
            "authorizationToken": self.authorization_token,
            "fetchedAt": self.fetched_at.isoformat(),
            "expiresAt": self.expires_at.isoformat(),
        }


def cache_key(*parts: str | None) -> str:
    """A file name for the registry and identity described by ``parts``."""
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32] + ".json"


class TokenCache:
    """Reads and writes cached tokens in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def load(self, key: str) -> CachedToken | None:
        """The cached token under ``key``; None when missing or unreadable."""
        return _read(self.directory / key)

    def store(self, key: str, token: CachedToken) -> None:
        """Write ``token`` under ``key`` atomically (0600); a failure only loses the cache."""
        with contextlib.suppress(OSError):
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            handle, temporary = tempfile.mkstemp(prefix=".token.", dir=self.directory)
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as stream:
                    os.fchmod(stream.fileno(), FILE_MODE)
                    json.dump(token.to_json(), stream)
                os.replace(temporary, self.directory / key)
            except OSError:
                os.unlink(temporary)
                raise

    def entries(self) -> Iterator[CachedToken]:
        """Every readable cached token."""
        if not self.directory.is_dir():
            return
        for path in sorted(self.directory.glob("*.json")):
            token = _read(path)
            if token is not None:
                yield token

    def erase(self, server_host: str) -> None:
        """Forget every cached token of ``server_host``."""
        if not self.directory.is_dir():
            return
        for path in self.directory.glob("*.json"):
            token = _read(path)
            if token is not None and token.server_host == server_host:
                with contextlib.suppress(OSError):
                    path.unlink()


def _read(path: Path) -> CachedToken | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        token = CachedToken(
            server_host=str(data["serverHost"]),
            proxy_endpoint=str(data["proxyEndpoint"]),
            authorization_token=str(data["authorizationToken"]),
            fetched_at=datetime.fromisoformat(data["fetchedAt"]),
            expires_at=datetime.fromisoformat(data["expiresAt"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if token.expires_at.tzinfo is None or token.fetched_at.tzinfo is None:
        return None
    return token


def utc_now() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)
