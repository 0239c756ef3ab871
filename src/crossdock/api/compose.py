"""The composition root: the only place that names concrete stores and wires the server.

``build_server`` opens the data dir, builds both verticals (identity: accounts, IAM, STS,
credentials; registry: ECR stores and services) around one Authorizer, and returns the
ASGI app with everything it needs. Nothing here runs at import time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from starlette.applications import Starlette

from crossdock.api.app import ApiServices, create_api_app
from crossdock.api.ecr.protocol import EcrProtocol
from crossdock.api.ecr.services import EcrServices, ecr_lookup, ecr_services, ecr_stores
from crossdock.api.query.protocol import QueryProtocol
from crossdock.api.v2.context import RegistryServices
from crossdock.auth.sigv4 import SigV4Verifier
from crossdock.service.ecr.addressing import RegistryAddressing
from crossdock.service.ecr.stores import EcrStores
from crossdock.service.identities import IdentityComponents, build_identity
from crossdock.settings import Settings
from crossdock.storage.data_dir import open_data_dir
from crossdock.storage.identity_store import IdentityStores
from crossdock.storage.secrets import SecretBox
from crossdock.storage.sql.identity_stores import sql_identity_stores


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


def _reachable_host(host: str) -> str:
    # Clients cannot connect to a wildcard address: advertise loopback instead.
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def build_server(settings: Settings, clock: Callable[[], datetime] = system_clock) -> Server:
    """Open the data dir and wire every service for ``settings``."""
    engine, box = open_data_dir(settings.data_dir)
    registry = ecr_stores(engine, settings.data_dir / "blobs")
    stores = sql_identity_stores(engine)
    identity = build_identity(stores, box, clock, {"ecr": ecr_lookup(registry)})
    addressing = RegistryAddressing(
        host=_reachable_host(settings.host),
        port=settings.port,
        scheme=settings.scheme,
        domain=settings.registry_domain,
    )
    ecr = ecr_services(registry, identity.authorizer, identity.directory, addressing)
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
        ),
    )
    return Server(create_api_app(api), identity, ecr, stores, registry, box, addressing, clock)


def build_app(settings: Settings, scenario: Path | None = None) -> Starlette:
    """The ASGI app for ``crossdock serve``, after applying ``scenario`` if given."""
    server = build_server(settings)
    if scenario is not None:
        from crossdock.api.scenario import apply_scenario_file

        apply_scenario_file(server, scenario, settings.region)
    return server.app
