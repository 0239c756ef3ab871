#!/usr/bin/env python3
"""Metadata at scale: paging and manifest GETs over 1k, 10k and 100k repositories.

    python benchmarks/metadata_scale.py [--sizes 1000,10000,100000] [--tags-per-repository 10]
        [--database-url postgresql://USER@127.0.0.1:PORT/DB] [--backends sqlite,postgresql]
        [--work DIR] [--keep] [--out results.json]

For each backend and size the benchmark

1. starts ``crossdock serve`` (127.0.0.1, a free port, ``--no-trail``, no lifecycle runs)
   on an empty database with a scenario of four accounts, and pushes one real image
   through ``/v2/`` (a gzip tar layer and a config, ``seed/base:v1`` of 111111111111);
2. stops it and generates, through SQLAlchemy Core ``executemany`` on the real tables
   (``storage/sql/registry_tables.py``), SIZE repositories over the four accounts (40, 30,
   20, 10 %), named ``team/group/service-N``, and ``--tags-per-repository`` × SIZE tags
   (1,000,000 at 100k): 1 % of the repositories hold 300 tags each, the rest 1–13 (7 on
   average), and one fixed repository, ``platform/ci/build-cache`` of 111111111111, holds
   5,000 images (4,800 tagged, 6,000 tags) at every size. One tag in five is a second tag
   of an image. Every generated image is the seed manifest with its own
   ``org.opencontainers.image.revision`` annotation (so its digest is its own and real),
   referencing the seed's two blobs, which every repository links; image ids follow push
   time across repositories, as real pushes interleave. PostgreSQL then gets
   ``VACUUM ANALYZE`` (what autovacuum does after a bulk load); SQLite gets nothing;
3. starts ``crossdock serve`` again on that database and measures, as 111111111111's
   root with boto3 (client time: signing, HTTP, parsing) and httpx:

   * DescribeRepositories, the first page (default ``maxResults``, 100), 200 times, and
     with ``maxResults`` 1000, 30 times;
   * DescribeRepositories, every page with ``maxResults`` 1000 (the account's 40 %),
     3 passes;
   * ListImages and DescribeImages, every page with ``maxResults`` 1000, of the
     5,000-image repository, 5 passes;
   * ``GET /v2/<account>/<repo>/manifests/<tag>`` for 1,000 random tags of random
     repositories (the digest of each body is checked);

   with p50/p99 per call, the server's ``VmRSS`` (idle after start, and at the end) and
   the database size (SQLite: the file and its WAL; PostgreSQL: ``pg_database_size``).

PostgreSQL runs when ``--database-url`` or ``CROSSDOCK_TEST_DATABASE_URL`` is set (start
one with ``source scripts/services/postgres.sh && start_postgres``): each size gets a
database of its own, ``crossdock_scale_<size>``, created on that server and dropped after
(unless ``--keep``). Prints one JSON object (also written to ``--out``). Every server is
stopped by its PID. This is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import io
import json
import os
import random
import shutil
import statistics
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import httpx
import yaml
from botocore.config import Config  # type: ignore[import-untyped]
from sqlalchemy import Engine, create_engine, event, func, insert, select, text
from sqlalchemy.engine import make_url

from crossdock.storage.sql.dialect import normalise_database_url
from crossdock.storage.sql.registry_tables import (
    image_blobs,
    image_tags,
    images,
    repositories,
    repository_blobs,
)
from crossdock.testing.process import ServeProcess, start_serve

REGION = "us-east-1"
ACCOUNTS = (
    ("111111111111", 0.4, "AKIASCALE00000000001"),
    ("222222222222", 0.3, "AKIASCALE00000000002"),
    ("333333333333", 0.2, "AKIASCALE00000000003"),
    ("444444444444", 0.1, "AKIASCALE00000000004"),
)
MEASURED = ACCOUNTS[0][0]
SECRET = "scale-secret-scale-secret-scale-secret00"
SEED_REPO, SEED_TAG = "seed/base", "v1"
HOT_REPO, HOT_IMAGES, HOT_UNTAGGED, HOT_TAGS = "platform/ci/build-cache", 5000, 200, 6000
LARGE_SHARE, LARGE_TAGS = 0.01, 300
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
REVISION_KEY = "org.opencontainers.image.revision"
BATCH = 20_000
YEAR = 365 * 86400.0
TEAMS = (
    "platform", "payments", "search", "data", "ml", "web", "mobile", "infra", "security",
    "identity", "billing", "growth", "ads", "maps", "media", "support", "sre", "qa",
)  # fmt: skip
GROUPS = ("api", "workers", "jobs", "tools", "base-images", "frontend", "batch", "edge")
SERVICES = (
    "gateway", "indexer", "scheduler", "exporter", "sync", "auth", "cache", "builder",
    "notifier", "ingest", "renderer", "crawler", "ledger", "reports", "proxy", "agent",
)  # fmt: skip


# --- the data set -------------------------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    """The pushed image every generated one is derived from."""

    manifest_prefix: bytes
    manifest_suffix: bytes
    size: int
    blobs: tuple[tuple[str, str], ...]
    """(digest, media type) of the config and the layer."""

    def manifest(self, revision: str) -> bytes:
        """The seed manifest with its own revision annotation."""
        return self.manifest_prefix + revision.encode() + self.manifest_suffix


@dataclass
class Plan:
    """The generated repositories: (account, name, tag count), and where to sample."""

    repositories: list[tuple[str, str, int]] = field(default_factory=list)
    measured: list[tuple[str, int]] = field(default_factory=list)
    """(name, tagged image count) of the measured account's ordinary repositories."""


def plan_repositories(size: int, tags_per_repository: int, rng: random.Random) -> Plan:
    """``size`` repositories (the hot one included) and their tag counts.

    Background tags total ``tags_per_repository × (size - 1)``, spread identically at
    every size: 1 % of the repositories with ``LARGE_TAGS``, the rest 1–13; the hot
    repository comes on top of that.
    """
    plan = Plan()
    others = size - 1
    large = max(1, round(others * LARGE_SHARE))
    small_total = tags_per_repository * others - large * LARGE_TAGS
    average = small_total / (others - large)
    counts = [LARGE_TAGS] * large + [
        rng.randint(1, max(1, round(2 * average) - 1)) for _ in range(others - large)
    ]
    drift = tags_per_repository * others - sum(counts)
    index = large
    while drift:  # make the total exact, one tag at a time, keeping every count >= 1
        step = 1 if drift > 0 else -1
        if counts[index] + step >= 1:
            counts[index] += step
            drift -= step
        index = large + (index - large + 1) % (others - large)
    rng.shuffle(counts)
    weights = [share for _, share, _ in ACCOUNTS]
    owners = rng.choices([account for account, _, _ in ACCOUNTS], weights, k=others)
    for number, (owner, tags) in enumerate(zip(owners, counts, strict=True)):
        name = f"{rng.choice(TEAMS)}/{rng.choice(GROUPS)}/{rng.choice(SERVICES)}-{number:06d}"
        plan.repositories.append((owner, name, tags))
        if owner == MEASURED:
            plan.measured.append((name, image_count(tags)))
    plan.repositories.append((MEASURED, HOT_REPO, HOT_TAGS))
    return plan


def image_count(tags: int) -> int:
    """Tagged images of a repository with ``tags`` tags (one tag in five is a second one)."""
    return max(1, tags - tags // 5)


def image_tag_names(tags: int) -> list[list[str]]:
    """Each tagged image's tags, oldest first: ``v<k>``; the newest images also get
    ``release-<k>``, and the newest of all ``latest``."""
    count = image_count(tags)
    names = [[f"v{k}"] for k in range(count)]
    extra = tags - count
    for offset in range(extra):
        k = count - 1 - offset
        names[k].append("latest" if offset == 0 else f"release-{k}")
    return names


# --- generation ---------------------------------------------------------------------------


def bulk_engine(url: str) -> Engine:
    """An engine for the bulk load (SQLite: no fsync, a big page cache)."""
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-262144")
            cursor.close()

    return engine


def read_seed(engine: Engine, manifest: bytes) -> Seed:
    """The seed image's stored size and blobs, and its manifest split at the revision."""
    digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    with engine.connect() as conn:
        row = conn.execute(select(images.c.id, images.c.size).where(images.c.digest == digest))
        image_id, size = row.one()
        linked = conn.execute(
            select(image_blobs.c.digest, image_blobs.c.media_type)
            .where(image_blobs.c.image_id == image_id)
            .order_by(image_blobs.c.digest)
        ).all()
    prefix, suffix = manifest.split(b'"seed"')
    return Seed(prefix + b'"', b'"' + suffix, int(size), tuple((d, m) for d, m in linked))


def generate(engine: Engine, plan: Plan, seed: Seed, rng: random.Random) -> dict[str, float]:
    """Insert the plan's repositories, images, tags and blob rows; returns counts and time."""
    started = time.monotonic()
    now = time.time()
    with engine.begin() as conn:
        first_repository = (conn.execute(select(func.max(repositories.c.id))).scalar() or 0) + 1
        first_image = (conn.execute(select(func.max(images.c.id))).scalar() or 0) + 1
        repository_rows = []
        link_rows = []
        for offset, (account, name, _tags) in enumerate(plan.repositories):
            repository_id = first_repository + offset
            repository_rows.append(
                {
                    "id": repository_id,
                    "account_id": account,
                    "region": REGION,
                    "name": name,
                    "created_at": now - YEAR - rng.random() * YEAR,
                    "tag_mutability": "MUTABLE",
                    "mutability_filters": "[]",
                    "scan_on_push": False,
                    "encryption_type": "AES256",
                    "tags": "[]",
                }
            )
            for digest, _media_type in seed.blobs:
                link_rows.append(
                    {"repository_id": repository_id, "digest": digest, "created_at": now}
                )
        for chunk in chunks(repository_rows):
            conn.execute(insert(repositories), chunk)
        for chunk in chunks(link_rows):
            conn.execute(insert(repository_blobs), chunk)
    pushes = push_order(plan, first_repository, rng)
    counts: dict[str, float] = {"repositories": len(repository_rows), "images": 0, "tags": 0}
    counts["image_blobs"] = 0
    for start in range(0, len(pushes), BATCH):
        image_rows: list[dict[str, Any]] = []
        tag_rows: list[dict[str, Any]] = []
        blob_rows: list[dict[str, Any]] = []
        for offset, (pushed_at, repository_id, tags) in enumerate(pushes[start : start + BATCH]):
            image_id = first_image + start + offset
            manifest = seed.manifest(f"{repository_id}-{image_id}")
            image_rows.append(
                {
                    "id": image_id,
                    "repository_id": repository_id,
                    "digest": "sha256:" + hashlib.sha256(manifest).hexdigest(),
                    "manifest": manifest,
                    "media_type": OCI_MANIFEST,
                    "artifact_type": None,
                    "size": seed.size,
                    "pushed_at": pushed_at,
                    "subject_digest": None,
                }
            )
            tag_rows.extend(
                {"repository_id": repository_id, "tag": tag, "image_id": image_id,
                 "tagged_at": pushed_at}
                for tag in tags
            )  # fmt: skip
            blob_rows.extend(
                {"image_id": image_id, "digest": digest, "media_type": media_type}
                for digest, media_type in seed.blobs
            )
        with engine.begin() as conn:
            conn.execute(insert(images), image_rows)
            conn.execute(insert(image_tags), tag_rows)
            conn.execute(insert(image_blobs), blob_rows)
        counts["images"] += len(image_rows)
        counts["tags"] += len(tag_rows)
        counts["image_blobs"] += len(blob_rows)
    finish_load(engine)
    counts["seconds"] = round(time.monotonic() - started, 1)
    return counts


def push_order(
    plan: Plan, first_repository: int, rng: random.Random
) -> list[tuple[float, int, tuple[str, ...]]]:
    """Every generated image as (pushed_at, repository id, tags), in push-time order."""
    now = time.time()
    pushes: list[tuple[float, int, tuple[str, ...]]] = []
    for offset, (_account, name, tags) in enumerate(plan.repositories):
        per_image: list[tuple[str, ...]] = [tuple(t) for t in image_tag_names(tags)]
        if name == HOT_REPO:
            for _ in range(HOT_UNTAGGED):
                per_image.insert(rng.randrange(len(per_image) + 1), ())
        times = sorted(now - rng.random() * YEAR for _ in per_image)
        repository_id = first_repository + offset
        pushes.extend((at, repository_id, t) for at, t in zip(times, per_image, strict=True))
    pushes.sort(key=lambda push: push[0])
    return pushes


def finish_load(engine: Engine) -> None:
    """SQLite: fold the WAL into the file; PostgreSQL: move the id sequences past the
    explicit ids, then VACUUM ANALYZE."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    with engine.begin() as conn:
        for table in ("ecr_repositories", "ecr_images"):
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """``rows`` in executemany batches."""
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


# --- the server and the seed image -----------------------------------------------------


def write_scenario(path: Path) -> None:
    """Four accounts, each with a root key."""
    accounts = [
        {"id": account, "root_access_keys": [{"id": key, "secret": SECRET}]}
        for account, _, key in ACCOUNTS
    ]
    path.write_text(yaml.safe_dump({"accounts": accounts}), encoding="utf-8")


def ecr_client(url: str) -> Any:
    """boto3 ECR as the measured account's root (no retries: each call is one request)."""
    return boto3.client(
        "ecr",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=ACCOUNTS[0][2],
        aws_secret_access_key=SECRET,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def registry_client(url: str, ecr: Any) -> httpx.Client:
    """A keep-alive httpx client with the ``/v2/`` Basic token of GetAuthorizationToken."""
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    return httpx.Client(base_url=url, headers={"Authorization": f"Basic {token}"}, timeout=60)


def push_seed(url: str) -> bytes:
    """Create ``seed/base`` and push one small real image to it; returns its manifest."""
    ecr = ecr_client(url)
    ecr.create_repository(repositoryName=SEED_REPO)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        content = b"crossdock metadata scale benchmark\n"
        info = tarfile.TarInfo("etc/scale.txt")
        info.size, info.mtime = len(content), 0
        tar.addfile(info, io.BytesIO(content))
    layer = gzip.compress(raw.getvalue(), mtime=0)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {
                "type": "layers",
                "diff_ids": ["sha256:" + hashlib.sha256(raw.getvalue()).hexdigest()],
            },
        },
        separators=(",", ":"),
    ).encode()
    base = f"/v2/{MEASURED}/{SEED_REPO}"
    with registry_client(url, ecr) as v2:
        for blob in (config, layer):
            digest = "sha256:" + hashlib.sha256(blob).hexdigest()
            answer = v2.post(f"{base}/blobs/uploads/", params={"digest": digest}, content=blob)
            if answer.status_code != 201:
                raise SystemExit(f"seed blob upload: HTTP {answer.status_code} {answer.text}")
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": descriptor(OCI_CONFIG, config),
                "layers": [descriptor(OCI_LAYER, layer)],
                "annotations": {REVISION_KEY: "seed"},
            },
            separators=(",", ":"),
        ).encode()
        answer = v2.put(
            f"{base}/manifests/{SEED_TAG}",
            content=manifest,
            headers={"Content-Type": OCI_MANIFEST},
        )
        if answer.status_code != 201:
            raise SystemExit(f"seed manifest: HTTP {answer.status_code} {answer.text}")
    return manifest


def descriptor(media_type: str, blob: bytes) -> dict[str, Any]:
    """An OCI descriptor of ``blob``."""
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    return {"mediaType": media_type, "digest": digest, "size": len(blob)}


def serve(directory: Path, database_url: str | None, scenario: Path | None) -> ServeProcess:
    """``crossdock serve`` on the benchmark's data dir (and database)."""
    args = ["--no-trail", "--lifecycle-interval", "0"]
    if database_url is not None:
        args += ["--database-url", database_url]
    if scenario is not None:
        args += ["--scenario", str(scenario)]
    return start_serve(directory, args)


# --- measuring ----------------------------------------------------------------------------


def timed(samples: list[float], call: Callable[[], Any]) -> Any:
    """Run ``call``, append its latency (ms) to ``samples``, return its result."""
    started = time.perf_counter()
    result = call()
    samples.append((time.perf_counter() - started) * 1000)
    return result


def summary(samples: list[float]) -> dict[str, Any]:
    """n, p50 and p99 (ms) of ``samples``."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"n": len(ordered), "p50_ms": round(statistics.median(ordered), 2),
            "p99_ms": round(p99, 2)}  # fmt: skip


def page_all(samples: list[float], call: Callable[..., Any], key: str, **params: Any) -> int:
    """Every page of a paged ECR call, each timed; returns the items seen."""
    seen, token = 0, None
    while True:
        extra: dict[str, str] = {"nextToken": token} if token else {}
        answer = timed(samples, lambda: call(**params, **extra))  # noqa: B023
        seen += len(answer[key])
        token = answer.get("nextToken")
        if not token:
            return seen


def rss_mib(pid: int) -> float:
    """The server's ``VmRSS`` in MiB (``/proc/PID/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmRSS for {pid}")


def measure(url: str, pid: int, plan: Plan, rng: random.Random) -> dict[str, Any]:
    """The timed calls against a running server, and its RSS."""
    out: dict[str, Any] = {"rss_idle_MiB": rss_mib(pid), "load_before": os.getloadavg()}
    ecr = ecr_client(url)
    for _ in range(20):  # warm-up: connections, caches, the compiled policy
        ecr.describe_repositories()
        ecr.list_images(repositoryName=HOT_REPO, maxResults=100)
    first: list[float] = []
    for _ in range(200):
        answer = timed(first, ecr.describe_repositories)
    if len(answer["repositories"]) != 100:
        raise SystemExit(f"first page: {len(answer['repositories'])} repositories")
    out["DescribeRepositories first page (100)"] = summary(first)
    first = []
    for _ in range(30):
        answer = timed(first, lambda: ecr.describe_repositories(maxResults=1000))
    out["DescribeRepositories first page (1000)"] = {
        **summary(first),
        "items": len(answer["repositories"]),
    }
    pages: list[float] = []
    for _ in range(3):
        seen = page_all(pages, ecr.describe_repositories, "repositories", maxResults=1000)
    out["DescribeRepositories all pages (1000)"] = {**summary(pages), "items": seen}
    for operation, call, key in (
        ("ListImages", ecr.list_images, "imageIds"),
        ("DescribeImages", ecr.describe_images, "imageDetails"),
    ):
        pages = []
        for _ in range(5):
            seen = page_all(pages, call, key, repositoryName=HOT_REPO, maxResults=1000)
        out[f"{operation} all pages (1000), {HOT_IMAGES:,}-image repository"] = {
            **summary(pages),
            "items": seen,
        }
    gets: list[float] = []
    with registry_client(url, ecr) as v2:
        accept = {"Accept": OCI_MANIFEST}
        for name, count in rng.choices(plan.measured, k=1000):
            path = f"/v2/{MEASURED}/{name}/manifests/v{rng.randrange(count)}"
            answer = timed(gets, lambda: v2.get(path, headers=accept))  # noqa: B023
            digest = "sha256:" + hashlib.sha256(answer.content).hexdigest()
            if answer.status_code != 200 or answer.headers["Docker-Content-Digest"] != digest:
                raise SystemExit(f"GET {path}: HTTP {answer.status_code}")
    out["GET /v2/ manifest by tag (random repositories)"] = summary(gets)
    out["rss_end_MiB"] = rss_mib(pid)
    out["load_after"] = os.getloadavg()
    return out


def database_size(engine: Engine, data_dir: Path) -> dict[str, float]:
    """SQLite: the file and its WAL; PostgreSQL: ``pg_database_size``, in MiB."""
    if engine.dialect.name == "sqlite":
        path = Path(str(engine.url.database))
        wal = path.with_name(path.name + "-wal")
        return {
            "file_MiB": round(path.stat().st_size / 2**20, 1),
            "wal_MiB": round(wal.stat().st_size / 2**20, 1) if wal.exists() else 0.0,
        }
    with engine.connect() as conn:
        size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    return {"pg_database_size_MiB": round(int(size) / 2**20, 1)}


# --- one run ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backend:
    """Where one size's database lives, and how to drop it."""

    name: str
    server_url: str | None
    """PostgreSQL: the server the per-size databases are created on."""

    def database(self, size: int, data_dir: Path) -> str:
        """The size's database URL (created empty on PostgreSQL)."""
        if self.server_url is None:
            return f"sqlite:///{data_dir / 'crossdock.db'}"
        name = f"crossdock_scale_{size}"
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._admin(f'CREATE DATABASE "{name}"')
        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

    def drop(self, size: int) -> None:
        """PostgreSQL: drop the size's database."""
        if self.server_url is not None:
            self._admin(f'DROP DATABASE IF EXISTS "crossdock_scale_{size}" WITH (FORCE)')

    def _admin(self, statement: str) -> None:
        assert self.server_url is not None
        engine = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(statement))
        finally:
            engine.dispose()


def run(backend: Backend, size: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Seed, generate and measure one size on one backend."""
    rng = random.Random(f"{args.seed}-{size}")
    directory = work / f"{backend.name}-{size}"
    data_dir = directory / "data"
    url = backend.database(size, data_dir)
    passed_url = None if backend.server_url is None else url
    scenario = directory / "scenario.yaml"
    directory.mkdir(parents=True, exist_ok=True)
    write_scenario(scenario)
    server = serve(directory, passed_url, scenario)
    try:
        manifest = push_seed(server.url)
    finally:
        server.stop()
    engine = bulk_engine(url)
    try:
        seed = read_seed(engine, manifest)
        plan = plan_repositories(size, args.tags_per_repository, rng)
        generated = generate(engine, plan, seed, rng)
        print(f"{backend.name} {size}: generated {generated}", file=sys.stderr, flush=True)
        server = serve(directory, passed_url, None)
        try:
            figures = measure(server.url, server.process.pid, plan, rng)
        finally:
            server.stop()
        return {
            "backend": backend.name,
            "repositories": size,
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "generated": generated,
            **figures,
            "database": database_size(engine, data_dir),
        }
    finally:
        engine.dispose()
        if not args.keep:
            backend.drop(size)


def backends(args: argparse.Namespace) -> list[Backend]:
    """The backends asked for (PostgreSQL needs a server URL)."""
    server_url = args.database_url or os.environ.get("CROSSDOCK_TEST_DATABASE_URL")
    names = args.backends.split(",") if args.backends else ["sqlite"]
    if not args.backends and server_url:
        names.append("postgresql")
    chosen = []
    for name in names:
        if name == "sqlite":
            chosen.append(Backend("sqlite", None))
        elif name == "postgresql":
            if not server_url:
                raise SystemExit("postgresql: give --database-url or CROSSDOCK_TEST_DATABASE_URL")
            chosen.append(Backend("postgresql", normalise_database_url(server_url)))
        else:
            raise SystemExit(f"unknown backend {name!r}")
    return chosen


def main() -> None:
    """Run every backend × size; print (and save) one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--tags-per-repository", type=int, default=10)
    parser.add_argument("--database-url", help="a PostgreSQL server (any database on it)")
    parser.add_argument("--backends", help="sqlite,postgresql (default: sqlite, and "
                        "postgresql when a database URL is given)")  # fmt: skip
    parser.add_argument("--work", type=Path, help="where data dirs go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep data dirs and databases")
    parser.add_argument("--seed", default="crossdock")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    work = args.work or Path(tempfile.mkdtemp(prefix="crossdock-scale-"))
    results: dict[str, Any] = {
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "runs": [],
    }
    try:
        for backend in backends(args):
            for size in sizes:
                results["runs"].append(run(backend, size, args, work))
                if not args.keep:
                    remove_tree(work / f"{backend.name}-{size}")
    finally:
        if args.work is None and not args.keep:
            remove_tree(work)
    text_out = json.dumps(results, indent=1)
    if args.out:
        args.out.write_text(text_out + "\n", encoding="utf-8")
    print(text_out)


def remove_tree(path: Path) -> None:
    """Delete a data dir (ignore what is gone)."""
    shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    main()
