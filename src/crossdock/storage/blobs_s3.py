"""The S3 blob store: blobs in a bucket of AWS S3 or any S3-compatible store.

Layout below the URL's prefix::

    blobs/sha256/<hex>                 committed blobs, named by digest
    uploads/<id>/session               an upload session exists while this (empty) object does
    uploads/<id>/data/<offset>         its bytes, as segments named by their first byte
    tmp/<random>/data/<offset>         an anonymous writer's segments (monolithic uploads)

**Segments.** A writer buffers at most ``part_size`` bytes (8 MiB by default) in memory.
A full buffer becomes the segment at its offset; what is left when a request ends is
stored too, as the last segment, so a session survives a restart and continues on any
node. A last segment smaller than 5 MiB is rewritten, longer, by the next request (same
key, ``If-Match`` its ETag), so every segment but the last is at least 5 MiB, as S3's
multipart parts must be. New segments are written ``If-None-Match: *``: two writers of one
session (two nodes) cannot silently overwrite each other; the loser gets
UploadOffsetError. A session's size is the end of the chain of segments from offset 0,
read with one LIST.

**Commit.** The bytes are hashed as they stream in. On commit, when they match the
expected digest, the segments are concatenated server-side into ``blobs/<alg>/<hex>``
(CopyObject for one, UploadPartCopy parts of a multipart upload for several), each copied
only while it still has the ETag that was hashed. The blob object appears only when the
copy completes, and only with verified bytes. An anonymous writer whose bytes all fit in
its buffer is committed with one PutObject instead.

**Hash state.** Python's hashlib cannot serialise a hash's state, so it cannot be
stored with the session. A node keeps the state of the sessions it wrote last in memory,
tied to the ETags of their segments; a node that resumes a session it did not write last
(a restart, another node) carries no state and hashes the whole session once, at commit,
by reading every segment back from the store: one extra download of the blob per
change of node, and none while requests stay on one node.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType

from crossdock.oci.digest import HEX_LENGTHS, Digest, Hasher
from crossdock.oci.errors import DigestError
from crossdock.storage.blobs import UPLOAD_ID, BlobInfo
from crossdock.storage.errors import (
    BlobDigestMismatchError,
    BlobNotFoundError,
    UploadNotFoundError,
    UploadOffsetError,
)
from crossdock.storage.s3_bucket import (
    ObjectInfo,
    S3Bucket,
    S3InvalidRange,
    S3Missing,
    S3PreconditionFailed,
)
from crossdock.storage.s3_location import MIN_PART, S3Location, parse_s3_url

PRESIGN_SECONDS = 1200
"""How long a presigned download URL stays valid (20 minutes)."""
_OFFSET_DIGITS = 20
_SEGMENT = re.compile(r"\d{20}")
_Chain = tuple[ObjectInfo, ...]


class _HashStates:
    """The hash state of recently written upload sessions, tied to their segments' ETags."""

    def __init__(self, limit: int = 1024) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[_Chain, Hasher]] = OrderedDict()

    def take(self, upload_id: str, chain: _Chain) -> Hasher | None:
        with self._lock:
            entry = self._entries.pop(upload_id, None)
        return entry[1] if entry is not None and entry[0] == chain else None

    def put(self, upload_id: str, chain: _Chain, hasher: Hasher) -> None:
        with self._lock:
            self._entries[upload_id] = (chain, hasher)
            while len(self._entries) > self._limit:
                self._entries.popitem(last=False)

    def drop(self, upload_id: str) -> None:
        with self._lock:
            self._entries.pop(upload_id, None)


class _SessionLocks:
    """One writer per upload session in this process (other nodes: conditional writes)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    def acquire(self, upload_id: str) -> None:
        with self._guard:
            lock, users = self._locks.get(upload_id, (threading.Lock(), 0))
            self._locks[upload_id] = (lock, users + 1)
        lock.acquire()

    def release(self, upload_id: str) -> None:
        with self._guard:
            lock, users = self._locks[upload_id]
            if users == 1:
                del self._locks[upload_id]
            else:
                self._locks[upload_id] = (lock, users - 1)
        lock.release()


def _chain(objects: Sequence[ObjectInfo], data_prefix: str) -> _Chain:
    """The segments that continue each other from offset 0, in order."""
    by_offset: dict[int, ObjectInfo] = {}
    for item in objects:
        name = item.key[len(data_prefix) :]
        if item.key.startswith(data_prefix) and _SEGMENT.fullmatch(name):
            by_offset[int(name)] = item
    chain = []
    end = 0
    while (segment := by_offset.get(end)) is not None and segment.size > 0:
        chain.append(segment)
        end += segment.size
    return tuple(chain)


def _end(chain: _Chain) -> int:
    return sum(item.size for item in chain)


class S3BlobWriter:
    """A writer into segments; see :class:`crossdock.storage.blobs.BlobWriter`."""

    def __init__(
        self,
        store: S3BlobStore,
        base: str,
        upload_id: str | None,
        chain: _Chain,
        hasher: Hasher | None,
    ) -> None:
        self._store = store
        self._bucket = store.bucket
        self._data = f"{base}data/"
        self._upload_id = upload_id
        self._open = True
        self._hasher = hasher
        # Segments before the buffer; ``_last`` is a stored segment under 5 MiB that the
        # buffer extends (its bytes are read into the buffer before the first write).
        last = chain[-1] if chain and chain[-1].size < MIN_PART else None
        self._sealed: list[ObjectInfo] = list(chain[:-1] if last is not None else chain)
        self._last = last
        self._offset = _end(tuple(self._sealed))
        self._buffer = bytearray()
        self._loaded = last is None
        self._dirty = False

    @property
    def size(self) -> int:
        """Bytes written so far (stored or buffered)."""
        pending = self._last.size if self._last is not None and not self._loaded else 0
        return self._offset + pending + len(self._buffer)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append ``data``, hashing it; a full buffer is stored as a segment at once."""
        if not self._open:
            raise ValueError("the writer is closed")
        if not data:
            return
        if not self._loaded:
            self._load_last()
        self._buffer += data
        self._dirty = True
        if self._hasher is not None:
            self._hasher.update(data)
        part = self._store.location.part_size
        while len(self._buffer) >= part:
            self._store_segment(bytes(self._buffer[:part]))
            del self._buffer[:part]

    def _load_last(self) -> None:
        last = self._last
        assert last is not None
        try:
            self._buffer[:0] = b"".join(self._bucket.get(last.key, etag=last.etag))
        except (S3PreconditionFailed, S3Missing):
            self._conflict()
        self._loaded = True

    def _store_segment(self, data: bytes) -> None:
        """Store ``data`` as the segment at ``_offset`` and move past it."""
        key = f"{self._data}{self._offset:0{_OFFSET_DIGITS}d}"
        replaced = self._last
        try:
            if replaced is not None:
                etag = self._bucket.put(key, data, if_match=replaced.etag)
            else:
                etag = self._bucket.put(key, data, if_absent=True)
        except S3PreconditionFailed:
            self._conflict()
        self._last = None
        self._sealed.append(ObjectInfo(key, len(data), etag))
        self._offset += len(data)

    def _flush(self) -> None:
        """Store what the buffer holds; a short tail stays the (rewritable) last segment."""
        if not self._dirty or not self._buffer:
            self._dirty = False
            return
        data = bytes(self._buffer)
        self._buffer.clear()
        self._store_segment(data)
        self._dirty = False
        if len(data) < MIN_PART:
            self._last = self._sealed.pop()
            self._offset -= len(data)
            self._buffer[:] = data

    def _conflict(self) -> None:
        self._release()
        stored = self._store.upload_size(self._upload_id) if self._upload_id else None
        size = stored if stored is not None else 0
        raise UploadOffsetError(self._upload_id or "(anonymous)", self.size, size)

    def _chain(self) -> _Chain:
        last = (self._last,) if self._last is not None else ()
        return (*self._sealed, *last)

    def commit(self, expected: Digest) -> BlobInfo:
        """Verify the bytes and copy them, server-side, to their digest's object."""
        if not self._open:
            raise ValueError("the writer is closed")
        target = self._store.blob_key(expected)
        if not self._chain() and self._hasher is not None:
            return self._commit_buffer(expected, target)
        self._flush()
        chain = self._chain()
        size = _end(chain)
        actual = self._digest(chain, expected.algorithm)
        if actual != expected:
            self.close()
            raise BlobDigestMismatchError(str(expected), str(actual), size)
        stored = self._bucket.head(target)
        if stored is None or stored.size != size:  # absent, or damaged: replace it
            try:
                if chain:
                    self._bucket.concatenate(chain, target)
                else:
                    self._bucket.put(target, b"")
            except (S3PreconditionFailed, S3Missing):
                self._conflict()
        self._finish(committed=True)
        return BlobInfo(expected, size)

    def _commit_buffer(self, expected: Digest, target: str) -> BlobInfo:
        assert self._hasher is not None
        data = bytes(self._buffer)
        actual = self._hasher.digest()
        if actual.algorithm != expected.algorithm:
            actual = Digest.of(data, expected.algorithm)
        if actual != expected:
            self.close()
            raise BlobDigestMismatchError(str(expected), str(actual), len(data))
        stored = self._bucket.head(target)
        if stored is None or stored.size != len(data):
            self._bucket.put(target, data)
        self._finish(committed=True)
        return BlobInfo(expected, len(data))

    def _digest(self, chain: _Chain, algorithm: str) -> Digest:
        if self._hasher is not None and self._hasher.algorithm == algorithm:
            return self._hasher.digest()
        hasher = Hasher(algorithm)
        try:
            for segment in chain:
                for chunk in self._bucket.get(segment.key, etag=segment.etag):
                    hasher.update(chunk)
        except (S3PreconditionFailed, S3Missing):
            self._conflict()
        if algorithm == "sha256":
            self._hasher = hasher
        return hasher.digest()

    def close(self) -> None:
        """Stop writing: a session stores its buffer, an anonymous writer drops its bytes."""
        if not self._open:
            return
        if self._upload_id is None:
            self._finish(committed=False)
            return
        try:
            self._flush()
        finally:
            self._release()
        if self._hasher is not None:
            self._store.remember(self._upload_id, self._chain(), self._hasher)

    def _finish(self, committed: bool) -> None:
        """Remove the writer's objects (the session's marker first), then let go."""
        keys = [item.key for item in self._chain()]
        try:
            if self._upload_id is not None and committed:
                self._store.delete_upload(self._upload_id)
            elif keys:
                self._bucket.delete(keys)
        finally:
            self._release()

    def _release(self) -> None:
        if self._open:
            self._open = False
            self._buffer = bytearray()
            if self._upload_id is not None:
                self._store.unlock(self._upload_id)

    def __enter__(self) -> S3BlobWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class S3BlobStore:
    """A :class:`crossdock.storage.blobs.BlobStore` in an S3 bucket (see the module docstring).

    It also hands out presigned download URLs (:class:`crossdock.storage.blobs.BlobUrls`).
    """

    def __init__(self, location: S3Location, bucket: S3Bucket | None = None) -> None:
        """A store at ``location``; nothing is contacted until the first call."""
        self.location = location
        self.bucket = bucket if bucket is not None else S3Bucket(location)
        self._hash_states = _HashStates()
        self._locks = _SessionLocks()

    @classmethod
    def from_url(cls, url: str) -> S3BlobStore:
        """The store an ``s3://bucket/prefix?endpoint=...&region=...`` URL names."""
        return cls(parse_s3_url(url))

    # --- committed blobs -------------------------------------------------------------

    def blob_key(self, digest: Digest) -> str:
        """The object key of the blob of ``digest``."""
        return self.location.key("blobs", digest.algorithm, digest.hex)

    def stat(self, digest: Digest) -> BlobInfo | None:
        """The blob's size (a HEAD), or None."""
        found = self.bucket.head(self.blob_key(digest))
        return None if found is None else BlobInfo(digest, found.size)

    def read(self, digest: Digest, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        """Stream the blob (a ranged GET for a range); BlobNotFoundError now if it is missing."""
        key = self.blob_key(digest)
        if length == 0:
            if self.bucket.head(key) is None:
                raise BlobNotFoundError(str(digest))
            return iter(())
        last = None if length is None else offset + length - 1
        try:
            return self.bucket.get(key, offset, last)
        except S3Missing:
            raise BlobNotFoundError(str(digest)) from None
        except S3InvalidRange:  # the range starts at or past the end
            if self.bucket.head(key) is None:
                raise BlobNotFoundError(str(digest)) from None
            return iter(())

    def local_path(self, digest: Digest) -> Path | None:
        """None: no blob is a local file."""
        return None

    def delete(self, digest: Digest) -> bool:
        """Remove the blob's object."""
        key = self.blob_key(digest)
        if self.bucket.head(key) is None:
            return False
        self.bucket.delete([key])
        return True

    def digests(self) -> Iterator[Digest]:
        """Every committed blob, from a LIST of ``blobs/``."""
        base = self.location.key("blobs", "")
        for item in self.bucket.list(base):
            algorithm, _, encoded = item.key[len(base) :].partition("/")
            if algorithm in HEX_LENGTHS and "/" not in encoded:
                try:
                    yield Digest(algorithm, encoded)
                except DigestError:
                    continue

    def download_url(self, digest: Digest, expires_in: int = PRESIGN_SECONDS) -> str:
        """A presigned GET URL of the blob's object (computed locally: no request)."""
        return self.bucket.presigned_get(self.blob_key(digest), expires_in)

    # --- writers and upload sessions -------------------------------------------------

    def writer(self) -> S3BlobWriter:
        """An anonymous writer: its segments (if it needs any) go below ``tmp/``."""
        base = self.location.key("tmp", uuid.uuid4().hex, "")
        return S3BlobWriter(self, base, None, (), Hasher())

    def create_upload(self, upload_id: str) -> None:
        """Store the session's marker object."""
        self.bucket.put(self._marker(upload_id), b"", if_absent=True)

    def resume_upload(self, upload_id: str) -> S3BlobWriter:
        """A writer at the end of the session (exclusive within this process)."""
        base = self._session_base(upload_id)
        self._locks.acquire(upload_id)
        try:
            chain = self._session_chain(upload_id)
            if chain is None:
                raise UploadNotFoundError(upload_id)
            hasher = self._hash_states.take(upload_id, chain)
            if hasher is None and not chain:
                hasher = Hasher()
        except BaseException:
            self._locks.release(upload_id)
            raise
        return S3BlobWriter(self, base, upload_id, chain, hasher)

    def upload_size(self, upload_id: str) -> int | None:
        """The session's stored bytes (one LIST), or None."""
        if UPLOAD_ID.fullmatch(upload_id) is None:
            return None
        chain = self._session_chain(upload_id)
        return None if chain is None else _end(chain)

    def delete_upload(self, upload_id: str) -> bool:
        """Remove the session's marker, then its segments."""
        if UPLOAD_ID.fullmatch(upload_id) is None:
            return False
        self._hash_states.drop(upload_id)
        objects = list(self.bucket.list(self._session_base(upload_id)))
        marker = self._marker(upload_id)
        existed = any(item.key == marker for item in objects)
        self.bucket.delete([marker])
        self.bucket.delete([item.key for item in objects if item.key != marker])
        return existed

    def remember(self, upload_id: str, chain: _Chain, hasher: Hasher) -> None:
        """Keep a session's hash state for its next writer on this node."""
        self._hash_states.put(upload_id, chain, hasher)

    def unlock(self, upload_id: str) -> None:
        """Let the next writer of the session in (called by the writer)."""
        self._locks.release(upload_id)

    def _session_base(self, upload_id: str) -> str:
        if UPLOAD_ID.fullmatch(upload_id) is None:
            raise UploadNotFoundError(upload_id)
        return self.location.key("uploads", upload_id, "")

    def _marker(self, upload_id: str) -> str:
        return self._session_base(upload_id) + "session"

    def _session_chain(self, upload_id: str) -> _Chain | None:
        base = self._session_base(upload_id)
        objects = list(self.bucket.list(base))
        if not any(item.key == base + "session" for item in objects):
            return None
        return _chain(objects, base + "data/")
