"""The blob store contract: content-addressed, streamed, verified, committed atomically.

Bytes reach a blob only through a :class:`BlobWriter`, which hashes them as they are
written and commits only when they match the expected digest. Upload sessions are
writers that outlive the process: :meth:`BlobStore.resume_upload` reopens one by id (after
a restart too) at the offset it had reached.

Every method is synchronous and may block on disk I/O: async callers run them in a
worker thread (``starlette.concurrency.run_in_threadpool``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol

from crossdock.oci.digest import Digest

UPLOAD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
"""What an upload session id may look like (every store rejects anything else)."""


@dataclass(frozen=True, slots=True)
class BlobInfo:
    """A committed blob: its digest and its size in bytes."""

    digest: Digest
    size: int


class BlobWriter(Protocol):
    """Bytes on their way to becoming a blob. Use as a context manager.

    Leaving the ``with`` block without :meth:`commit` closes the writer: an upload session
    keeps its bytes for a later :meth:`BlobStore.resume_upload`; an anonymous writer
    (:meth:`BlobStore.writer`) discards them.
    """

    @property
    def size(self) -> int:
        """Bytes written so far (for a resumed upload, including earlier sessions)."""
        ...

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append ``data``, hashing it on the way."""
        ...

    def commit(self, expected: Digest) -> BlobInfo:
        """Verify the bytes against ``expected`` and make them the blob of that digest.

        Raises BlobDigestMismatchError (and commits nothing) when they do not match; an
        upload session then keeps its bytes. A blob that exists already is kept as is.
        """
        ...

    def close(self) -> None:
        """Stop writing without committing (see the class docstring)."""
        ...

    def __enter__(self) -> BlobWriter: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None: ...


class BlobStore(Protocol):
    """Content-addressed blobs, shared by every repository of every account."""

    def stat(self, digest: Digest) -> BlobInfo | None:
        """The blob's size, or None when it is not stored."""
        ...

    def read(self, digest: Digest, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        """Stream the blob's bytes (a range when ``offset``/``length`` are given).

        Raises BlobNotFoundError at the call, before any byte is produced.
        """
        ...

    def local_path(self, digest: Digest) -> Path | None:
        """A file holding the blob, for zero-copy sending; None if not stored or not local."""
        ...

    def delete(self, digest: Digest) -> bool:
        """Remove the blob; False when it was not stored."""
        ...

    def digests(self) -> Iterator[Digest]:
        """Every stored blob's digest (for garbage collection and ``fsck``)."""
        ...

    def writer(self) -> BlobWriter:
        """An anonymous, one-shot writer (a monolithic upload)."""
        ...

    def create_upload(self, upload_id: str) -> None:
        """Start an empty upload session that survives restarts."""
        ...

    def resume_upload(self, upload_id: str) -> BlobWriter:
        """Reopen an upload session for writing, exclusively; raise UploadNotFoundError."""
        ...

    def upload_size(self, upload_id: str) -> int | None:
        """Bytes received by an upload session, or None when there is no such session."""
        ...

    def delete_upload(self, upload_id: str) -> bool:
        """Discard an upload session and its bytes; False when there was none."""
        ...


class BlobUrls(Protocol):
    """A store whose blobs clients can download directly (S3: presigned URLs)."""

    def download_url(self, digest: Digest, expires_in: int = ...) -> str:
        """A URL that serves the blob's bytes (``Range`` too) without credentials, for a
        while; the blob must exist (this is not checked)."""
        ...
