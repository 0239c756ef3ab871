"""Small builders the registry conformance tests share: repositories, images, links."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from metadata_backends import MetadataBackend

from crossdock.storage.registry_store import NewImage, RepositorySettings

ACCOUNT = "111111111111"
REGION = "us-east-1"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"


def digest(seed: str) -> str:
    """A sha256 digest derived from ``seed``."""
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()


def repository(backend: MetadataBackend, name: str = "app", account: str = ACCOUNT) -> int:
    """Create a repository; its id."""
    record = backend.repositories().create_repository(
        account, REGION, name, RepositorySettings(), (), 1.0
    )
    return record.id


def image(
    digest_: str,
    blobs: Sequence[str] = (),
    children: Sequence[str] = (),
    subject: str | None = None,
    manifest: bytes | None = None,
) -> NewImage:
    """An image referencing ``blobs`` (config and layers) and ``children`` (an index's)."""
    body = manifest if manifest is not None else f'{{"for":"{digest_}"}}'.encode()
    return NewImage(
        digest=digest_,
        manifest=body,
        media_type=INDEX_TYPE if children else MANIFEST_TYPE,
        artifact_type=None,
        size=len(body),
        subject_digest=subject,
        blobs=tuple((b, LAYER_TYPE) for b in blobs),
        children=tuple(children),
    )


def link_all(backend: MetadataBackend, repository_id: int, digests: Sequence[str]) -> None:
    """Link each blob to the repository (size 100)."""
    links = backend.links()
    for blob in digests:
        links.link_blob(repository_id, blob, 100, 1.0)
