"""Errors of the storage layer.

CrossdockError
└── StorageError                 (crossdock.storage) a store cannot do what was asked
    ├── BlobNotFoundError        no blob has that digest
    ├── BlobDigestMismatchError  the bytes written do not hash to the expected digest
    ├── UploadNotFoundError      no upload session has that id
    ├── UploadOffsetError        a write does not start where the upload ends
    ├── IntegrityConflictError   a uniqueness rule refused a write (name taken, ...)
    ├── ImageInUseError          an index still references the image
    ├── DataDirError             a directory is not a usable crossdock data dir
    └── StorageUnavailableError  the database (or object store) cannot be reached now
        └── BlobStoreUnavailableError  the object store (S3) cannot be reached now
"""

from __future__ import annotations

from crossdock.core.errors import CrossdockError


class StorageError(CrossdockError):
    """A store cannot do what was asked."""


class BlobNotFoundError(StorageError, LookupError):
    """No blob has the digest."""

    def __init__(self, digest: str) -> None:
        self.digest = digest
        super().__init__(f"no blob `{digest}`")


class BlobDigestMismatchError(StorageError, ValueError):
    """The uploaded bytes hash to ``actual``, not to the ``expected`` digest."""

    def __init__(self, expected: str, actual: str, size: int) -> None:
        self.expected = expected
        self.actual = actual
        self.size = size
        super().__init__(f"the upload hashes to `{actual}`, not `{expected}`")


class UploadNotFoundError(StorageError, LookupError):
    """No upload session has the id (never created, committed, or cancelled)."""

    def __init__(self, upload_id: str) -> None:
        self.upload_id = upload_id
        super().__init__(f"no upload `{upload_id}`")


class UploadOffsetError(StorageError, ValueError):
    """A write starts at ``offset`` but the upload holds ``size`` bytes."""

    def __init__(self, upload_id: str, offset: int, size: int) -> None:
        self.upload_id = upload_id
        self.offset = offset
        self.size = size
        super().__init__(f"upload `{upload_id}` holds {size} bytes; a write at {offset} is refused")


class IntegrityConflictError(StorageError):
    """A write was refused by a uniqueness rule (for example, a repository name is taken)."""


class ImageInUseError(StorageError):
    """An image cannot be deleted: an index in its repository references it."""

    def __init__(self, digest: str, parents: tuple[str, ...]) -> None:
        self.digest = digest
        self.parents = parents
        super().__init__(f"image `{digest}` is referenced by {', '.join(parents)}")


class DataDirError(StorageError):
    """The directory is not a crossdock data dir this version can open as it is."""


class StorageUnavailableError(StorageError):
    """A backing service (``service``: "database", "object store") cannot serve right now.

    The request may succeed when retried: the API answers 503 (``ServerException`` on the
    ECR API) with ``Retry-After: <retry_after>``.
    """

    def __init__(self, service: str, reason: str, retry_after: int = 1) -> None:
        self.service = service
        self.reason = reason
        self.retry_after = retry_after
        super().__init__(f"the {service} is unavailable: {reason}")


class BlobStoreUnavailableError(StorageUnavailableError):
    """The object store holding the blobs (S3 or compatible) cannot serve right now."""

    SERVICE = "object store"

    def __init__(self, reason: str, retry_after: int = 1) -> None:
        super().__init__(self.SERVICE, reason, retry_after)
