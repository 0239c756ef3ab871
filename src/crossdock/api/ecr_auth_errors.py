"""How authentication failures look on AWS JSON protocols (ECR): one function.

``(AuthenticationError) -> (HTTP status, __type, message)``. JSON services answer every
authentication failure with HTTP 400 (captured ECR, Cognito and DynamoDB replies):
UnrecognizedClientException ``The security token included in the request is invalid.``,
InvalidSignatureException (signature mismatch text; also clock skew, as
``Signature expired: 20240101T000000Z is now earlier than ... (... - 5 min.)``),
ExpiredTokenException ``The security token included in the request is expired``,
MissingAuthenticationTokenException ``Request is missing Authentication Token`` and
IncompleteSignatureException. Sources are listed in ``docs/security.md``.
"""

from __future__ import annotations

from crossdock.auth.sigv4 import (
    EXPIRED_TOKEN_MESSAGE,
    INVALID_KEY_MESSAGE,
    MISMATCH_MESSAGE,
    MISSING_MESSAGE,
)
from crossdock.service.errors import AuthenticationError

# generic code → (__type, fixed message or None to keep the error's own message)
_JSON_AUTH_ERRORS: dict[str, tuple[str, str | None]] = {
    "InvalidClientTokenId": ("UnrecognizedClientException", INVALID_KEY_MESSAGE),
    "SignatureDoesNotMatch": ("InvalidSignatureException", None),
    "RequestTimeTooSkewed": ("InvalidSignatureException", None),
    "ExpiredToken": ("ExpiredTokenException", EXPIRED_TOKEN_MESSAGE),
    "MissingAuthenticationToken": ("MissingAuthenticationTokenException", MISSING_MESSAGE),
    "IncompleteSignature": ("IncompleteSignatureException", None),
}


def json_auth_error(error: AuthenticationError) -> tuple[int, str, str]:
    """``(status, __type, message)`` of an authentication failure on a JSON protocol."""
    kind, message = _JSON_AUTH_ERRORS.get(error.code, ("UnrecognizedClientException", None))
    if message is None:
        message = error.message or MISMATCH_MESSAGE
    return 400, kind, message
