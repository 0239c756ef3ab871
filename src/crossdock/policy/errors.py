"""Errors raised by the policy engine."""

from __future__ import annotations

from dataclasses import dataclass

from crossdock.core.errors import CrossdockError


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a document is not a valid policy.

    ``pointer`` is an RFC 6901 JSON pointer into the document (``""`` is the whole
    document); ``code`` is a stable finding code shared with the linter.
    """

    code: str
    message: str
    pointer: str


class PolicyError(CrossdockError):
    """A policy or a simulation case cannot be used."""


class PolicyParseError(PolicyError, ValueError):
    """A document is not a valid IAM policy.

    ``pointer`` locates the first problem; ``problems`` lists every problem found.
    """

    def __init__(self, problems: tuple[Problem, ...]) -> None:
        first = problems[0]
        self.problems = problems
        self.pointer = first.pointer
        self.code = first.code
        where = first.pointer or "/"
        super().__init__(f"{first.message} (at `{where}`)")


class CaseError(PolicyError, ValueError):
    """A simulation case is malformed; ``pointer`` locates the problem in the case."""

    def __init__(self, message: str, pointer: str) -> None:
        self.pointer = pointer
        super().__init__(f"{message} (at `{pointer or '/'}`)")
