"""A real crossdock API server (uvicorn in a thread, 127.0.0.1, a free port) driven by boto3.

Credentials are real SigV4: a small in-memory CredentialResolver holds a secret per access
key, and botocore signs every request.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import uvicorn
from botocore.config import Config
from ecr_world import REGION, World, build_world
from starlette.responses import Response

from crossdock.api.app import ApiServices, create_api_app
from crossdock.api.context import CallContext
from crossdock.api.ecr.protocol import EcrProtocol
from crossdock.api.wire import ApiRequest
from crossdock.auth.credentials import Credential, CredentialResolver
from crossdock.auth.principal import Principal
from crossdock.auth.sigv4 import SigV4Verifier
from crossdock.service.ecr.addressing import RegistryAddressing
from crossdock.service.errors import ServiceError


@dataclass
class MemoryCredentials:
    """A CredentialResolver over a dict."""

    keys: dict[str, Credential] = field(default_factory=dict)

    def credential(self, access_key_id: str) -> Credential | None:
        return self.keys.get(access_key_id)


class NoQuery:
    """The Query protocol slot, unused by the ECR tests."""

    def handle(self, ctx: CallContext, request: ApiRequest) -> Response:
        return Response("not here", status_code=400)

    def error_response(self, error: ServiceError, request_id: str) -> Response:
        return Response(error.message, status_code=400)


@dataclass
class EcrServer:
    """The running server, its world, and a way to get boto3 clients for principals."""

    world: World
    url: str
    credentials: MemoryCredentials
    protocol: EcrProtocol

    def client(self, principal: Principal, *, retries: int = 1) -> Any:
        """A boto3 ECR client signing as ``principal``."""
        secret = secrets.token_urlsafe(30)
        self.credentials.keys[principal.access_key_id] = Credential(
            principal.access_key_id, secret, principal
        )
        return boto3.session.Session().client(
            "ecr",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=principal.access_key_id,
            aws_secret_access_key=secret,
            config=Config(retries={"max_attempts": retries, "mode": "standard"}),
        )


@contextmanager
def serving(
    protocol: EcrProtocol, resolver: CredentialResolver, sock: socket.socket
) -> Iterator[str]:
    """Serve ``protocol`` on the bound ``sock`` (uvicorn in a thread); yield the base URL."""
    services = ApiServices(
        verifier=SigV4Verifier(resolver, lambda: datetime.now(UTC)),
        ecr=protocol,
        query=NoQuery(),
        clock=lambda: datetime.now(UTC),
        region=REGION,
    )
    config = uvicorn.Config(
        create_api_app(services), log_level="warning", lifespan="off", ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:  # pragma: no cover - startup failure
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def free_socket() -> socket.socket:
    """A listening-ready TCP socket bound to a free port on 127.0.0.1."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def running_server(tmp_path: Path) -> Iterator[EcrServer]:
    """Start the server on a free port with in-memory credentials; stop it on exit."""
    sock = free_socket()
    port = sock.getsockname()[1]
    world = build_world(tmp_path, RegistryAddressing("127.0.0.1", port))
    credentials = MemoryCredentials()
    protocol = EcrProtocol(world.services)
    try:
        with serving(protocol, credentials, sock) as url:
            yield EcrServer(world, url, credentials, protocol)
    finally:
        world.engine.dispose()
