"""The seam between the ASGI app and each AWS protocol."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from starlette.responses import Response

from crossdock.api.context import CallContext
from crossdock.service.errors import ServiceError
from crossdock.storage.errors import StorageUnavailableError


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """A signed AWS API request after authentication."""

    headers: Mapping[str, str]
    """Lower-cased header names."""
    body: bytes
    service: str
    """The SigV4 credential-scope service (``ecr``, ``iam``, ``sts``)."""
    region: str


class WireProtocol(Protocol):
    """One AWS protocol: how requests are read and answers and errors are written."""

    def handle(self, ctx: CallContext, request: ApiRequest) -> Response:
        """Run the operation the request names and render its answer (or its error)."""
        ...

    def error_response(self, error: ServiceError, request_id: str) -> Response:
        """Render an error raised before the operation ran (authentication, size, ...)."""
        ...

    def unavailable_response(self, error: StorageUnavailableError, request_id: str) -> Response:
        """Render "a backing service is unreachable" (a temporary fault, with Retry-After)."""
        ...
