"""The composition root: the only place that names concrete stores and wires the server.

``build_server`` opens the data dir, builds both verticals (identity: accounts, IAM, STS,
credentials; registry: ECR stores and services) around one Authorizer, and returns the
ASGI app with everything it needs. Nothing here runs at import time.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from starlette.applications import Starlette

from crossdock.api.app import ApiServices, create_api_app
from crossdock.api.ecr.protocol import EcrProtocol
from crossdock.api.ecr.services import EcrServices, ecr_lookup, ecr_services, ecr_stores
from crossdock.api.query.protocol import QueryProtocol
from crossdock.api.v2.context import RegistryServices
from crossdock.auth.sigv4 import SigV4Verifier
from crossdock.service.ecr.addressing import RegistryAddressing
from crossdock.service.ecr.layers import LINK_REFRESH
from crossdock.service.ecr.lifecycle_runner import LifecycleRunner
from crossdock.service.ecr.lifecycle_schedule import LifecycleScheduler
from crossdock.service.ecr.stores import EcrStores
from crossdock.service.gc import GarbageCollector
from crossdock.service.gc_schedule import GcScheduler
from crossdock.service.identities import IdentityComponents, build_identity
from crossdock.service.trail_writer import TrailWriter
from crossdock.settings import Settings
from crossdock.storage.blobs import BlobStore, BlobUrls
from crossdock.storage.blobs_fs import FileBlobStore
from crossdock.storage.blobs_s3 import S3BlobStore
from crossdock.storage.data_dir import open_data_dir
from crossdock.storage.identity_store import IdentityStores
from crossdock.storage.secrets import SecretBox
from crossdock.storage.sql.gc_sql import SqlGcStore
from crossdock.storage.sql.identity_stores import sql_identity_stores
from crossdock.storage.trail_files import trail_dir


def system_clock() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Server:
    """A wired crossdock: the app, its services and the stores under them."""

    app: Starlette
    identity: IdentityComponents
    ecr: EcrServices
    identity_stores: IdentityStores
    registry_stores: EcrStores
    box: SecretBox
    addressing: RegistryAddressing
    clock: Callable[[], datetime]
    trail: TrailWriter | None = None
    """The decision trail's writer; None when the trail is off."""

    def close(self) -> None:
        """Write out what the decision trail still holds (the app's shutdown does it too)."""
        if self.trail is not None:
            self.trail.close()


def _closing(trail: TrailWriter) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """A lifespan that closes the trail writer when the server shuts down."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            trail.close()

    return lifespan


def _scheduling(
    scheduler: LifecycleScheduler | GcScheduler,
    inner: Callable[[Starlette], AbstractAsyncContextManager[object]],
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """A lifespan that runs a scheduler (lifecycle policies, GC) in the background."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with inner(app):
            scheduler.start()
            try:
                yield
            finally:
                await asyncio.to_thread(scheduler.stop)

    return lifespan


def _log_line(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _reachable_host(host: str) -> str:
    # Clients cannot connect to a wildcard address: advertise loopback instead.
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def open_blob_store(url: str | None, data_dir: Path) -> BlobStore:
    """The blob store ``--blob-store URL`` names: S3 for ``s3://...``, else ``data_dir/blobs``."""
    if url is None:
        return FileBlobStore(data_dir / "blobs")
    return S3BlobStore.from_url(url)


def _blob_urls(blobs: BlobStore, proxy: bool) -> BlobUrls | None:
    # Clients download from S3 directly (presigned URLs, as ECR) unless told to proxy.
    return blobs if isinstance(blobs, S3BlobStore) and not proxy else None


def build_server(settings: Settings, clock: Callable[[], datetime] = system_clock) -> Server:
    """Open the data dir and wire every service for ``settings``."""
    engine, box = open_data_dir(settings.data_dir, settings.key_file, settings.database_url)
    blobs = open_blob_store(settings.blob_store, settings.data_dir)
    registry = ecr_stores(engine, settings.data_dir / "blobs", blobs)
    stores = sql_identity_stores(engine)
    trail = None
    if settings.trail:
        trail = TrailWriter(trail_dir(settings.data_dir), settings.trail_retention_days, clock)
        trail.start()
    identity = build_identity(stores, box, clock, {"ecr": ecr_lookup(registry)}, trail)
    addressing = RegistryAddressing(
        host=_reachable_host(settings.host),
        port=settings.port,
        scheme=settings.scheme,
        domain=settings.registry_domain,
    )
    ecr = ecr_services(
        registry,
        identity.authorizer,
        identity.directory,
        addressing,
        timedelta(seconds=settings.token_ttl),
        blob_urls=_blob_urls(blobs, settings.blob_proxy),
        link_refresh=min(LINK_REFRESH, settings.gc_grace / 4),
    )
    api = ApiServices(
        verifier=SigV4Verifier(identity.resolver, clock),
        ecr=EcrProtocol(ecr),
        query=QueryProtocol(identity.iam, identity.sts),
        clock=clock,
        region=settings.region,
        registry=RegistryServices(
            ecr.repositories,
            ecr.images,
            ecr.layers,
            registry.blobs,
            ecr.registry_tokens,
            identity.resolver,
            addressing,
            settings.region,
            clock,
            None if trail is None else trail.record_expired_token,
        ),
    )
    app = create_api_app(api)
    if trail is not None:
        app.router.lifespan_context = _closing(trail)
    if settings.lifecycle_interval > 0:
        runner = LifecycleRunner(registry, clock)
        scheduler = LifecycleScheduler(runner, settings.lifecycle_interval)
        app.router.lifespan_context = _scheduling(scheduler, app.router.lifespan_context)
    if settings.gc_interval:
        collector = GarbageCollector(SqlGcStore(engine), blobs)
        gc = GcScheduler(collector, settings.gc_interval, settings.gc_grace, _log_line)
        app.router.lifespan_context = _scheduling(gc, app.router.lifespan_context)
    return Server(app, identity, ecr, stores, registry, box, addressing, clock, trail)


def build_app(settings: Settings, scenario: Path | None = None) -> Starlette:
    """The ASGI app for ``crossdock serve``, after applying ``scenario`` if given."""
    server = build_server(settings)
    if scenario is not None:
        from crossdock.api.scenario import apply_scenario_file

        apply_scenario_file(server, scenario, settings.region)
    return server.app
