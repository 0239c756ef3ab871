"""The crossdock exception tree.

Every error crossdock raises on purpose derives from :class:`CrossdockError`::

    CrossdockError
    ├── ArnError                    a string is not a well-formed ARN
    ├── AccountIdError              an account id is not a 12-digit string
    └── PolicyError                 (crossdock.policy) a policy cannot be used
        └── PolicyParseError        a document is not a valid policy; carries a JSON pointer

Errors carry structured fields; their message is one lowercase line naming the
offending input in backticks.
"""

from __future__ import annotations


class CrossdockError(Exception):
    """Root of every error crossdock raises deliberately."""


class ArnError(CrossdockError, ValueError):
    """A string is not a well-formed ARN."""

    def __init__(self, value: str, reason: str) -> None:
        self.value = value
        self.reason = reason
        super().__init__(f"`{value}` is not a valid ARN: {reason}")


class AccountIdError(CrossdockError, ValueError):
    """An AWS account id is not a string of exactly 12 digits."""

    def __init__(self, value: str) -> None:
        self.value = value
        super().__init__(f"`{value}` is not a valid account id: use exactly 12 digits")
