"""Errors of the storage layer.

CrossdockError
└── StorageError                 (crossdock.storage) a store cannot do what was asked
    ├── BlobNotFoundError        no blob has that digest
    ├── BlobDigestMismatchError  the bytes written do not hash to the expected digest
    ├── UploadNotFoundError      no upload session has that id
    ├── UploadOffsetError        a write does not start where the upload ends
    ├── IntegrityConflictError   a uniqueness rule refused a write (name taken, ...)
    └── ImageInUseError          an index still references the image
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
