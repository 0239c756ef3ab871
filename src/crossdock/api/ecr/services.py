"""The ECR services one protocol instance serves, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from crossdock.auth.tokens import RegistryTokens
from crossdock.service.authz import Authorizer
from crossdock.service.directory import PrincipalDirectory
from crossdock.service.ecr.addressing import RegistryAddressing
from crossdock.service.ecr.images import ImageService
from crossdock.service.ecr.layers import LayerService
from crossdock.service.ecr.policies import PolicyService, RepositoryLookup
from crossdock.service.ecr.repositories import RepositoryService
from crossdock.service.ecr.stores import EcrStores
from crossdock.service.ecr.tokens import TokenService
from crossdock.storage.blobs_fs import FileBlobStore
from crossdock.storage.sql.images_sql import SqlBlobLinkStore, SqlImageStore, SqlUploadStore
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


def ecr_stores(engine: Engine, blob_dir: Path) -> EcrStores:
    """The SQL metadata stores over ``engine`` and the filesystem blob store in ``blob_dir``."""
    return EcrStores(
        repositories=SqlRepositoryStore(engine),
        images=SqlImageStore(engine),
        links=SqlBlobLinkStore(engine),
        uploads=SqlUploadStore(engine),
        tokens=SqlTokenStore(engine),
        blobs=FileBlobStore(blob_dir),
    )


def ecr_lookup(stores: EcrStores) -> RepositoryLookup:
    """The authorizer's resource lookup for ``arn:aws:ecr:...:repository/...``."""
    return RepositoryLookup(stores)


def ecr_services(
    stores: EcrStores,
    authorizer: Authorizer,
    directory: PrincipalDirectory,
    addressing: RegistryAddressing,
) -> EcrServices:
    """Wire the ECR services (the ``/v2/`` data plane reuses the same instances)."""
    repositories = RepositoryService(stores, authorizer)
    registry_tokens = RegistryTokens(stores.tokens)
    return EcrServices(
        repositories=repositories,
        policies=PolicyService(stores, authorizer, directory, repositories),
        images=ImageService(stores, authorizer, repositories),
        layers=LayerService(stores, authorizer, repositories),
        tokens=TokenService(registry_tokens, authorizer, addressing),
        addressing=addressing,
        registry_tokens=registry_tokens,
    )
