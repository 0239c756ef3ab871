"""A crossdock for the ``/v2/`` tests: ``build_server`` + the walkthrough scenario, tokens
issued through the real services, and image-building helpers."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from crossdock.api.compose import Server, build_server
from crossdock.api.scenario import apply_scenario_file
from crossdock.auth.principal import Principal
from crossdock.oci import mediatypes
from crossdock.service.authz import RequestInfo
from crossdock.service.ecr.common import Actor
from crossdock.settings import Settings
from crossdock.storage.registry_store import RepositorySettings

ROOT = Path(__file__).resolve().parents[2]
WALKTHROUGH = ROOT / "examples" / "cross-account-walkthrough.yaml"
REGION = "us-east-1"
OWNER_KEY = "AKIAOWNER00000000001"
CONSUMER_KEY = "AKIACONSUMER00000001"
PULLER_KEY = "AKIAPULLER0000000001"
MALLORY_KEY = "AKIAMALLORY000000001"
HOST = "127.0.0.1:5000"
_names = itertools.count(1)


@dataclass
class OffsetClock:
    """Real time plus a movable offset."""

    offset: timedelta = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class V2World:
    """The server, its clock, and helpers to act as the walkthrough's principals."""

    server: Server
    clock: OffsetClock
    passwords: dict[str, str] = field(default_factory=dict)

    def principal(self, access_key_id: str) -> Principal:
        credential = self.server.identity.resolver.credential(access_key_id)
        assert credential is not None, access_key_id
        return credential.principal

    def actor(self, access_key_id: str) -> Actor:
        info = RequestInfo("127.0.0.1", False, "pytest", self.clock(), REGION)
        return Actor(self.principal(access_key_id), info)

    def password(self, access_key_id: str) -> str:
        """A registry password from GetAuthorizationToken (the real service)."""
        if access_key_id not in self.passwords:
            tokens = self.server.ecr.tokens
            [data] = tokens.get_authorization_token(self.actor(access_key_id), None)
            decoded = base64.b64decode(data.authorization_token).decode()
            self.passwords[access_key_id] = decoded.removeprefix("AWS:")
        return self.passwords[access_key_id]

    def client(self, access_key_id: str | None = OWNER_KEY, host: str = HOST) -> httpx.AsyncClient:
        """An httpx client on the app, authenticated as ``access_key_id`` (None: anonymous)."""
        auth = None if access_key_id is None else ("AWS", self.password(access_key_id))
        transport = httpx.ASGITransport(app=self.server.app)
        return httpx.AsyncClient(transport=transport, base_url=f"http://{host}", auth=auth)

    def new_repository(self, access_key_id: str = OWNER_KEY, **settings: Any) -> str:
        """A fresh repository in the key's account; returns its ``<account>/<name>`` path."""
        actor = self.actor(access_key_id)
        name = f"repo{next(_names)}"
        repositories = self.server.ecr.repositories
        repositories.create(actor, None, name, RepositorySettings(**settings))
        return f"{actor.account_id}/{name}"


def build_v2_world(tmp_path: Path, domain: str | None = None) -> V2World:
    """A fresh server over ``tmp_path`` with the walkthrough applied."""
    clock = OffsetClock()
    settings = Settings(data_dir=tmp_path / "data", registry_domain=domain)
    server = build_server(settings, clock)
    apply_scenario_file(server, WALKTHROUGH, REGION)
    return V2World(server, clock)


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def image_manifest(
    config: bytes,
    layers: list[bytes],
    media_type: str = mediatypes.OCI_MANIFEST,
    **extra: Any,
) -> bytes:
    """A manifest over ``config`` and ``layers`` (blobs to be pushed separately)."""
    docker = media_type == mediatypes.DOCKER_MANIFEST
    layer_type = mediatypes.DOCKER_LAYER if docker else mediatypes.OCI_LAYER
    body: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {
            "mediaType": mediatypes.DOCKER_CONFIG if docker else mediatypes.OCI_CONFIG,
            "digest": digest_of(config),
            "size": len(config),
        },
        "layers": [
            {"mediaType": layer_type, "digest": digest_of(layer), "size": len(layer)}
            for layer in layers
        ],
        **extra,
    }
    return json.dumps(body).encode()


def index_manifest(children: list[bytes], media_type: str = mediatypes.OCI_INDEX) -> bytes:
    child_type = (
        mediatypes.DOCKER_MANIFEST
        if media_type == mediatypes.DOCKER_MANIFEST_LIST
        else mediatypes.OCI_MANIFEST
    )
    body = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "manifests": [
            {
                "mediaType": child_type,
                "digest": digest_of(child),
                "size": len(child),
                "platform": {"architecture": f"arch{i}", "os": "linux"},
            }
            for i, child in enumerate(children)
        ],
    }
    return json.dumps(body).encode()


async def push_blob(client: httpx.AsyncClient, path: str, data: bytes) -> str:
    """Monolithic upload; returns the digest."""
    digest = digest_of(data)
    response = await client.post(
        f"/v2/{path}/blobs/uploads/", params={"digest": digest}, content=data
    )
    assert response.status_code == 201, response.text
    return digest


async def push_image(
    client: httpx.AsyncClient,
    path: str,
    tag: str,
    seed: bytes = b"x",
    media_type: str = mediatypes.OCI_MANIFEST,
    **extra: Any,
) -> bytes:
    """Push config, one layer and the manifest; returns the manifest bytes."""
    config = b'{"architecture":"amd64","os":"linux","seed":"' + seed + b'"}'
    layer = b"layer-" + seed
    await push_blob(client, path, config)
    await push_blob(client, path, layer)
    manifest = image_manifest(config, [layer], media_type, **extra)
    response = await client.put(
        f"/v2/{path}/manifests/{tag}", content=manifest, headers={"Content-Type": media_type}
    )
    assert response.status_code == 201, response.text
    return manifest
