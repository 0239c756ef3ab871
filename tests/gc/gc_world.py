"""A data dir for the garbage-collection tests: ``build_server`` with the walkthrough
scenario, pushes through the real upload engine and image model at chosen times, a
collector over the same stores, and a blob store whose operations can be paused so a test
can interleave a push and a collection step by step."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from sqlalchemy import Engine, select

from crossdock.api.compose import Server, build_server
from crossdock.api.scenario import apply_scenario_file
from crossdock.oci import mediatypes
from crossdock.oci.digest import Digest
from crossdock.service.authz import RequestInfo
from crossdock.service.ecr.common import Actor, RepositoryRef
from crossdock.service.ecr.layers import OCI_RULES, CompletedLayer, LayerService
from crossdock.service.gc import GarbageCollector, GcOptions, GcReport
from crossdock.settings import Settings
from crossdock.storage.blobs import BlobInfo, BlobStore, BlobWriter
from crossdock.storage.data_dir import database_url
from crossdock.storage.gc_store import GcStore
from crossdock.storage.registry_store import BlobLinkStore, RepositorySettings
from crossdock.storage.sql.engine import create_sql_engine
from crossdock.storage.sql.gc_sql import SqlGcStore
from crossdock.storage.sql.registry_tables import blob_pins, blobs, repository_blobs

ROOT = Path(__file__).resolve().parents[2]
WALKTHROUGH = ROOT / "examples" / "cross-account-walkthrough.yaml"
REGION = "us-east-1"
OWNER_KEY = "AKIAOWNER00000000001"
ACCOUNT = "111111111111"
HOUR = 3600.0


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Pause:
    """A point where a thread stops until the test lets it go on."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self._go = threading.Event()

    def __call__(self) -> None:
        self.reached.set()
        assert self._go.wait(30), "the test never released the pause"

    def release(self) -> None:
        self._go.set()

    def wait_reached(self) -> None:
        assert self.reached.wait(30), "the pause was never reached"


class _PausingWriter:
    """A BlobWriter whose commit first calls ``before_commit``."""

    def __init__(self, inner: BlobWriter, before_commit: Callable[[], None] | None) -> None:
        self._inner = inner
        self._before_commit = before_commit

    @property
    def size(self) -> int:
        return self._inner.size

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._inner.write(data)

    def commit(self, expected: Digest) -> BlobInfo:
        if self._before_commit is not None:
            self._before_commit()
        return self._inner.commit(expected)

    def close(self) -> None:
        self._inner.close()

    def __enter__(self) -> _PausingWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._inner.__exit__(kind, error, trace)


@dataclass
class HookedBlobs:
    """A BlobStore that delegates everything, calling hooks before commit, stat, delete."""

    inner: BlobStore
    before_commit: Callable[[], None] | None = None
    before_stat: Callable[[], None] | None = None
    before_delete: Callable[[], None] | None = None

    def stat(self, digest: Digest) -> BlobInfo | None:
        if self.before_stat is not None:
            self.before_stat()
        return self.inner.stat(digest)

    def read(self, digest: Digest, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        return self.inner.read(digest, offset, length)

    def local_path(self, digest: Digest) -> Path | None:
        return self.inner.local_path(digest)

    def delete(self, digest: Digest) -> bool:
        if self.before_delete is not None:
            self.before_delete()
        return self.inner.delete(digest)

    def digests(self) -> Iterator[Digest]:
        return self.inner.digests()

    def writer(self) -> BlobWriter:
        return _PausingWriter(self.inner.writer(), self.before_commit)

    def create_upload(self, upload_id: str) -> None:
        self.inner.create_upload(upload_id)

    def resume_upload(self, upload_id: str) -> BlobWriter:
        return _PausingWriter(self.inner.resume_upload(upload_id), self.before_commit)

    def upload_size(self, upload_id: str) -> int | None:
        return self.inner.upload_size(upload_id)

    def delete_upload(self, upload_id: str) -> bool:
        return self.inner.delete_upload(upload_id)


class PausingLinks:
    """A BlobLinkStore that calls ``before_link`` first in :meth:`link_blob`."""

    def __init__(self, inner: BlobLinkStore, before_link: Callable[[], None]) -> None:
        self._inner = inner
        self._before_link = before_link

    def link_blob(self, repository_id: int, digest: str, size: int, now: float) -> bool:
        self._before_link()
        return self._inner.link_blob(repository_id, digest, size, now)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class PausingGcStore:
    """A GcStore that calls ``before_drop_link`` first in :meth:`drop_link`."""

    def __init__(self, inner: GcStore, before_drop_link: Callable[[], None]) -> None:
        self._inner = inner
        self._before_drop_link = before_drop_link

    def drop_link(self, repository_id: int, digest: str, cutoff: float) -> bool:
        self._before_drop_link()
        return self._inner.drop_link(repository_id, digest, cutoff)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@dataclass
class PushedImage:
    """What :meth:`GcWorld.push_image` stored."""

    repository: str
    digest: str
    config: bytes
    layers: tuple[bytes, ...]

    @property
    def blob_digests(self) -> list[str]:
        return [digest_of(self.config), *(digest_of(layer) for layer in self.layers)]


@dataclass
class GcWorld:
    """A wired crossdock over ``data_dir`` and a collector over the same stores."""

    data_dir: Path
    server: Server
    engine: Engine
    threads: list[threading.Thread] = field(default_factory=list)

    # --- acting ---------------------------------------------------------------------------

    def actor(self, at: float | None = None) -> Actor:
        credential = self.server.identity.resolver.credential(OWNER_KEY)
        assert credential is not None
        when = datetime.fromtimestamp(time.time() if at is None else at, UTC)
        return Actor(credential.principal, RequestInfo("127.0.0.1", False, "pytest", when, REGION))

    def ref(self, repository: str) -> RepositoryRef:
        return RepositoryRef(ACCOUNT, REGION, repository)

    def create_repository(self, name: str) -> str:
        self.server.ecr.repositories.create(self.actor(), None, name, RepositorySettings())
        return name

    def layers(
        self,
        blobs: BlobStore | None = None,
        link_refresh: float = 60.0,
        before_link: Callable[[], None] | None = None,
    ) -> LayerService:
        """The upload engine, over ``blobs`` instead of the server's blob store if given,
        pausing in ``before_link`` before it links a blob."""
        stores = self.server.registry_stores
        if blobs is not None:
            stores = dataclasses.replace(stores, blobs=blobs)
        if before_link is not None:
            links = cast(BlobLinkStore, PausingLinks(stores.links, before_link))
            stores = dataclasses.replace(stores, links=links)
        ecr = self.server.ecr
        return LayerService(stores, self.server.identity.authorizer, ecr.repositories, link_refresh)

    def push_blob(
        self,
        repository: str,
        data: bytes,
        at: float | None = None,
        layers: LayerService | None = None,
    ) -> CompletedLayer:
        """POST, PATCH, PUT through the upload engine."""
        engine = layers or self.layers()
        actor, ref = self.actor(at), self.ref(repository)
        upload = engine.initiate(actor, ref)
        engine.upload_part(actor, ref, upload.upload_id, None, [data])
        return engine.complete(actor, ref, upload.upload_id, [digest_of(data)], OCI_RULES)

    def manifest(self, config: bytes, layers: tuple[bytes, ...]) -> bytes:
        return json.dumps(
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
                    for layer in layers
                ],
            }
        ).encode()

    def put_manifest(
        self,
        repository: str,
        config: bytes,
        layers: tuple[bytes, ...],
        tag: str | None = "latest",
        at: float | None = None,
    ) -> str:
        manifest = self.manifest(config, layers)
        pushed = self.server.ecr.images.put_image(
            self.actor(at), self.ref(repository), manifest, mediatypes.OCI_MANIFEST, tag
        )
        return pushed.image.digest

    def push_image(
        self, repository: str, seed: str, layers: tuple[bytes, ...] = (), at: float | None = None
    ) -> PushedImage:
        """A config (from ``seed``), the layers (one from ``seed`` when none given), a manifest."""
        config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed}).encode()
        layers = layers or (hashlib.sha256(seed.encode()).digest() * 512,)
        for blob in (config, *layers):
            self.push_blob(repository, blob, at)
        digest = self.put_manifest(repository, config, layers, tag=seed, at=at)
        return PushedImage(repository, digest, config, layers)

    def delete_image(self, image: PushedImage) -> None:
        repository = self.server.ecr.repositories.require(self.ref(image.repository))
        assert self.server.registry_stores.images.delete_image(repository.id, image.digest)

    # --- collecting -----------------------------------------------------------------------

    def collector(
        self, blobs: BlobStore | None = None, store: GcStore | None = None
    ) -> GarbageCollector:
        return GarbageCollector(
            store or SqlGcStore(self.engine), blobs or self.server.registry_stores.blobs
        )

    def repository_id(self, repository: str) -> int:
        return self.server.ecr.repositories.require(self.ref(repository)).id

    def garbage_blob(self, repository: str, data: bytes, age: float = 2 * HOUR) -> str:
        """A blob pushed ``age`` seconds ago, then unlinked: stored, recorded, unused."""
        digest = digest_of(data)
        self.push_blob(repository, data, at=time.time() - age)
        links = self.server.registry_stores.links
        assert links.unlink_blob(self.repository_id(repository), digest) == ()
        return digest

    def gc(self, grace: float, now: float | None = None, dry_run: bool = False) -> GcReport:
        return self.collector().run(GcOptions(grace=grace, dry_run=dry_run, now=now))

    def in_thread(self, target: Callable[[], object]) -> list[object]:
        """Run ``target`` in a thread; the returned list gets its result (or exception)."""
        outcome: list[object] = []

        def run() -> None:
            try:
                outcome.append(target())
            except BaseException as error:  # handed to the test
                outcome.append(error)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        self.threads.append(thread)
        return outcome

    def join(self) -> None:
        for thread in self.threads:
            thread.join(30)
            assert not thread.is_alive(), "a thread of the test did not finish"
        self.threads.clear()

    # --- looking --------------------------------------------------------------------------

    def stored(self, digest: str) -> bool:
        """Whether the blob store holds the bytes."""
        return self.server.registry_stores.blobs.stat(Digest.parse(digest)) is not None

    def recorded(self, digest: str) -> bool:
        with self.engine.connect() as conn:
            found = conn.execute(select(blobs.c.digest).where(blobs.c.digest == digest)).first()
        return found is not None

    def linked(self, repository: str, digest: str) -> bool:
        holder = self.server.ecr.repositories.require(self.ref(repository))
        with self.engine.connect() as conn:
            found = conn.execute(
                select(repository_blobs.c.digest).where(
                    repository_blobs.c.repository_id == holder.id,
                    repository_blobs.c.digest == digest,
                )
            ).first()
        return found is not None

    def pins(self) -> int:
        with self.engine.connect() as conn:
            return len(conn.execute(select(blob_pins.c.pin_id)).all())

    def pull(self, image: PushedImage) -> list[bytes]:
        """Every blob of the image as ``/v2/`` GET serves it (located, then read)."""
        from crossdock.service.ecr.layers import BlobAccess

        layers = self.server.ecr.layers
        found = []
        for digest in image.blob_digests:
            _, blob = layers.locate(
                self.actor(), self.ref(image.repository), digest, BlobAccess.HELD
            )
            found.append(b"".join(self.server.registry_stores.blobs.read(blob.digest)))
        return found


def build_gc_world(tmp_path: Path) -> GcWorld:
    """A fresh server over ``tmp_path/data`` with the walkthrough applied."""
    data_dir = tmp_path / "data"
    server = build_server(Settings(data_dir=data_dir, trail=False))
    apply_scenario_file(server, WALKTHROUGH, REGION)
    return GcWorld(data_dir, server, create_sql_engine(database_url(data_dir)))
