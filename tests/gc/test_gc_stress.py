"""The GC stress test: a real ``crossdock serve`` collecting garbage every 0.3 s (grace 2 s)
while client threads push images that share layers (monolithic, chunked, HEAD-then-skip
and mounted uploads), delete some of them and pull the rest back.

Asserted: no blob of a stored image is ever missing (every manifest and every blob of it
pulls back, digest-checked, right after its push and at random times later), every image
still stored at the end pulls back byte-identical, the collector did delete blobs while
the pushes ran, and once every image is deleted it collects everything.

Runs with SQLite and the filesystem store always, and with PostgreSQL and S3 when
``CROSSDOCK_TEST_DATABASE_URL`` and ``CROSSDOCK_TEST_S3_URL`` are set.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from serve_process import RunningServer, start_server, stop_server
from walkthrough import WALKTHROUGH, client, password

from crossdock.storage.blobs_s3 import S3BlobStore
from crossdock.storage.s3_location import parse_s3_url
from crossdock.storage.sql.scratch import scratch_database

ACCOUNT = "111111111111"
REPOSITORIES = ("stress-a", "stress-b", "stress-c")
WORKERS = 4
PUSH_SECONDS = 20.0
MAX_PUSH_SECONDS = 90.0
"""On a loaded machine the clients run on until a shared layer has been collected."""
LAYER_BYTES = 2_000
GRACE = "2"
INTERVAL = "0.3"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
LAYER_WEIGHTS = [1 / (rank + 1) ** 2 for rank in range(12)]
"""How often each layer of the pool is picked: a few are in most images, and the rarest
ones (the biggest) stay unused longer than the grace period even when a fast backend
(SQLite) pushes dozens of images a second, so shared layers get collected while pushes run."""
_SUMMARY = re.compile(r"crossdock gc: deleted (\d+) blobs? \((\d+) bytes\).*kept (\d+) blobs?")


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _layer_pool() -> list[bytes]:
    rng = random.Random(6)
    # Every layer is bigger than all the configs one run can collect (about 60 bytes each),
    # so a run that deleted LAYER_BYTES or more collected a shared layer.
    sizes = [2_000, 3_000, 5_000, 8_000, 12_000, 20_000, 30_000, 50_000, 80_000, 130_000]
    sizes += [200_000, 400_000]
    return [rng.randbytes(size) for size in sizes]


@dataclass
class Pushed:
    repository: str
    tag: str
    digest: str
    manifest: bytes
    blobs: dict[str, bytes]


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    pushes: int = 0
    retries: int = 0
    deletes: int = 0
    pulls: int = 0
    methods: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def count(self, name: str) -> None:
        with self.lock:
            self.methods[name] = self.methods.get(name, 0) + 1


class _Retry(Exception):
    """The manifest named a blob whose link was collected: push again."""


class Pusher:
    """One client thread: pushes, deletes its own images, pulls them back."""

    def __init__(self, url: str, secret: str, seed: int, tally: Tally, pool: list[bytes]) -> None:
        self.http = httpx.Client(base_url=url, auth=("AWS", secret), timeout=60)
        self.rng = random.Random(seed)
        self.seed = seed
        self.tally = tally
        self.pool = pool
        self.images: list[Pushed] = []
        self.count = 0

    def path(self, repository: str) -> str:
        return f"/v2/{ACCOUNT}/{repository}"

    # --- pushing --------------------------------------------------------------------------

    def upload(self, repository: str, data: bytes) -> None:
        digest = digest_of(data)
        method = self.rng.choice(["head", "monolithic", "chunked", "mount"])
        self.tally.count(method)
        base = self.path(repository)
        if method == "head":
            found = self.http.head(f"{base}/blobs/{digest}")
            if found.status_code == 200:
                assert found.headers["content-length"] == str(len(data))
                return
            assert found.status_code == 404, found.status_code
            method = "monolithic"
        if method == "mount":
            source = self.rng.choice([r for r in REPOSITORIES if r != repository])
            mounted = self.http.post(
                f"{base}/blobs/uploads/", params={"mount": digest, "from": f"{ACCOUNT}/{source}"}
            )
            if mounted.status_code == 201:
                return
            assert mounted.status_code == 202, mounted.text
            done = self.http.put(
                mounted.headers["location"], params={"digest": digest}, content=data
            )
            assert done.status_code == 201, done.text
            return
        if method == "monolithic":
            done = self.http.post(f"{base}/blobs/uploads/", params={"digest": digest}, content=data)
            assert done.status_code == 201, done.text
            return
        started = self.http.post(f"{base}/blobs/uploads/")
        assert started.status_code == 202, started.text
        location = started.headers["location"]
        step = max(1, len(data) // 3)
        for first in range(0, len(data), step):
            chunk = data[first : first + step]
            headers = {"Content-Range": f"{first}-{first + len(chunk) - 1}"}
            patched = self.http.patch(location, content=chunk, headers=headers)
            assert patched.status_code == 202, patched.text
            location = patched.headers["location"]
        done = self.http.put(location, params={"digest": digest})
        assert done.status_code == 201, done.text

    def push(self) -> None:
        repository = self.rng.choice(REPOSITORIES)
        self.count += 1
        tag = f"w{self.seed}-{self.count}"
        config = json.dumps({"architecture": "amd64", "os": "linux", "tag": tag}).encode()
        layers = self._pick_layers()
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": MANIFEST,
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": digest_of(config),
                    "size": len(config),
                },
                "layers": [
                    {
                        "mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": digest_of(layer),
                        "size": len(layer),
                    }
                    for layer in layers
                ],
            }
        ).encode()
        for _attempt in range(5):
            try:
                self._push_once(repository, tag, config, layers, manifest)
                break
            except _Retry:
                with self.tally.lock:
                    self.tally.retries += 1
        else:
            raise AssertionError(f"{tag}: the manifest was refused 5 times")
        pushed = Pushed(
            repository,
            tag,
            digest_of(manifest),
            manifest,
            {digest_of(blob): blob for blob in (config, *layers)},
        )
        self.images.append(pushed)
        with self.tally.lock:
            self.tally.pushes += 1
        self.pull(pushed)

    def _pick_layers(self) -> list[bytes]:
        """One or two distinct layers, the first of the pool far more often than the last."""
        wanted = self.rng.randint(1, 2)
        picked: list[bytes] = []
        while len(picked) < wanted:
            layer = self.rng.choices(self.pool, weights=LAYER_WEIGHTS)[0]
            if layer not in picked:
                picked.append(layer)
        return picked

    def _push_once(
        self, repository: str, tag: str, config: bytes, layers: list[bytes], manifest: bytes
    ) -> None:
        for blob in (config, *layers):
            self.upload(repository, blob)
        stored = self.http.put(
            f"{self.path(repository)}/manifests/{tag}",
            content=manifest,
            headers={"Content-Type": MANIFEST},
        )
        if stored.status_code == 400 and "MANIFEST_BLOB_UNKNOWN" in stored.text:
            raise _Retry  # a link collected between the upload (or HEAD) and the manifest
        assert stored.status_code == 201, stored.text

    # --- deleting and pulling -------------------------------------------------------------

    def delete(self) -> None:
        image = self.images.pop(self.rng.randrange(len(self.images)))
        gone = self.http.delete(f"{self.path(image.repository)}/manifests/{image.digest}")
        assert gone.status_code == 202, gone.text
        with self.tally.lock:
            self.tally.deletes += 1

    def pull(self, image: Pushed) -> None:
        base = self.path(image.repository)
        manifest = self.http.get(f"{base}/manifests/{image.tag}", headers={"Accept": MANIFEST})
        assert manifest.status_code == 200, f"{image.tag}: manifest {manifest.status_code}"
        assert manifest.content == image.manifest
        for digest, data in image.blobs.items():
            blob = self.http.get(f"{base}/blobs/{digest}", follow_redirects=True)
            if blob.status_code != 200:
                raise AssertionError(f"{image.tag}: blob {digest} answered {blob.status_code}")
            assert digest_of(blob.content) == digest
            assert blob.content == data
        with self.tally.lock:
            self.tally.pulls += 1

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                # Few images per client, so the shared layers often lose their last
                # image and get collected while other clients push them again.
                choice = self.rng.random()
                if len(self.images) >= 3 or (self.images and choice < 0.3):
                    self.delete()
                elif self.images and choice < 0.45:
                    self.pull(self.rng.choice(self.images))
                else:
                    self.push()
        except BaseException as error:  # reported by the test
            with self.tally.lock:
                self.tally.failures.append(f"worker {self.seed}: {type(error).__name__}: {error}")


def _backends() -> Iterator[object]:
    yield pytest.param(False, id="sqlite-filesystem")
    database, s3 = (
        os.environ.get("CROSSDOCK_TEST_DATABASE_URL"),
        os.environ.get("CROSSDOCK_TEST_S3_URL"),
    )
    skip = pytest.mark.skipif(not (database and s3), reason="PostgreSQL and S3 URLs not set")
    yield pytest.param(True, id="postgresql-s3", marks=skip)


@contextmanager
def _shared_services(wanted: bool) -> Iterator[tuple[str, ...]]:
    """``--database-url`` (a fresh database) and ``--blob-store`` (a key prefix of this
    run's own, emptied afterwards) when ``wanted``; no options otherwise."""
    if not wanted:
        yield ()
        return
    s3 = urlsplit(os.environ["CROSSDOCK_TEST_S3_URL"])
    prefix = f"{s3.path.rstrip('/')}/gc-stress-{uuid.uuid4().hex}"
    blob_store = urlunsplit((s3.scheme, s3.netloc, prefix, s3.query, ""))
    with scratch_database(os.environ["CROSSDOCK_TEST_DATABASE_URL"], prefix="gc_stress") as url:
        try:
            yield ("--database-url", url, "--blob-store", blob_store)
        finally:
            store = S3BlobStore(parse_s3_url(blob_store))
            store.bucket.delete([item.key for item in store.bucket.list(store.location.prefix)])


def _summaries(server: RunningServer) -> list[tuple[int, int, int]]:
    return [
        (int(m.group(1)), int(m.group(2)), int(m.group(3)))
        for m in _SUMMARY.finditer(server.log.read_text())
    ]


def _layer_runs(server: RunningServer) -> int:
    """Collector runs that deleted at least one layer's worth of bytes."""
    return sum(1 for _, deleted_bytes, _ in _summaries(server) if deleted_bytes >= LAYER_BYTES)


@pytest.mark.parametrize("backend", list(_backends()))
def test_gc_in_a_loop_never_loses_a_referenced_blob(tmp_path: Path, backend: bool) -> None:
    with _shared_services(backend) as services:
        _stress(tmp_path / "data", services)


def _stress(data_dir: Path, backend: tuple[str, ...]) -> None:
    server = start_server(
        data_dir,
        "--scenario",
        str(WALKTHROUGH),
        "--gc-interval",
        INTERVAL,
        "--gc-grace",
        GRACE,
        "--no-trail",
        *backend,
    )
    try:
        ecr = client(server, "ecr", "owner")
        for name in REPOSITORIES:
            ecr.create_repository(repositoryName=name)
        secret = password(server, "owner")
        tally, pool = Tally(), _layer_pool()
        pushers = [Pusher(server.url, secret, seed, tally, pool) for seed in range(WORKERS)]
        stop = threading.Event()
        threads = [threading.Thread(target=p.run, args=(stop,)) for p in pushers]
        for thread in threads:
            thread.start()
        started = time.monotonic()
        time.sleep(PUSH_SECONDS)
        while time.monotonic() - started < MAX_PUSH_SECONDS and not _layer_runs(server):
            time.sleep(1)
        layer_runs = _layer_runs(server)
        stop.set()
        for thread in threads:
            thread.join(120)
        assert not tally.failures, tally.failures
        during = _summaries(server)

        for pusher in pushers:  # every image still stored pulls back byte-identical
            for image in pusher.images:
                pusher.pull(image)
        remaining = sum(len(p.images) for p in pushers)
        print(
            f"\npushes={tally.pushes} retries={tally.retries} deletes={tally.deletes} "
            f"pulls={tally.pulls} remaining={remaining} methods={tally.methods} "
            f"gc runs={len(during)} blobs deleted={sum(s[0] for s in during)} "
            f"runs that collected a layer={sum(1 for s in during if s[1] >= LAYER_BYTES)}"
        )
        assert tally.pushes >= 20
        assert tally.deletes >= 5
        assert len(during) >= 10
        assert sum(s[0] for s in during) > 0, "the collector deleted nothing while pushes ran"
        assert layer_runs > 0, "no shared layer was collected while pushes ran"

        for pusher in pushers:
            while pusher.images:
                pusher.delete()
            pusher.http.close()
        runs_before = len(_summaries(server))
        give_up = time.monotonic() + 30
        while time.monotonic() < give_up:
            after = _summaries(server)[runs_before:]
            if any(kept == 0 for _, _, kept in after):
                break
            time.sleep(0.3)
        else:
            raise AssertionError(f"garbage left behind: {_summaries(server)[-3:]}")
        if backend:
            store = S3BlobStore(parse_s3_url(backend[backend.index("--blob-store") + 1]))
            assert list(store.digests()) == []
        else:
            left = [p for p in (data_dir / "blobs" / "sha256").rglob("*") if p.is_file()]
            assert left == []
        fsck = server.crossdock("fsck", "--data-dir", str(data_dir), "--grace", "0", *backend)
        assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    finally:
        stop_server(server)
