"""The ECR services one protocol instance serves, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from crossdock.auth.tokens import TOKEN_LIFETIME, RegistryTokens
from crossdock.service.authz import Authorizer
from crossdock.service.directory import PrincipalDirectory
from crossdock.service.ecr.addressing import RegistryAddressing
from crossdock.service.ecr.images import ImageService
from crossdock.service.ecr.layers import LINK_REFRESH, LayerService
from crossdock.service.ecr.lifecycle import LifecycleService
from crossdock.service.ecr.policies import PolicyService, RepositoryLookup
from crossdock.service.ecr.repositories import RepositoryService
from crossdock.service.ecr.stores import EcrStores
from crossdock.service.ecr.tokens import TokenService
from crossdock.storage.blobs import BlobStore, BlobUrls
from crossdock.storage.blobs_fs import FileBlobStore
from crossdock.storage.sql.images_sql import SqlBlobLinkStore, SqlImageStore, SqlUploadStore
from crossdock.storage.sql.lifecycle_sql import SqlLifecycleStore
from crossdock.storage.sql.repositories_sql import SqlRepositoryStore, SqlTokenStore


@dataclass(frozen=True, slots=True)
class EcrServices:
    """Everything the ECR operations call."""

    repositories: RepositoryService
    policies: PolicyService
    images: ImageService
    layers: LayerService
    tokens: TokenService
    addressing: RegistryAddressing
    registry_tokens: RegistryTokens
    lifecycle: LifecycleService


def ecr_stores(engine: Engine, blob_dir: Path, blobs: BlobStore | None = None) -> EcrStores:
    """The SQL metadata stores over ``engine`` and ``blobs`` (default: the filesystem blob
    store in ``blob_dir``)."""
    return EcrStores(
        repositories=SqlRepositoryStore(engine),
        images=SqlImageStore(engine),
        links=SqlBlobLinkStore(engine),
        uploads=SqlUploadStore(engine),
        tokens=SqlTokenStore(engine),
        lifecycle=SqlLifecycleStore(engine),
        blobs=blobs if blobs is not None else FileBlobStore(blob_dir),
    )


def ecr_lookup(stores: EcrStores) -> RepositoryLookup:
    """The authorizer's resource lookup for ``arn:aws:ecr:...:repository/...``."""
    return RepositoryLookup(stores)


def ecr_services(
    stores: EcrStores,
    authorizer: Authorizer,
    directory: PrincipalDirectory,
    addressing: RegistryAddressing,
    token_lifetime: timedelta = TOKEN_LIFETIME,
    blob_urls: BlobUrls | None = None,
    link_refresh: float = LINK_REFRESH,
) -> EcrServices:
    """Wire the ECR services (the ``/v2/`` data plane reuses the same instances).

    With ``blob_urls``, blob downloads go to the store's own (presigned) URLs.
    """
    repositories = RepositoryService(stores, authorizer)
    registry_tokens = RegistryTokens(stores.tokens, lifetime=token_lifetime)
    return EcrServices(
        repositories=repositories,
        policies=PolicyService(stores, authorizer, directory, repositories),
        images=ImageService(stores, authorizer, repositories),
        layers=LayerService(
            stores, authorizer, repositories, link_refresh=link_refresh, blob_urls=blob_urls
        ),
        tokens=TokenService(registry_tokens, authorizer, addressing),
        addressing=addressing,
        registry_tokens=registry_tokens,
        lifecycle=LifecycleService(stores, authorizer, repositories),
    )
