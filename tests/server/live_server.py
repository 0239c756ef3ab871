"""A real crossdock API server in a thread (uvicorn on 127.0.0.1, a free port).

``live`` is one server per test session over a temporary data dir. Its clock is real
time plus an offset that tests may move (``live.clock.advance``); botocore's signer reads
the same clock, so requests stay within the allowed skew while sessions expire.
Each test makes its own accounts (``live.new_account()``), so tests stay independent.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import boto3
import botocore.auth
import httpx
import pytest
import uvicorn
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from starlette.responses import JSONResponse, Response

from crossdock.api.app import ApiServices, create_api_app
from crossdock.api.context import CallContext
from crossdock.api.query import QueryProtocol
from crossdock.api.wire import ApiRequest
from crossdock.auth.sigv4 import SigV4Verifier
from crossdock.service.accounts import RootKey
from crossdock.service.errors import ServiceError
from crossdock.service.identities import IdentityComponents, build_identity
from crossdock.storage.data_dir import open_data_dir
from crossdock.storage.identity_store import IdentityStores
from crossdock.storage.sql.identity_stores import sql_identity_stores

REGION = "us-east-1"


@dataclass
class OffsetClock:
    """Real time plus a movable offset (shared by the server and botocore's signer)."""

    offset: timedelta = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


class _NoEcr:
    """The ECR protocol is another vertical: these tests never reach it."""

    def handle(self, ctx: CallContext, request: ApiRequest) -> Response:
        return JSONResponse({"__type": "UnknownOperationException"}, status_code=400)

    def error_response(self, error: ServiceError, request_id: str) -> Response:
        return JSONResponse({"__type": error.code, "message": error.message}, status_code=400)


@dataclass
class LiveServer:
    """A running server and what tests need to drive it."""

    url: str
    identity: IdentityComponents
    stores: IdentityStores
    clock: OffsetClock
    data_dir: Path
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def new_account(self) -> RootKey:
        """A fresh account (unique per test) and its root key."""
        account = f"{900_000_000_000 + next(self._ids) * 1_009:012d}"
        return self.identity.accounts.create_account(account)

    def client(
        self,
        service: str,
        key: RootKey | tuple[str, str] | tuple[str, str, str],
        **config: Any,
    ) -> Any:
        """A boto3 client for ``service`` signed with ``key`` (root key or key tuple)."""
        if isinstance(key, RootKey):
            key = (key.access_key_id, key.secret_access_key)
        token = key[2] if len(key) == 3 else None
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=key[0],
            aws_secret_access_key=key[1],
            aws_session_token=token,
            config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
        )


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def start_live_server(data_dir: Path) -> tuple[LiveServer, Callable[[], None]]:
    """Start a server over ``data_dir``; returns it and the function that stops it."""
    engine, box = open_data_dir(data_dir)
    stores = sql_identity_stores(engine)
    clock = OffsetClock()
    identity = build_identity(stores, box, clock)
    services = ApiServices(
        verifier=SigV4Verifier(identity.resolver, clock),
        ecr=_NoEcr(),
        query=QueryProtocol(identity.iam, identity.sts),
        clock=clock,
        region=REGION,
    )
    sock = _free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_api_app(services),
            log_level="warning",
            lifespan="off",
            ws="none",
            access_log=False,
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    patch = pytest.MonkeyPatch()
    patch.setattr(botocore.auth, "get_current_datetime", lambda: clock().replace(tzinfo=None))
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:  # pragma: no cover - a broken environment
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)
        patch.undo()
        sock.close()
        engine.dispose()

    live = LiveServer(f"http://127.0.0.1:{port}", identity, stores, clock, data_dir)
    return live, stop


def signed_post(
    live: LiveServer,
    service: str,
    body: bytes,
    key: RootKey,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST ``body`` to the live server, signed by botocore's SigV4 signer for ``service``."""
    request = AWSRequest(
        method="POST",
        url=live.url + "/",
        data=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            **(headers or {}),
        },
    )
    SigV4Auth(Credentials(key.access_key_id, key.secret_access_key), service, REGION).add_auth(
        request
    )
    prepared = request.prepare()
    return httpx.post(prepared.url, content=body, headers=dict(prepared.headers.items()))


def xml_error(response: httpx.Response) -> tuple[int, str, str, str]:
    """(status, Type, Code, Message) of a Query protocol error response."""
    root = ElementTree.fromstring(response.content)
    namespace = root.tag.split("}")[0] + "}"
    error = root.find(f"{namespace}Error")
    assert error is not None, response.text
    found = [error.findtext(f"{namespace}{name}") or "" for name in ("Type", "Code", "Message")]
    return response.status_code, found[0], found[1], found[2]
