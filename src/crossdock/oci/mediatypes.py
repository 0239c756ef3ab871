"""Media types of manifests, indexes and configs, and what kind of manifest each names."""

from __future__ import annotations

from enum import Enum
from types import MappingProxyType

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


class ManifestKind(Enum):
    """An image manifest (config + layers) or an index of other manifests."""

    IMAGE = "image"
    INDEX = "index"


MANIFEST_KINDS = MappingProxyType(
    {
        OCI_MANIFEST: ManifestKind.IMAGE,
        DOCKER_MANIFEST: ManifestKind.IMAGE,
        OCI_INDEX: ManifestKind.INDEX,
        DOCKER_MANIFEST_LIST: ManifestKind.INDEX,
    }
)
"""Every manifest media type crossdock stores, with its kind."""

SCHEMA1_TYPES = frozenset({DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED, "application/json"})
"""Docker schema 1 (rejected: it is deprecated and its digests are not content digests)."""

OCI_TYPES = frozenset({OCI_MANIFEST, OCI_INDEX})
"""The OCI types, which may carry ``subject`` and ``artifactType``."""


def kind_of(media_type: str) -> ManifestKind | None:
    """The kind of manifest ``media_type`` names; None when crossdock does not store it."""
    return MANIFEST_KINDS.get(_base(media_type))


def is_schema1(media_type: str) -> bool:
    """True for the Docker schema 1 media types."""
    return _base(media_type) in SCHEMA1_TYPES - {"application/json"}


def normalize(media_type: str) -> str:
    """The media type without parameters or surrounding blanks (``; charset=utf-8``)."""
    return _base(media_type)


def _base(media_type: str) -> str:
    return media_type.split(";", 1)[0].strip()
