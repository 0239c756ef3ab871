"""An in-process crossdock with the decision trail on, driven over its real protocols.

``build_trail_world`` wires ``build_server`` over a temp data dir with a movable clock,
applies the walkthrough scenario and sends requests through the ASGI app: ECR API calls
signed by botocore's SigV4 signer (its clock patched to the server's), and ``/v2/``
requests with registry passwords from GetAuthorizationToken.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import botocore.auth
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from crossdock.api.compose import Server, build_server
from crossdock.api.scenario import apply_scenario_file
from crossdock.service.trail import TrailEvent, TrailReader
from crossdock.settings import Settings
from crossdock.storage.trail_files import trail_dir

ROOT = Path(__file__).resolve().parents[2]
WALKTHROUGH = ROOT / "examples" / "cross-account-walkthrough.yaml"
REGION = "us-east-1"
HOST = "127.0.0.1:5000"
CLIENT_IP = "198.51.100.7"
START = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)
OWNER, CONSUMER, OTHER = "111111111111", "222222222222", "333333333333"
KEYS = {
    "owner": ("AKIAOWNER00000000001", "owner-secret-owner-secret-owner-secret00"),
    "puller": ("AKIAPULLER0000000001", "puller-secret-puller-secret-puller-secret"),
    "mallory": ("AKIAMALLORY000000001", "mallory-secret-mallory-secret-mallory-se"),
}
ECR_TARGET = "AmazonEC2ContainerRegistry_V20150921."
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@dataclass(frozen=True)
class Pushed:
    """What :meth:`TrailWorld.push` pushed."""

    manifest_digest: str
    layer_digest: str


@dataclass
class MovableClock:
    """A fixed time that tests move on."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class TrailWorld:
    """The server, its clock and helpers that act as the walkthrough's principals."""

    server: Server
    clock: MovableClock
    data_dir: Path

    @property
    def trail_dir(self) -> Path:
        return trail_dir(self.data_dir)

    def _send(self, method: str, url: str, headers: dict[str, str], body: bytes) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.server.app, client=(CLIENT_IP, 50123))
            async with httpx.AsyncClient(transport=transport) as client:
                return await client.request(method, url, headers=headers, content=body)

        return asyncio.run(send())

    def ecr(self, who: str, operation: str, params: dict[str, Any]) -> httpx.Response:
        """An ECR JSON 1.1 call signed with ``who``'s keys."""
        body = json.dumps(params).encode()
        request = AWSRequest(
            method="POST",
            url=f"http://{HOST}/",
            data=body,
            headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": ECR_TARGET + operation,
                "User-Agent": "trail-test/1.0",
            },
        )
        SigV4Auth(Credentials(*KEYS[who]), "ecr", REGION).add_auth(request)
        prepared = request.prepare()
        return self._send("POST", prepared.url, dict(prepared.headers.items()), body)

    def query(self, who: str, service: str, params: dict[str, str]) -> httpx.Response:
        """An IAM or STS Query call signed with ``who``'s keys (or a ``(key, secret)``)."""
        body = urlencode(params).encode()
        request = AWSRequest(
            method="POST",
            url=f"http://{HOST}/",
            data=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                "User-Agent": "trail-test/1.0",
            },
        )
        SigV4Auth(Credentials(*KEYS[who]), service, REGION).add_auth(request)
        prepared = request.prepare()
        return self._send("POST", prepared.url, dict(prepared.headers.items()), body)

    def password(self, who: str, registry_id: str = OWNER) -> str:
        """A registry password from GetAuthorizationToken over the API."""
        response = self.ecr(who, "GetAuthorizationToken", {"registryIds": [registry_id]})
        assert response.status_code == 200, response.text
        token = response.json()["authorizationData"][0]["authorizationToken"]
        return base64.b64decode(token).decode().removeprefix("AWS:")

    def v2(
        self,
        method: str,
        path: str,
        password: str,
        body: bytes = b"",
        content_type: str | None = None,
    ) -> httpx.Response:
        """A ``/v2/`` request with ``AWS:<password>`` Basic credentials."""
        basic = base64.b64encode(f"AWS:{password}".encode()).decode()
        headers = {"Authorization": f"Basic {basic}", "User-Agent": "skopeo/1.9.3"}
        if content_type is not None:
            headers["Content-Type"] = content_type
        return self._send(method, f"http://{HOST}{path}", headers, body)

    def push(self, password: str, repository: str = f"{OWNER}/example") -> Pushed:
        """Push a one-layer OCI image as ``repository:latest`` over ``/v2/``."""
        config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
        layer = b"trail layer bytes"
        blobs: list[dict[str, Any]] = []
        for data in (config, layer):
            digest = "sha256:" + hashlib.sha256(data).hexdigest()
            path = f"/v2/{repository}/blobs/uploads/?digest={digest}"
            response = self.v2("POST", path, password, data, "application/octet-stream")
            assert response.status_code == 201, response.text
            blobs.append({"digest": digest, "size": len(data)})
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {**blobs[0], "mediaType": "application/vnd.oci.image.config.v1+json"},
                "layers": [{**blobs[1], "mediaType": "application/vnd.oci.image.layer.v1.tar"}],
            }
        ).encode()
        path = f"/v2/{repository}/manifests/latest"
        response = self.v2("PUT", path, password, manifest, OCI_MANIFEST)
        assert response.status_code == 201, response.text
        return Pushed("sha256:" + hashlib.sha256(manifest).hexdigest(), str(blobs[1]["digest"]))

    def events(self) -> list[TrailEvent]:
        """Everything written so far, after writing out what is queued."""
        assert self.server.trail is not None
        self.server.trail.flush()
        return TrailReader(self.trail_dir).query()


def build_trail_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TrailWorld:
    """A fresh server with the walkthrough applied; the trail writer's thread is not
    started, so tests write the queue out themselves (``events``)."""
    clock = MovableClock()
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: clock().replace(tzinfo=None))
    data_dir = tmp_path / "data"
    server = build_server(Settings(data_dir=data_dir, trail=True), clock)
    assert server.trail is not None
    server.trail.close()  # no thread: ``events`` writes the queue out in the test's thread
    apply_scenario_file(server, WALKTHROUGH, REGION)
    return TrailWorld(server, clock, data_dir)
