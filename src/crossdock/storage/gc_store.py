"""What online garbage collection reads and changes in the metadata (docs/gc.md).

The store decides nothing about *what* is garbage; ``crossdock.service.gc`` does. What
the store guarantees is that every change is conditional and atomic: a link, a blob row
or an upload session is removed only if, inside the transaction that removes it, it is
still unused, so a push racing the collector either wins (and the object stays) or
loses cleanly (and sees the object gone).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from crossdock.storage.integrity import RepositoryKey


@dataclass(frozen=True, slots=True)
class BlobUsage:
    """A blob row and everything that keeps it."""

    digest: str
    size: int
    last_used: float
    """When an upload or mount last pinned it (else when it was recorded)."""
    links: int
    """Repositories holding it (``ecr_repository_blobs``)."""
    images: int
    """Images referencing it (``ecr_image_blobs``), in any repository."""
    pins: int
    """Unexpired pins: uploads or mounts relying on it right now."""


@dataclass(frozen=True, slots=True)
class UnreferencedLink:
    """A repository's link to a blob that no image of that repository references."""

    repository_id: int
    repository: RepositoryKey
    digest: str
    last_used: float
    """The link's last upload, mount or HEAD (else its creation)."""


@dataclass(frozen=True, slots=True)
class StaleUpload:
    """An upload session not written to since the cutoff."""

    upload_id: str
    repository: RepositoryKey
    bytes_received: int
    updated_at: float


class BlobDeletion(Enum):
    """What :meth:`GcStore.delete_blob` did."""

    DELETED = "deleted"
    IN_USE = "in_use"
    """Linked, referenced, pinned or used after the cutoff by the time it was locked."""
    GONE = "gone"
    """No such row (another collector was first)."""


class GcStore(Protocol):
    """The garbage collector's reads and its conditional deletes."""

    def count_blobs(self) -> int:
        """How many blob rows there are."""
        ...

    def blob_usage(self, after: str | None, limit: int, now: float) -> list[BlobUsage]:
        """Up to ``limit`` blob rows in digest order after ``after``; pins as of ``now``."""
        ...

    def unreferenced_links(
        self, after: tuple[int, str] | None, limit: int
    ) -> list[UnreferencedLink]:
        """Links no image of their repository references, by (repository id, digest)."""
        ...

    def drop_link(self, repository_id: int, digest: str, cutoff: float) -> bool:
        """Under the repository's lock: remove the link if no image of the repository
        references the blob and it was last used before ``cutoff``."""
        ...

    def delete_blob(
        self, digest: str, cutoff: float, now: float, remove_bytes: Callable[[], object]
    ) -> BlobDeletion:
        """Lock the blob row; if nothing links, references or pins it and it was last used
        before ``cutoff``, delete the row and call ``remove_bytes`` before committing.

        An exception from ``remove_bytes`` rolls the row back and propagates.
        """
        ...

    def stale_uploads(self, cutoff: float, after: str | None, limit: int) -> list[StaleUpload]:
        """Up to ``limit`` upload sessions last written before ``cutoff``, by id after
        ``after``."""
        ...

    def drop_upload(self, upload_id: str, cutoff: float) -> bool:
        """Delete the session row if it was still last written before ``cutoff``."""
        ...

    def expire_pins(self, now: float) -> int:
        """Delete the pins that expired before ``now`` (their writers died)."""
        ...

    def recorded(self, digests: Sequence[str]) -> set[str]:
        """Those of ``digests`` that have a blob row."""
        ...

    def adopt_blob(self, digest: str, size: int, now: float) -> bool:
        """Record stored bytes that have no row (an interrupted push); False if a row
        appeared meanwhile."""
        ...
