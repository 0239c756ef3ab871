"""Access keys as the authenticator sees them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from crossdock.auth.principal import Principal


@dataclass(frozen=True, slots=True)
class Credential:
    """An active access key with its secret and the principal it authenticates.

    Temporary (``ASIA...``) keys carry the ``session_token`` that requests must present
    (or only its SHA-256 hex digest, ``session_token_sha256``, as the store keeps it) and
    the time they stop working.
    """

    access_key_id: str
    secret_access_key: str
    principal: Principal
    session_token: str | None = None
    expires_at: datetime | None = None
    session_token_sha256: str | None = None


class CredentialResolver(Protocol):
    """Finds the active credential for an access key id (None when unknown or inactive)."""

    def credential(self, access_key_id: str) -> Credential | None:
        """The credential of ``access_key_id``, or None."""
        ...
