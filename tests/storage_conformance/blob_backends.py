"""The blob store backends of the conformance suite, as one parametrized fixture.

``blob_backend`` runs each test against the filesystem store and, when
``CROSSDOCK_TEST_S3_URL`` names an S3 location (``scripts/services/seaweedfs.sh`` sets it),
against the S3 store. Every test gets storage of its own: a temporary directory, or a
fresh key prefix below the URL's (removed after the test).

The tests see a store only through its protocol (``storage/blobs.py``), plus
``leftovers()``: what anonymous writers left behind, which must always be nothing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from crossdock.storage.blobs import BlobStore
from crossdock.storage.blobs_fs import FileBlobStore
from crossdock.storage.blobs_s3 import S3BlobStore
from crossdock.storage.s3_location import parse_s3_url

S3_ENV = "CROSSDOCK_TEST_S3_URL"


def s3_url() -> str | None:
    """The test object store's ``s3://`` URL, or None when the tests run without one."""
    return os.environ.get(S3_ENV) or None


def isolated_s3_url(url: str, name: str) -> str:
    """``url`` with ``name`` appended to its key prefix (a store of its own)."""
    parts = urlsplit(url)
    prefix = parts.path.strip("/")
    path = f"/{prefix}/{name}" if prefix else f"/{name}"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def remove_s3_prefix(url: str) -> None:
    """Delete every object below ``url``'s prefix."""
    store = S3BlobStore(parse_s3_url(url))
    keys = [item.key for item in store.bucket.list(store.location.prefix)]
    store.bucket.delete(keys)


@dataclass
class BlobBackend:
    """One blob storage location and how to open stores on it."""

    name: str
    """``filesystem`` or ``s3``."""
    open: Callable[[], BlobStore]
    """A new store object on the same storage: after a restart, or on another node."""
    leftovers: Callable[[], list[str]]
    """What anonymous writers left behind (temporary files or objects)."""
    store: BlobStore
    """The store the test starts with."""


def _filesystem(root: Path) -> BlobBackend:
    def leftovers() -> list[str]:
        return sorted(path.name for path in (root / "tmp").iterdir())

    return BlobBackend("filesystem", lambda: FileBlobStore(root), leftovers, FileBlobStore(root))


def _s3(url: str) -> BlobBackend:
    location = parse_s3_url(url)
    first = S3BlobStore(location)

    def leftovers() -> list[str]:
        return [item.key for item in first.bucket.list(location.key("tmp", ""))]

    return BlobBackend("s3", lambda: S3BlobStore(location), leftovers, first)


@pytest.fixture(params=["filesystem", "s3"])
def blob_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobBackend]:
    """Each blob store implementation, on storage of the test's own."""
    if request.param == "filesystem":
        yield _filesystem(tmp_path / "blobs")
        return
    base = s3_url()
    if base is None:
        pytest.skip(f"{S3_ENV} is not set (scripts/services/seaweedfs.sh starts SeaweedFS)")
    url = isolated_s3_url(base, f"conformance-{uuid.uuid4().hex}")
    try:
        yield _s3(url)
    finally:
        remove_s3_prefix(url)
