"""The ECR error table: every ServiceError → HTTP status + ``{"__type", "message"}``.

This is the only place that decides ECR's wire form of an error. ``__type`` is the ECR
exception name: a service error's ``code`` plus ``Exception`` (``RepositoryNotFound`` →
``RepositoryNotFoundException``), except for the codes renamed in :data:`RENAMED`.
Authentication errors are rendered by :mod:`crossdock.api.ecr_auth_errors`. Every client
fault is HTTP 400 (AccessDeniedException too); only ServerException is 500.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from starlette.responses import Response

from crossdock.api.ecr_auth_errors import json_auth_error
from crossdock.service.ecr.errors import InvalidLayerPartError
from crossdock.service.errors import AuthenticationError, ServiceError

CONTENT_TYPE = "application/x-amz-json-1.1"

RENAMED = MappingProxyType(
    {
        "AccessDenied": "AccessDeniedException",
        "InvalidParameter": "InvalidParameterException",
        "MalformedPolicyDocument": "InvalidParameterException",
        "NotFound": "InvalidParameterException",
        "AlreadyExists": "InvalidParameterException",
        "Conflict": "InvalidParameterException",
        "ServiceError": "ServerException",
        "SerializationException": "SerializationException",
        "UnknownOperationException": "UnknownOperationException",
        "UnsupportedOperation": "UnsupportedOperationException",
    }
)
"""Codes whose ECR name is not ``<code>Exception``."""


@dataclass(frozen=True, slots=True)
class WireError:
    """An error as the ECR API sends it."""

    status: int
    type: str
    message: str
    extra: dict[str, Any]

    def body(self) -> dict[str, Any]:
        """The JSON body: ``__type``, ``message`` and any modeled extra members."""
        return {"__type": self.type, "message": self.message, **self.extra}


def wire_error(error: ServiceError) -> WireError:
    """The ECR wire form of ``error``."""
    if isinstance(error, AuthenticationError):
        status, type_, message = json_auth_error(error)
        return WireError(status, type_, message, {})
    code = error.code
    type_ = RENAMED.get(code) or (code if code.endswith("Exception") else f"{code}Exception")
    extra: dict[str, Any] = {}
    if isinstance(error, InvalidLayerPartError):
        extra = {
            "registryId": error.registry_id,
            "repositoryName": error.name,
            "uploadId": error.upload_id,
            "lastValidByteReceived": max(error.last_valid_byte_received, 0),
        }
    status = 500 if type_ == "ServerException" else 400
    return WireError(status, type_, error.message, extra)


def server_error() -> WireError:
    """The answer to an unexpected failure (details go to the log, not the client)."""
    return WireError(500, "ServerException", "An internal error occurred in crossdock", {})


def json_response(status: int, body: dict[str, Any], request_id: str) -> Response:
    """An ECR JSON response with the standard headers."""
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type=CONTENT_TYPE,
        headers={"x-amzn-RequestId": request_id},
    )


def error_response(error: WireError, request_id: str) -> Response:
    """An error response."""
    return json_response(error.status, error.body(), request_id)
