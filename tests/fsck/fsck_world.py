"""A data dir with pushed images for the ``crossdock fsck`` tests: ``build_server`` with the
walkthrough scenario, images pushed through the real upload engine and image model, and
helpers to damage files and to snapshot everything fsck must leave alone."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, inspect, text

from crossdock.api.compose import Server, build_server
from crossdock.api.scenario import apply_scenario_file
from crossdock.oci import mediatypes
from crossdock.service.authz import RequestInfo
from crossdock.service.ecr.common import Actor, RepositoryRef
from crossdock.service.ecr.layers import OCI_RULES, BlobAccess
from crossdock.settings import Settings
from crossdock.storage.data_dir import database_url
from crossdock.storage.registry_store import RepositorySettings

ROOT = Path(__file__).resolve().parents[2]
WALKTHROUGH = ROOT / "examples" / "cross-account-walkthrough.yaml"
REGION = "us-east-1"
OWNER_KEY = "AKIAOWNER00000000001"
ACCOUNT = "111111111111"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class PushedImage:
    """What :meth:`FsckWorld.push_image` stored."""

    repository: str
    manifest_digest: str
    config: bytes
    layer: bytes

    @property
    def config_digest(self) -> str:
        return digest_of(self.config)

    @property
    def layer_digest(self) -> str:
        return digest_of(self.layer)

    @property
    def arn(self) -> str:
        return f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{self.repository}"


@dataclass
class FsckWorld:
    """A wired crossdock over ``data_dir``."""

    data_dir: Path
    server: Server

    @property
    def blobs(self) -> Path:
        return self.data_dir / "blobs"

    def actor(self) -> Actor:
        credential = self.server.identity.resolver.credential(OWNER_KEY)
        assert credential is not None
        info = RequestInfo("127.0.0.1", False, "pytest", datetime.now(UTC), REGION)
        return Actor(credential.principal, info)

    def ref(self, repository: str) -> RepositoryRef:
        return RepositoryRef(ACCOUNT, REGION, repository)

    def create_repository(self, name: str) -> None:
        self.server.ecr.repositories.create(self.actor(), None, name, RepositorySettings())

    def push_blob(self, repository: str, data: bytes) -> str:
        """POST, PATCH, PUT through the shared upload engine; returns the digest."""
        layers = self.server.ecr.layers
        actor, ref = self.actor(), self.ref(repository)
        upload = layers.initiate(actor, ref)
        layers.upload_part(actor, ref, upload.upload_id, None, [data])
        done = layers.complete(actor, ref, upload.upload_id, [digest_of(data)], OCI_RULES)
        return str(done.blob.digest)

    def push_image(self, repository: str, seed: str, tag: str = "latest") -> PushedImage:
        """A config, one 64 KiB layer and an OCI manifest over them."""
        config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed}).encode()
        layer = hashlib.sha256(seed.encode()).digest() * 2048
        self.push_blob(repository, config)
        self.push_blob(repository, layer)
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": mediatypes.OCI_MANIFEST,
                "config": {
                    "mediaType": mediatypes.OCI_CONFIG,
                    "digest": digest_of(config),
                    "size": len(config),
                },
                "layers": [
                    {
                        "mediaType": mediatypes.OCI_LAYER,
                        "digest": digest_of(layer),
                        "size": len(layer),
                    }
                ],
            }
        ).encode()
        pushed = self.server.ecr.images.put_image(
            self.actor(), self.ref(repository), manifest, mediatypes.OCI_MANIFEST, tag
        )
        return PushedImage(repository, pushed.image.digest, config, layer)

    def blob_file(self, digest: str) -> Path:
        algorithm, _, hex_digits = digest.partition(":")
        return self.blobs / algorithm / hex_digits[:2] / hex_digits

    def read_blob(self, repository: str, digest: str) -> bytes:
        """The blob as ``/v2/`` GET serves it: located in the repository, then streamed."""
        layers = self.server.ecr.layers
        _, blob = layers.locate(self.actor(), self.ref(repository), digest, BlobAccess.HELD)
        return b"".join(self.server.registry_stores.blobs.read(blob.digest))

    def available(self, repository: str, digest: str) -> bool:
        """What ``/v2/`` blob HEAD (BatchCheckLayerAvailability) answers."""
        layers = self.server.ecr.layers
        [answer] = layers.check_availability(self.actor(), self.ref(repository), [digest])
        return answer.size is not None


def build_fsck_world(tmp_path: Path) -> FsckWorld:
    """A fresh server over ``tmp_path/data`` with the walkthrough applied."""
    data_dir = tmp_path / "data"
    # No decision trail: its writer thread would change the data dir under the snapshots.
    server = build_server(Settings(data_dir=data_dir, trail=False))
    apply_scenario_file(server, WALKTHROUGH, REGION)
    return FsckWorld(data_dir, server)


def flip_byte(path: Path, offset: int = 100) -> None:
    """Corrupt one byte in place (the file keeps its size)."""
    with path.open("r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0xFF]))


def age(path: Path, seconds: float) -> None:
    """Make ``path`` look ``seconds`` old."""
    when = datetime.now(UTC).timestamp() - seconds
    os.utime(path, (when, when))


def snapshot(data_dir: Path) -> dict[str, object]:
    """Every file (but the SQLite files) by content hash, and every table's rows."""
    files = {
        path.relative_to(data_dir).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(data_dir.rglob("*"))
        if path.is_file() and not path.name.startswith("crossdock.db")
    }
    engine: Engine = create_engine(database_url(data_dir))
    try:
        tables: dict[str, object] = {}
        with engine.connect() as conn:
            for table in sorted(inspect(conn).get_table_names()):
                rows = conn.execute(text(f'SELECT * FROM "{table}"')).all()
                tables[table] = sorted(repr(tuple(row)) for row in rows)
    finally:
        engine.dispose()
    return {"files": files, "tables": tables}
