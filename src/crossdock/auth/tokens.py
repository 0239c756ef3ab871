"""GetAuthorizationToken tokens: issued to a principal, verified on every ``/v2/`` request.

``authorizationToken`` is ``base64("AWS:" + password)``. The password is
``<token id>.<secret>`` (URL-safe base64 and hex: no colon, no whitespace). The database
keeps the token id, a SHA-256 of the secret, the access key that asked for it, the
principal's ARN and the expiry, so any node sharing the database can verify it and no
copy of the database can be replayed as a password.

A token expires 12 hours after issue (``crossdock serve --token-ttl`` can shorten that), or
when the caller's STS session ends if sooner.
Verification returns the access key id (for an expired token too, wrapped in
:class:`ExpiredToken`, once its secret has matched): the ``/v2/`` layer resolves it to the principal
(through the credential resolver, so a deleted key or an ended session stops the token)
and authorizes each request against the policies current at that moment.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum

from crossdock.auth.principal import Principal
from crossdock.storage.registry_store import TokenRecord, TokenStore

TOKEN_LIFETIME = timedelta(hours=12)
_PASSWORD = re.compile(r"([0-9a-f]{32})\.([A-Za-z0-9_-]{43})")
_PURGE_EVERY = 256
_PURGE_GRACE = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token: the ``authorizationToken`` value, its password and expiry."""

    authorization_token: str
    password: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """A verified password: whose it is and until when."""

    access_key_id: str
    principal_arn: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ExpiredToken:
    """A real token past its expiry: its secret matched, so whose it was can be trusted
    (the decision trail records it). It grants nothing (403 ``DENIED`` on ``/v2/``)."""

    grant: TokenGrant
    issued_at: datetime


class TokenRejection(Enum):
    """Why a password does not verify."""

    MALFORMED = "malformed"
    """Not a crossdock password at all (401 on ``/v2/``)."""
    UNKNOWN = "unknown"
    """Well-formed, but no such token or a wrong secret (401)."""


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


class RegistryTokens:
    """Issues and verifies registry passwords over a :class:`TokenStore`.

    Verified tokens are cached in memory (a token never changes once issued; expiry is
    checked on every call), so a warm verification costs one hash and a dict lookup.
    """

    def __init__(
        self, store: TokenStore, cache_size: int = 4096, lifetime: timedelta = TOKEN_LIFETIME
    ) -> None:
        self._store = store
        self._lifetime = lifetime
        self._cache: OrderedDict[str, tuple[TokenGrant, datetime]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._issued = 0

    def issue(self, principal: Principal, now: datetime) -> IssuedToken:
        """A new token for ``principal``, valid for the lifetime or until its session ends."""
        expires = now + self._lifetime
        session = principal.session
        if session is not None and session.expires_at < expires:
            expires = session.expires_at
        token_id = secrets.token_hex(16)
        secret = secrets.token_urlsafe(32)
        self._store.save_token(
            TokenRecord(
                token_id=token_id,
                secret_hash=_hash(secret),
                access_key_id=principal.access_key_id,
                principal_arn=principal.arn,
                issued_at=_epoch(now),
                expires_at=_epoch(expires),
            )
        )
        self._maybe_purge(now)
        password = f"{token_id}.{secret}"
        encoded = base64.b64encode(f"AWS:{password}".encode("ascii")).decode("ascii")
        return IssuedToken(encoded, password, expires)

    def verify_registry_password(
        self, password: str, now: datetime
    ) -> TokenGrant | ExpiredToken | TokenRejection:
        """The grant behind ``password``; :class:`ExpiredToken` when the password is a real
        token (its secret matched) past its expiry; else why it is refused."""
        match = _PASSWORD.fullmatch(password)
        if match is None:
            return TokenRejection.MALFORMED
        token_id, secret = match.groups()
        key = _hash(password)
        # The cache is keyed by the whole password's hash: a hit is a secret already checked.
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
        if cached is None:
            record = self._store.get_token(token_id)
            if record is None or not hmac.compare_digest(record.secret_hash, _hash(secret)):
                return TokenRejection.UNKNOWN
            expires = datetime.fromtimestamp(record.expires_at, UTC)
            grant = TokenGrant(record.access_key_id, record.principal_arn, expires)
            cached = (grant, datetime.fromtimestamp(record.issued_at, UTC))
            with self._lock:
                self._cache[key] = cached
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        grant, issued_at = cached
        if now >= grant.expires_at:
            return ExpiredToken(grant, issued_at)
        return grant

    def verify_basic(
        self, credentials: str, now: datetime
    ) -> TokenGrant | ExpiredToken | TokenRejection:
        """Verify the value of ``Authorization: Basic <credentials>`` (``AWS:<password>``)."""
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("ascii")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return TokenRejection.MALFORMED
        user, _, password = decoded.partition(":")
        if user != "AWS":
            return TokenRejection.MALFORMED
        return self.verify_registry_password(password, now)

    def _maybe_purge(self, now: datetime) -> None:
        with self._lock:
            self._issued += 1
            due = self._issued % _PURGE_EVERY == 0
        if due:
            self._store.purge_tokens(_epoch(now - _PURGE_GRACE))
