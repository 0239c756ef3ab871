"""The one error the access tools raise for bad input: what is wrong and what to do."""

from __future__ import annotations

from crossdock.core.errors import CrossdockError


class AccessInputError(CrossdockError, ValueError):
    """An unknown or malformed repository, principal, account or action.

    The message is one line: what is wrong, then what to do about it.
    """

    def __init__(self, problem: str, hint: str) -> None:
        self.problem = problem
        self.hint = hint
        super().__init__(f"{problem}: {hint}")
