"""Authentication failures as AWS JSON services (ECR) spell them: HTTP 400 and ``__type``."""

from __future__ import annotations

import pytest

from crossdock.api.ecr_auth_errors import json_auth_error
from crossdock.service.errors import AuthenticationError

SIGNATURE_TEXT = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        (
            "InvalidClientTokenId",
            "ignored",
            (
                400,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ),
        ),
        (
            "SignatureDoesNotMatch",
            SIGNATURE_TEXT,
            (400, "InvalidSignatureException", SIGNATURE_TEXT),
        ),
        (
            "RequestTimeTooSkewed",
            "Signature expired: 20240101T000000Z is now earlier than 20240101T000500Z"
            " (20240101T001000Z - 5 min.)",
            (
                400,
                "InvalidSignatureException",
                "Signature expired: 20240101T000000Z is now earlier than 20240101T000500Z"
                " (20240101T001000Z - 5 min.)",
            ),
        ),
        (
            "ExpiredToken",
            "ignored",
            (400, "ExpiredTokenException", "The security token included in the request is expired"),
        ),
        (
            "MissingAuthenticationToken",
            "ignored",
            (400, "MissingAuthenticationTokenException", "Request is missing Authentication Token"),
        ),
        (
            "IncompleteSignature",
            "Authorization header requires 'Signature' parameter.",
            (
                400,
                "IncompleteSignatureException",
                "Authorization header requires 'Signature' parameter.",
            ),
        ),
        (
            "SomethingNew",
            "odd",
            (400, "UnrecognizedClientException", "odd"),
        ),
    ],
)
def test_json_spelling(code: str, message: str, expected: tuple[int, str, str]) -> None:
    assert json_auth_error(AuthenticationError(message, code=code)) == expected
