"""A whole crossdock (``build_server``, the walkthrough scenario) served by uvicorn in a
thread on 127.0.0.1, for boto3; images are pushed in-process so their push time can lie
in the past."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import uvicorn
from botocore.config import Config

from crossdock.api.compose import Server, build_server
from crossdock.api.scenario import apply_scenario_file
from crossdock.oci import mediatypes
from crossdock.oci.digest import Digest
from crossdock.service.authz import RequestInfo
from crossdock.service.ecr.common import Actor, RepositoryRef
from crossdock.service.ecr.layers import OCI_RULES
from crossdock.service.ecr.lifecycle_runner import LifecycleRunner
from crossdock.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
WALKTHROUGH = ROOT / "examples" / "cross-account-walkthrough.yaml"
REGION = "us-east-1"
OWNER = "111111111111"
KEYS = {
    "owner": ("AKIAOWNER00000000001", "owner-secret-owner-secret-owner-secret00"),
    "puller": ("AKIAPULLER0000000001", "puller-secret-puller-secret-puller-secret"),
    "mallory": ("AKIAMALLORY000000001", "mallory-secret-mallory-secret-mallory-se"),
}


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class LifecycleServer:
    """The server, its URL, and helpers acting as the walkthrough's principals."""

    server: Server
    url: str
    manifests: dict[str, bytes] = field(default_factory=dict)
    """Every manifest pushed, by digest."""

    def client(self, who: str = "owner") -> Any:
        """A boto3 ECR client signing as ``who`` (owner, puller or mallory)."""
        key, secret = KEYS[who]
        return boto3.session.Session().client(
            "ecr",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        )

    def actor(self, when: datetime) -> Actor:
        """The owner's root user, acting at ``when``."""
        credential = self.server.identity.resolver.credential(KEYS["owner"][0])
        assert credential is not None
        return Actor(credential.principal, RequestInfo("127.0.0.1", False, "pytest", when, REGION))

    def push(self, repository: str, seed: str, tags: list[str] | None, days_ago: float = 0) -> str:
        """Push a small image with ``tags`` as the owner, ``days_ago`` days ago; its digest."""
        actor = self.actor(_now() - timedelta(days=days_ago))
        ref = RepositoryRef(OWNER, REGION, repository)
        config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed}).encode()
        layer = f"layer of {seed}".encode()
        for data in (config, layer):
            layers = self.server.ecr.layers
            upload = layers.initiate(actor, ref)
            layers.upload_part(actor, ref, upload.upload_id, 0, [data])
            layers.complete(actor, ref, upload.upload_id, [str(Digest.of(data))], OCI_RULES)
        manifest = {
            "schemaVersion": 2,
            "mediaType": mediatypes.OCI_MANIFEST,
            "config": _descriptor(mediatypes.OCI_CONFIG, config),
            "layers": [_descriptor(mediatypes.OCI_LAYER, layer)],
        }
        return self._put(actor, ref, json.dumps(manifest).encode(), tags)

    def push_index(
        self, repository: str, children: list[str], tag: str, days_ago: float = 0
    ) -> str:
        """Push an OCI index over pushed images ``children`` (digests); its digest."""
        actor = self.actor(_now() - timedelta(days=days_ago))
        ref = RepositoryRef(OWNER, REGION, repository)
        index = {
            "schemaVersion": 2,
            "mediaType": mediatypes.OCI_INDEX,
            "manifests": [
                {
                    **_descriptor(mediatypes.OCI_MANIFEST, self.manifests[child]),
                    "platform": {"os": "linux", "architecture": "amd64"},
                }
                for child in children
            ],
        }
        return self._put(actor, ref, json.dumps(index).encode(), [tag])

    def _put(self, actor: Actor, ref: RepositoryRef, body: bytes, tags: list[str] | None) -> str:
        images = self.server.ecr.images
        for tag in tags or [None]:
            images.put_image(actor, ref, body, None, tag)
        digest = str(Digest.of(body))
        self.manifests[digest] = body
        return digest

    def runner(self) -> LifecycleRunner:
        """A lifecycle runner over the server's stores and clock."""
        return LifecycleRunner(self.server.registry_stores, self.server.clock)


def _descriptor(media_type: str, data: bytes) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": str(Digest.of(data)), "size": len(data)}


@contextmanager
def running_server(data_dir: Path) -> Iterator[LifecycleServer]:
    """Build, serve on a free port, and stop on exit."""
    server = build_server(Settings(data_dir=data_dir, trail=False, lifecycle_interval=0))
    apply_scenario_file(server, WALKTHROUGH, REGION)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(server.app, log_level="warning", lifespan="off", ws="none")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        if time.monotonic() > deadline:  # pragma: no cover - startup failure
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield LifecycleServer(server, f"http://127.0.0.1:{sock.getsockname()[1]}")
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        sock.close()
        server.close()
