"""Domain errors of the services. The api layer maps each to its wire form in one table.

    CrossdockError
    └── ServiceError                     a request cannot be carried out
        ├── AccessDeniedError            the policy engine said no (carries the Decision)
        ├── AuthenticationError          the caller could not be authenticated (SigV4, tokens)
        ├── InvalidParameterError        an input fails its constraint
        ├── NotFoundError                a named thing does not exist
        ├── AlreadyExistsError           a named thing exists already
        ├── ConflictError                the state forbids it (not empty, in use, limit reached)
        └── MalformedPolicyError         a policy document is invalid

Each protocol's error table decides codes, HTTP status and message text; services only
say what went wrong, with structured fields.
"""

from __future__ import annotations

from crossdock.core.errors import CrossdockError
from crossdock.policy.decide import Decision


class ServiceError(CrossdockError):
    """A request cannot be carried out. ``code`` is the AWS error code on the wire."""

    code = "ServiceError"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class AccessDeniedError(ServiceError):
    """The policy engine denied the request; the message is AWS's AccessDenied text."""

    code = "AccessDenied"

    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        super().__init__(decision.message or "Access denied")


class AuthenticationError(ServiceError):
    """The request's credentials are missing, unknown, expired or do not verify.

    ``code`` is the generic AWS name (``InvalidClientTokenId``, ``SignatureDoesNotMatch``,
    ``ExpiredToken``, ``RequestTimeTooSkewed``, ``MissingAuthenticationToken``,
    ``IncompleteSignature``); each protocol renames it in its error table.
    """


class InvalidParameterError(ServiceError):
    """An input fails its constraint (AWS ``InvalidParameterException`` / ``InvalidInput``)."""

    code = "InvalidParameter"


class NotFoundError(ServiceError):
    """A named thing does not exist; ``code`` says which (``RepositoryNotFound``, ...)."""

    code = "NotFound"


class AlreadyExistsError(ServiceError):
    """A named thing exists already."""

    code = "AlreadyExists"


class ConflictError(ServiceError):
    """The current state forbids the request (not empty, in use, over a limit)."""

    code = "Conflict"


class MalformedPolicyError(ServiceError):
    """A policy document is invalid; the message says why and where."""

    code = "MalformedPolicyDocument"
