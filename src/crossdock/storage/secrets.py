"""Secrets at rest: sealed access-key secrets and hashed session tokens.

Secret access keys must be recoverable (the server recomputes SigV4 signatures with
them), so they are sealed with Fernet (AES-128-CBC + HMAC-SHA256) under a key that lives
in a file next to the database, never inside it: a copy of the database alone reveals no
secret. Session tokens and registry-token passwords only need to be compared, so they are
stored as SHA-256 hashes.

The key file is created on first use with mode 0600, atomically (written to a temporary
name, then hard-linked into place), so a CLI and a server starting together on the same
data dir agree on one key.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from crossdock.core.errors import CrossdockError

KEY_FILE_NAME = "secret.key"


class SecretBoxError(CrossdockError):
    """A sealed secret cannot be opened (wrong key file) or the key file is unusable."""


class SecretBox:
    """Seals and opens short secrets with one Fernet key."""

    __slots__ = ("_fernet",)

    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError) as error:
            raise SecretBoxError("the secret key is not a valid Fernet key") from error

    @classmethod
    def generate(cls) -> SecretBox:
        """A box with a fresh random key (tests, throwaway stores)."""
        return cls(Fernet.generate_key())

    @classmethod
    def from_key_file(cls, path: Path) -> SecretBox:
        """Load the key at ``path``, creating it (mode 0600) when it does not exist."""
        return cls(_load_or_create_key(path))

    def seal(self, secret: str) -> str:
        """The sealed (encrypted and authenticated) form of ``secret``, as ASCII text."""
        return self._fernet.encrypt(secret.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        """The secret that :meth:`seal` sealed; SecretBoxError under another key."""
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError) as error:
            raise SecretBoxError(
                "a stored secret cannot be opened: the key file does not match the database"
            ) from error


def token_hash(token: str) -> str:
    """The SHA-256 hex digest under which a session token or password is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _load_or_create_key(path: Path) -> bytes:
    for _ in range(50):
        with contextlib.suppress(FileNotFoundError):
            key = path.read_bytes().strip()
            if key:
                return key
        if not path.exists():
            _create_key(path)
    raise SecretBoxError(f"the key file `{path}` is empty: delete it or restore it")


def _create_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(descriptor, Fernet.generate_key() + b"\n")
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass  # another process won the race: use its key
    finally:
        temporary.unlink(missing_ok=True)
