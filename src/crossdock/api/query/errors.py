"""The Query protocol's one error table: ServiceError → (code, HTTP status, message), XML.

Authentication failures use AWS's Query spelling and texts (captured IAM and STS replies,
see ``docs/security.md``): InvalidClientTokenId 403, SignatureDoesNotMatch 403 (also for
clock skew, with the ``Signature expired: ...`` text), ExpiredToken 403,
MissingAuthenticationToken 403 ``Request is missing Authentication Token``,
IncompleteSignature 400. IAM's codes keep the statuses of the botocore model; a policy
denial is ``AccessDenied`` 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

from starlette.responses import Response

from crossdock.auth.sigv4 import (
    EXPIRED_TOKEN_MESSAGE,
    INVALID_KEY_MESSAGE,
    MISSING_MESSAGE,
)
from crossdock.service.errors import (
    AccessDeniedError,
    AlreadyExistsError,
    AuthenticationError,
    ConflictError,
    MalformedPolicyError,
    NotFoundError,
    ServiceError,
)

IAM_NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/"
STS_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"
INTERNAL_FAILURE = "InternalFailure"


@dataclass(frozen=True, slots=True)
class WireError:
    """An error as the Query protocol writes it."""

    code: str
    status: int
    message: str

    @property
    def fault(self) -> str:
        """``Sender`` for a client fault, ``Receiver`` for a server fault."""
        return "Sender" if self.status < 500 else "Receiver"


# error code → (wire code, HTTP status, fixed message or None to keep the error's own)
_TABLE: dict[str, tuple[str, int, str | None]] = {
    "AccessDenied": ("AccessDenied", 403, None),
    # authentication (the generic codes of crossdock.auth.sigv4)
    "MissingAuthenticationToken": ("MissingAuthenticationToken", 403, MISSING_MESSAGE),
    "IncompleteSignature": ("IncompleteSignature", 400, None),
    "InvalidClientTokenId": ("InvalidClientTokenId", 403, INVALID_KEY_MESSAGE),
    "SignatureDoesNotMatch": ("SignatureDoesNotMatch", 403, None),
    "RequestTimeTooSkewed": ("SignatureDoesNotMatch", 403, None),
    "ExpiredToken": ("ExpiredToken", 403, EXPIRED_TOKEN_MESSAGE),
    # IAM (statuses from the botocore model)
    "NoSuchEntity": ("NoSuchEntity", 404, None),
    "EntityAlreadyExists": ("EntityAlreadyExists", 409, None),
    "LimitExceeded": ("LimitExceeded", 409, None),
    "DeleteConflict": ("DeleteConflict", 409, None),
    "MalformedPolicyDocument": ("MalformedPolicyDocument", 400, None),
    "InvalidInput": ("InvalidInput", 400, None),
    "ValidationError": ("ValidationError", 400, None),
    # STS
    "PackedPolicyTooLarge": ("PackedPolicyTooLarge", 400, None),
    # the protocol itself
    "InvalidAction": ("InvalidAction", 400, None),
    "MissingAction": ("MissingAction", 400, None),
    "MalformedQueryString": ("MalformedQueryString", 400, None),
    "InvalidParameter": ("ValidationError", 400, None),
    INTERNAL_FAILURE: (
        INTERNAL_FAILURE,
        500,
        "We encountered an internal error. Please try again.",
    ),
}

_BY_CLASS: tuple[tuple[type[ServiceError], str], ...] = (
    (AccessDeniedError, "AccessDenied"),
    (NotFoundError, "NoSuchEntity"),
    (AlreadyExistsError, "EntityAlreadyExists"),
    (ConflictError, "LimitExceeded"),
    (MalformedPolicyError, "MalformedPolicyDocument"),
    (AuthenticationError, "InvalidClientTokenId"),
)


def wire_error(error: ServiceError) -> WireError:
    """The code, status and message of ``error`` on the Query protocol."""
    row = _TABLE.get(error.code)
    if row is None:
        fallback = next((code for kind, code in _BY_CLASS if isinstance(error, kind)), None)
        row = _TABLE.get(fallback or "", (error.code, 400, None))
    code, status, message = row
    return WireError(code, status, message if message is not None else error.message)


def error_body(wire: WireError, namespace: str, request_id: str) -> str:
    """``<ErrorResponse>`` as IAM and STS write it."""
    return (
        f'<ErrorResponse xmlns="{namespace}">'
        f"<Error><Type>{wire.fault}</Type><Code>{escape(wire.code)}</Code>"
        f"<Message>{escape(wire.message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )


def xml_response(body: str, status: int, request_id: str) -> Response:
    """A ``text/xml`` response carrying ``x-amzn-RequestId``."""
    return Response(
        content=body,
        status_code=status,
        media_type="text/xml",
        headers={"x-amzn-RequestId": request_id},
    )


def error_response(error: ServiceError, namespace: str, request_id: str) -> Response:
    """The XML error response for ``error``."""
    wire = wire_error(error)
    return xml_response(error_body(wire, namespace, request_id), wire.status, request_id)
