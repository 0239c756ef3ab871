"""The composition root: ``create_app`` wires settings, stores, services and protocols.

Nothing is built at import time. One port serves everything; dispatch is on the request:

* ``GET /healthz``;
* ``POST /`` with ``X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Op>`` → ECR (JSON 1.1);
* ``POST /`` with a form body → IAM or STS (Query), told apart by the SigV4 credential scope.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from crossdock.api.context import CallContext
from crossdock.api.ecr.operations import INLINE_OPERATIONS
from crossdock.api.v2.context import RegistryServices
from crossdock.api.v2.routes import v2_routes
from crossdock.api.wire import ApiRequest, WireProtocol
from crossdock.auth.sigv4 import SignedRequest, SigV4Verifier
from crossdock.service.authz import RequestInfo
from crossdock.service.errors import AuthenticationError, InvalidParameterError, ServiceError
from crossdock.storage.errors import StorageUnavailableError

ECR_TARGET_PREFIX = "AmazonEC2ContainerRegistry_V20150921."
MAX_API_BODY = 32 * 1024 * 1024
"""UploadLayerPart carries up to 20 MiB, base64-encoded inside JSON."""


@dataclass(frozen=True, slots=True)
class ApiServices:
    """What the AWS API endpoint needs: the verifier and one handler per protocol."""

    verifier: SigV4Verifier
    ecr: WireProtocol
    query: WireProtocol
    clock: Callable[[], datetime]
    region: str
    registry: RegistryServices | None = None
    """The ``/v2/`` data plane; None serves the AWS APIs alone."""


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise InvalidParameterError(f"the request body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise InvalidParameterError(f"the request body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _signed_request(request: Request, body: bytes) -> SignedRequest:
    return SignedRequest(
        method=request.method,
        path=request.scope.get("raw_path", b"/").decode("latin-1") or "/",
        query_string=request.scope.get("query_string", b"").decode("latin-1"),
        headers=tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw),
        body=body,
    )


def aws_endpoint(services: ApiServices) -> Callable[[Request], Awaitable[Response]]:
    """The ``POST /`` handler for every AWS API call."""

    def verify_and_handle(
        request: Request, protocol: WireProtocol, signed: SignedRequest, request_id: str
    ) -> Response:
        # Verification and the operation share one worker-thread hop (or none, for the
        # short INLINE_OPERATIONS): each hop costs two cross-thread wake-ups.
        try:
            verified = services.verifier.verify(signed)
        except (AuthenticationError, InvalidParameterError) as error:
            return protocol.error_response(error, request_id)
        except StorageUnavailableError as error:  # the credential lookup needs the database
            return protocol.unavailable_response(error, request_id)
        client = request.client
        info = RequestInfo(
            source_ip=client.host if client else "127.0.0.1",
            secure_transport=request.url.scheme == "https",
            user_agent=request.headers.get("user-agent", ""),
            now=services.clock(),
            region=verified.region,
        )
        ctx = CallContext(verified.principal, info, request_id)
        headers = {k.lower(): v for k, v in request.headers.items()}
        api_request = ApiRequest(headers, signed.body, verified.service, verified.region)
        try:
            return protocol.handle(ctx, api_request)
        except ServiceError as error:
            return protocol.error_response(error, request_id)

    async def endpoint(request: Request) -> Response:
        request_id = str(uuid.uuid4())
        target = request.headers.get("x-amz-target", "")
        is_ecr = target.startswith(ECR_TARGET_PREFIX)
        protocol = services.ecr if is_ecr else services.query
        try:
            body = await _read_body(request, MAX_API_BODY)
        except InvalidParameterError as error:
            return protocol.error_response(error, request_id)
        signed = _signed_request(request, body)
        if is_ecr and target[len(ECR_TARGET_PREFIX) :] in INLINE_OPERATIONS:
            return verify_and_handle(request, protocol, signed, request_id)
        return await run_in_threadpool(verify_and_handle, request, protocol, signed, request_id)

    return endpoint


async def healthz(request: Request) -> Response:
    """Liveness: 200 while the process serves."""
    return PlainTextResponse("ok\n")


def create_api_app(services: ApiServices) -> Starlette:
    """The ASGI application over already-built services."""
    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/", aws_endpoint(services), methods=["POST"]),
    ]
    if services.registry is not None:
        routes.extend(v2_routes(services.registry))
    return Starlette(routes=routes)
