"""The S3 blob store's objects as ``crossdock fsck`` sees files (:class:`BlobFiles`).

Paths are object keys below the store's prefix (``blobs/sha256/<hex>``, ``tmp/...``); an
upload session (its ``session`` marker and its data segments, see ``blobs_s3.py``) is
one entry, ``uploads/<id>``, sized by its segments. ``root`` is a stand-in path,
``/<bucket>/<prefix>``: fsck only joins and strips it, nothing is read from disk.
Quarantined objects go to ``quarantine/<stamp>/<path>`` under the prefix, which scans
skip.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from crossdock.oci.digest import HEX_LENGTHS, Digest, Hasher
from crossdock.oci.errors import DigestError
from crossdock.storage.blobs import UPLOAD_ID
from crossdock.storage.blobs_s3 import S3BlobStore
from crossdock.storage.errors import BlobNotFoundError
from crossdock.storage.integrity import FileKind, StoredFile
from crossdock.storage.s3_bucket import ObjectInfo

QUARANTINE = "quarantine"


class S3BlobFiles:
    """:class:`crossdock.storage.integrity.BlobFiles` over an :class:`S3BlobStore`."""

    def __init__(self, store: S3BlobStore) -> None:
        self._store = store
        self._prefix = store.location.prefix

    @property
    def root(self) -> Path:
        """``/<bucket>/<prefix>``: a name for the store, not a directory."""
        return Path("/", self._store.location.bucket, self._prefix)

    def scan(self) -> Iterator[StoredFile]:
        """Every object below the prefix, classified; upload sessions one entry each."""
        sessions: dict[str, list[ObjectInfo]] = {}
        found: list[StoredFile] = []
        for item in self._store.bucket.list(self._prefix):
            path = item.key[len(self._prefix) :]
            parts = path.split("/")
            if parts[0] == QUARANTINE:
                continue
            if _session_object(parts):
                sessions.setdefault(parts[1], []).append(item)
                continue
            found.append(_classify(path, item))
        for upload_id, objects in sessions.items():
            data = [item for item in objects if not item.key.endswith("/session")]
            found.append(
                StoredFile(
                    FileKind.UPLOAD,
                    f"uploads/{upload_id}",
                    sum(item.size for item in data),
                    max(item.modified for item in objects),
                    upload_id=upload_id,
                )
            )
        return iter(sorted(found, key=lambda stored: stored.path))

    def blob_path(self, digest: Digest) -> Path:
        """``root/blobs/<algorithm>/<hex>``: the blob's key, as a path below :attr:`root`."""
        return self.root / "blobs" / digest.algorithm / digest.hex

    def hash_blob(self, digest: Digest) -> Digest | None:
        """The digest of the blob object's bytes, streamed; None when it is missing."""
        hasher = Hasher(digest.algorithm)
        try:
            for chunk in self._store.read(digest):
                hasher.update(chunk)
        except BlobNotFoundError:
            return None
        return hasher.digest()

    def quarantine(self, path: str, into: Path) -> Path:
        """Copy the object at ``path`` to ``quarantine/<into's stamp>/<path>``, then delete it."""
        source = self._store.bucket.head(self._key(path))
        if source is None:
            raise FileNotFoundError(path)
        target = f"{QUARANTINE}/{into.name}/{path}"
        self._store.bucket.concatenate([source], self._prefix + target)
        self._store.bucket.delete([source.key])
        return self.root / target

    def remove(self, path: str) -> bool:
        """Delete the object at ``path`` (a whole session for ``uploads/<id>``)."""
        parts = path.split("/")
        if len(parts) == 2 and parts[0] == "uploads":
            return self._store.delete_upload(parts[1])
        key = self._key(path)
        if self._store.bucket.head(key) is None:
            return False
        self._store.bucket.delete([key])
        return True

    def _key(self, path: str) -> str:
        if path.startswith("/") or any(part in (".", "..") for part in path.split("/")):
            raise ValueError(f"`{path}` is not an object of the blob store")
        return self._prefix + path


def _session_object(parts: list[str]) -> bool:
    """``uploads/<id>/session`` or ``uploads/<id>/data/<offset>``."""
    if len(parts) < 3 or parts[0] != "uploads" or UPLOAD_ID.fullmatch(parts[1]) is None:
        return False
    return parts[2:] == ["session"] or (len(parts) == 4 and parts[2] == "data")


def _classify(path: str, item: ObjectInfo) -> StoredFile:
    parts = path.split("/")
    found = StoredFile(FileKind.STRAY, path, item.size, item.modified)
    if len(parts) == 4 and parts[0] == "tmp" and parts[2] == "data":
        return StoredFile(FileKind.TEMP, path, item.size, item.modified)
    if len(parts) == 3 and parts[0] == "blobs" and parts[1] in HEX_LENGTHS:
        try:
            digest = Digest(parts[1], parts[2])
        except DigestError:
            return found
        return StoredFile(FileKind.BLOB, path, item.size, item.modified, digest=digest)
    return found
