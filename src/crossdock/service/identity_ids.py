"""AWS-style identifiers and secrets, from the operating system's CSPRNG.

Unique ids: a four-letter prefix (``AIDA`` user, ``AROA`` role, ``AGPA`` group, ``ANPA``
managed policy) and 17 upper-case alphanumerics. Access key ids: ``AKIA`` (long-term) or
``ASIA`` (temporary) and 16 upper-case alphanumerics. Secret access keys: 40 characters
of the base64 alphabet, as AWS issues them.
"""

from __future__ import annotations

import base64
import secrets
import string

USER_PREFIX = "AIDA"
ROLE_PREFIX = "AROA"
GROUP_PREFIX = "AGPA"
POLICY_PREFIX = "ANPA"
LONG_TERM_KEY_PREFIX = "AKIA"
TEMPORARY_KEY_PREFIX = "ASIA"

_UPPER_ALNUM = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def new_unique_id(prefix: str) -> str:
    """A unique id such as ``AIDA`` + 17 upper-case alphanumerics."""
    return prefix + _random(_UPPER_ALNUM, 17)


def new_access_key_id(prefix: str = LONG_TERM_KEY_PREFIX) -> str:
    """An access key id: ``AKIA`` or ``ASIA`` + 16 upper-case alphanumerics."""
    return prefix + _random(_UPPER_ALNUM, 16)


def new_secret_access_key() -> str:
    """A 40-character secret access key."""
    return _random(_SECRET_ALPHABET, 40)


def new_session_token() -> str:
    """An opaque session token (base64 of 192 random bytes, 256 characters)."""
    return base64.b64encode(secrets.token_bytes(192)).decode("ascii")


def new_org_suffix(length: int) -> str:
    """Lower-case alphanumerics for Organizations ids (``o-``, ``r-``, ``ou-``, ``p-``)."""
    return _random(string.ascii_lowercase + string.digits, length)
