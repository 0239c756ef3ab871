"""The stores the ECR services work on, bundled (built by the composition root)."""

from __future__ import annotations

from dataclasses import dataclass

from crossdock.storage.blobs import BlobStore
from crossdock.storage.registry_store import (
    BlobLinkStore,
    ImageStore,
    LifecycleStore,
    RepositoryStore,
    TokenStore,
    UploadStore,
)


@dataclass(frozen=True, slots=True)
class EcrStores:
    """Metadata stores plus the blob store."""

    repositories: RepositoryStore
    images: ImageStore
    links: BlobLinkStore
    uploads: UploadStore
    tokens: TokenStore
    blobs: BlobStore
    lifecycle: LifecycleStore
