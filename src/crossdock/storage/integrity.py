"""What ``crossdock fsck`` reads and repairs: the blob directory's files and the metadata rows.

Two small contracts, one per medium:

* :class:`BlobFiles`: every file under the blob directory, classified by where it lies
  (committed blob, upload session, anonymous temp file, or something that does not
  belong), streamed hashing, and the few file operations a repair needs;
* :class:`IntegrityStore`: the metadata rows that refer to blobs, images and upload
  sessions, read in bulk, and the row-level repairs.

Neither decides what is wrong: that is ``crossdock.service.fsck``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Protocol

from crossdock.oci.digest import Digest


class FileKind(Enum):
    """Where a file lies in the blob directory."""

    BLOB = "blob"
    """``<algorithm>/<xx>/<hex>``: a committed blob, named by its digest."""
    UPLOAD = "upload"
    """``uploads/<id>``: the bytes of an upload session."""
    TEMP = "temp"
    """``tmp/<random>``: an anonymous writer's bytes (a monolithic upload in flight)."""
    STRAY = "stray"
    """Anything else: no writer of crossdock puts a file there."""


@dataclass(frozen=True, slots=True)
class StoredFile:
    """One file of the blob directory."""

    kind: FileKind
    path: str
    """Relative to the blob directory, with ``/`` separators."""
    size: int
    mtime: float
    digest: Digest | None = None
    """For :attr:`FileKind.BLOB`: the digest the file's name claims."""
    upload_id: str | None = None
    """For :attr:`FileKind.UPLOAD`: the session id."""


class BlobFiles(Protocol):
    """The files of a blob directory, for checking and repair."""

    @property
    def root(self) -> Path:
        """The blob directory."""
        ...

    def scan(self) -> Iterator[StoredFile]:
        """Every regular file under the directory, in path order."""
        ...

    def blob_path(self, digest: Digest) -> Path:
        """Where the blob of ``digest`` is (or would be), below :attr:`root`."""
        ...

    def hash_blob(self, digest: Digest) -> Digest | None:
        """The digest of the blob file's bytes under ``digest``'s algorithm (streamed);
        None when the file is not there."""
        ...

    def quarantine(self, path: str, into: Path) -> Path:
        """Move the file at ``path`` to ``into/<path>``; return where it went."""
        ...

    def remove(self, path: str) -> bool:
        """Delete the file at ``path``; False when it was already gone."""
        ...


@dataclass(frozen=True, slots=True)
class RepositoryKey:
    """A repository, by its address."""

    account_id: str
    region: str
    name: str


@dataclass(frozen=True, slots=True)
class ImageReference:
    """An image (``image_digest`` in ``repository``) that refers to ``target``."""

    repository: RepositoryKey
    image_digest: str
    target: str


@dataclass(frozen=True, slots=True)
class StoredManifest:
    """An image's stored manifest bytes and the digest it is filed under."""

    id: int
    repository: RepositoryKey
    digest: str
    manifest: bytes


@dataclass(frozen=True, slots=True)
class UploadSession:
    """An upload session's row: its id and when it was last written to."""

    id: str
    updated_at: float


class IntegrityStore(Protocol):
    """The metadata rows ``fsck`` checks against the files, and their repairs."""

    def blob_rows(self) -> dict[str, int]:
        """Every ``ecr_blobs`` row: digest → recorded size."""
        ...

    def holders(self, digest: str) -> tuple[RepositoryKey, ...]:
        """The repositories that hold (link) the blob."""
        ...

    def dangling_links(self) -> list[tuple[RepositoryKey, str]]:
        """Repository → blob links whose blob has no ``ecr_blobs`` row."""
        ...

    def unlinked_image_blobs(self) -> list[ImageReference]:
        """Image → blob references whose blob the image's repository does not hold."""
        ...

    def image_blob_references(self, digests: Iterable[str]) -> list[ImageReference]:
        """Image → blob references to any of ``digests``."""
        ...

    def missing_children(self) -> list[ImageReference]:
        """Index → child manifest references with no such image in the repository."""
        ...

    def manifests(self, after_id: int, limit: int) -> list[StoredManifest]:
        """Up to ``limit`` images in id order, after the image id ``after_id``."""
        ...

    def upload_sessions(self) -> list[UploadSession]:
        """Every upload session row."""
        ...

    def forget_blob(self, digest: str) -> int:
        """Remove the blob's row and every repository's link to it (one transaction), so
        that the next push uploads it again; return how many links went."""
        ...

    def correct_blob_size(self, digest: str, size: int) -> None:
        """Set the recorded size of the blob."""
        ...

    def drop_dangling_link(self, repository: RepositoryKey, digest: str) -> None:
        """Remove one repository → blob link."""
        ...

    def drop_upload(self, upload_id: str) -> bool:
        """Remove an upload session's row."""
        ...
