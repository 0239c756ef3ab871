"""The filesystem blob store: ``<data-dir>/blobs/``.

Layout::

    blobs/sha256/ab/abcdef...     committed blobs, named by digest (read-only once there)
    blobs/uploads/<upload id>     upload sessions: the bytes received so far
    blobs/tmp/<random>            anonymous writers (monolithic uploads)

A commit hashes while writing, then fsyncs the file, checks the digest, renames the file
to its digest name (atomic on one filesystem) and fsyncs the directory. A crash at any
point leaves either no blob or a complete one; stray files under ``tmp/`` are garbage.
Writers of the same digest race harmlessly: both files hold the same bytes. A commit keeps
an existing blob file of the right size and replaces one of the wrong size (damaged), so
re-pushing a truncated blob heals it; ``crossdock fsck`` finds damage of any kind.

An upload session is locked with ``flock`` while a writer holds it, so two requests (or
two processes sharing the directory) never append to it at once. The hash state of a
session is kept in memory between requests; after a restart it is recomputed from the
file once.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from crossdock.oci.digest import HEX_LENGTHS, Digest, Hasher
from crossdock.oci.errors import DigestError
from crossdock.storage.blobs import UPLOAD_ID, BlobInfo
from crossdock.storage.errors import (
    BlobDigestMismatchError,
    BlobNotFoundError,
    UploadNotFoundError,
)
from crossdock.storage.integrity import FileKind, StoredFile

CHUNK = 1024 * 1024
WRITEBACK = 8 * 1024 * 1024
"""A writer starts the kernel's writeback of its file every this many bytes."""
# POSIX_FADV_DONTNEED on pages just written (still dirty) starts their writeback without
# waiting for it, and Linux keeps pages that are dirty or under writeback cached, so a GET
# right after the push still reads from memory. Elsewhere the commit's fsync does it all.
_FADVISE = getattr(os, "POSIX_FADV_DONTNEED", None) if hasattr(os, "posix_fadvise") else None
_UPLOAD_ID = UPLOAD_ID


def _file_size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _HasherCache:
    """The hash state of recently written upload sessions, keyed by upload id."""

    def __init__(self, limit: int = 1024) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, Hasher] = OrderedDict()

    def take(self, upload_id: str, size: int) -> Hasher | None:
        with self._lock:
            hasher = self._entries.pop(upload_id, None)
        return hasher if hasher is not None and hasher.size == size else None

    def put(self, upload_id: str, hasher: Hasher) -> None:
        with self._lock:
            self._entries[upload_id] = hasher
            while len(self._entries) > self._limit:
                self._entries.popitem(last=False)

    def drop(self, upload_id: str) -> None:
        with self._lock:
            self._entries.pop(upload_id, None)


class FileBlobWriter:
    """A writer over one open file; see :class:`crossdock.storage.blobs.BlobWriter`."""

    def __init__(
        self,
        store: FileBlobStore,
        path: Path,
        handle: BinaryIO,
        hasher: Hasher,
        upload_id: str | None,
    ) -> None:
        self._store = store
        self._path = path
        self._handle = handle
        self._hasher = hasher
        self._upload_id = upload_id
        self._open = True
        self._written_back = hasher.size

    @property
    def size(self) -> int:
        """Bytes written so far."""
        return self._hasher.size

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append ``data`` and hash it."""
        if not self._open:
            raise ValueError("the writer is closed")
        self._handle.write(data)
        self._hasher.update(data)
        if self._hasher.size - self._written_back >= WRITEBACK:
            self._start_writeback()

    def _start_writeback(self) -> None:
        # Without this the commit's fsync waits for every byte at once (about 0.4 s per GiB
        # here); started as the bytes arrive, the writeback overlaps the upload.
        self._handle.flush()
        end = self._hasher.size
        if _FADVISE is not None:
            fd, start = self._handle.fileno(), self._written_back
            os.posix_fadvise(fd, start, end - start, _FADVISE)
        self._written_back = end

    def commit(self, expected: Digest) -> BlobInfo:
        """Verify and move the bytes to their digest's name (see the module docstring)."""
        if not self._open:
            raise ValueError("the writer is closed")
        self._handle.flush()
        os.fsync(self._handle.fileno())
        size = self._hasher.size
        actual = self._hasher.digest()
        if actual.algorithm != expected.algorithm:
            actual = self._store.hash_file(self._path, expected.algorithm)
        if actual != expected:
            self.close()
            raise BlobDigestMismatchError(str(expected), str(actual), size)
        target = self._store.blob_path(expected)
        if _file_size(target) == size:
            self._path.unlink(missing_ok=True)
        else:  # absent, or damaged (a truncated file): the verified bytes replace it
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self._path, target)
            _fsync_dir(target.parent)
        self._finish()
        if self._upload_id is not None:
            self._store.forget(self._upload_id)
        return BlobInfo(expected, size)

    def close(self) -> None:
        """Stop writing: an upload session keeps its bytes, an anonymous writer drops them.

        A session's bytes are fsynced first, so the size it reports afterwards is what
        survives a crash.
        """
        if not self._open:
            return
        self._handle.flush()
        if self._upload_id is not None:
            os.fsync(self._handle.fileno())
        self._finish()
        if self._upload_id is None:
            self._path.unlink(missing_ok=True)
        else:
            self._store.remember(self._upload_id, self._hasher)

    def _finish(self) -> None:
        self._open = False
        self._handle.close()  # also releases the flock

    def __enter__(self) -> FileBlobWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class FileBlobStore:
    """A :class:`crossdock.storage.blobs.BlobStore` in a directory on a local filesystem."""

    def __init__(self, root: Path, create: bool = True) -> None:
        """A store in ``root``; ``create=False`` creates no directory (``fsck`` reads only)."""
        self.root = root
        self._uploads = root / "uploads"
        self._tmp = root / "tmp"
        if create:
            for directory in (root, self._uploads, self._tmp):
                directory.mkdir(parents=True, exist_ok=True)
        self._hashers = _HasherCache()

    # --- committed blobs -------------------------------------------------------------

    def blob_path(self, digest: Digest) -> Path:
        """Where the blob of ``digest`` lives (whether or not it exists)."""
        return self.root / digest.algorithm / digest.hex[:2] / digest.hex

    def stat(self, digest: Digest) -> BlobInfo | None:
        """The blob's size, or None."""
        try:
            return BlobInfo(digest, self.blob_path(digest).stat().st_size)
        except FileNotFoundError:
            return None

    def read(self, digest: Digest, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        """Stream the blob (or a range of it); raise BlobNotFoundError now if it is missing."""
        try:
            handle = self.blob_path(digest).open("rb")
        except FileNotFoundError:
            raise BlobNotFoundError(str(digest)) from None
        return _chunks(handle, offset, length)

    def local_path(self, digest: Digest) -> Path | None:
        """The blob's file, or None."""
        path = self.blob_path(digest)
        return path if path.is_file() else None

    def delete(self, digest: Digest) -> bool:
        """Remove the blob's file."""
        try:
            self.blob_path(digest).unlink()
        except FileNotFoundError:
            return False
        return True

    def digests(self) -> Iterator[Digest]:
        """Every committed blob, found by walking the layout."""
        for algorithm, length in HEX_LENGTHS.items():
            base = self.root / algorithm
            if not base.is_dir():
                continue
            for path in sorted(base.glob("*/*")):
                if len(path.name) == length and path.parent.name == path.name[:2]:
                    yield Digest(algorithm, path.name)

    def hash_file(self, path: Path, algorithm: str) -> Digest:
        """The digest of a whole file under ``algorithm``."""
        hasher = Hasher(algorithm)
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                hasher.update(chunk)
        return hasher.digest()

    # --- integrity (crossdock fsck) ----------------------------------------------------

    def scan(self) -> Iterator[StoredFile]:
        """Every file under the directory, classified (see :class:`FileKind`), in path order."""
        for directory, subdirectories, names in os.walk(self.root):
            subdirectories.sort()
            base = Path(directory)
            for name in sorted(names):
                path = base / name
                try:
                    info = path.lstat()
                except FileNotFoundError:
                    continue  # removed while we walked (a commit or a cancel)
                relative = path.relative_to(self.root).as_posix()
                yield _classify(relative, info)

    def hash_blob(self, digest: Digest) -> Digest | None:
        """The digest of the blob file's bytes, streamed; None when it is missing."""
        try:
            return self.hash_file(self.blob_path(digest), digest.algorithm)
        except FileNotFoundError:
            return None

    def quarantine(self, path: str, into: Path) -> Path:
        """Move ``path`` (relative to the blob directory) to ``into/<path>``."""
        source = self._inside(path)
        target = into / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(source, target)
        return target

    def remove(self, path: str) -> bool:
        """Delete ``path`` (relative to the blob directory)."""
        try:
            self._inside(path).unlink()
        except FileNotFoundError:
            return False
        return True

    def _inside(self, path: str) -> Path:
        parts = path.split("/")
        if path.startswith("/") or any(part in ("", ".", "..") for part in parts):
            raise ValueError(f"`{path}` is not a file of the blob directory")
        return self.root.joinpath(*parts)

    # --- writers and upload sessions -------------------------------------------------

    def writer(self) -> FileBlobWriter:
        """An anonymous writer into ``tmp/``."""
        path = self._tmp / uuid.uuid4().hex
        handle = path.open("xb")
        return FileBlobWriter(self, path, handle, Hasher(), None)

    def create_upload(self, upload_id: str) -> None:
        """Create the session's empty file."""
        self._upload_path(upload_id).open("xb").close()

    def resume_upload(self, upload_id: str) -> FileBlobWriter:
        """Lock the session's file and position a writer at its end."""
        path = self._upload_path(upload_id)
        try:
            handle = path.open("r+b")
        except FileNotFoundError:
            raise UploadNotFoundError(upload_id) from None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            # The session may have been committed or deleted while we waited for the lock.
            if not path.exists() or os.stat(path).st_ino != os.fstat(handle.fileno()).st_ino:
                raise UploadNotFoundError(upload_id)
            size = handle.seek(0, os.SEEK_END)
            hasher = self._hashers.take(upload_id, size) or self._rehash(handle, size)
        except BaseException:
            handle.close()
            raise
        return FileBlobWriter(self, path, handle, hasher, upload_id)

    def upload_size(self, upload_id: str) -> int | None:
        """The session's byte count, or None."""
        if _UPLOAD_ID.fullmatch(upload_id) is None:
            return None
        try:
            return self._upload_path(upload_id).stat().st_size
        except FileNotFoundError:
            return None

    def delete_upload(self, upload_id: str) -> bool:
        """Remove the session's file."""
        if _UPLOAD_ID.fullmatch(upload_id) is None:
            return False
        self._hashers.drop(upload_id)
        try:
            self._upload_path(upload_id).unlink()
        except FileNotFoundError:
            return False
        return True

    def remember(self, upload_id: str, hasher: Hasher) -> None:
        """Keep a session's hash state for its next writer."""
        self._hashers.put(upload_id, hasher)

    def forget(self, upload_id: str) -> None:
        """Drop a committed session's hash state."""
        self._hashers.drop(upload_id)

    def _upload_path(self, upload_id: str) -> Path:
        if _UPLOAD_ID.fullmatch(upload_id) is None:
            raise UploadNotFoundError(upload_id)
        return self._uploads / upload_id

    @staticmethod
    def _rehash(handle: BinaryIO, size: int) -> Hasher:
        hasher = Hasher()
        handle.seek(0)
        while chunk := handle.read(CHUNK):
            hasher.update(chunk)
        if hasher.size != size:  # the file cannot shrink while we hold the lock
            raise OSError(f"upload changed size while locked ({hasher.size} != {size})")
        return hasher


def _classify(relative: str, info: os.stat_result) -> StoredFile:
    parts = relative.split("/")
    found = StoredFile(FileKind.STRAY, relative, info.st_size, info.st_mtime)
    if not stat.S_ISREG(info.st_mode):
        return found
    if len(parts) == 2 and parts[0] == "tmp":
        return replace(found, kind=FileKind.TEMP)
    if len(parts) == 2 and parts[0] == "uploads" and _UPLOAD_ID.fullmatch(parts[1]):
        return replace(found, kind=FileKind.UPLOAD, upload_id=parts[1])
    if len(parts) == 3 and parts[0] in HEX_LENGTHS and parts[2][:2] == parts[1]:
        try:
            digest = Digest(parts[0], parts[2])
        except DigestError:
            return found
        return replace(found, kind=FileKind.BLOB, digest=digest)
    return found


def _chunks(handle: BinaryIO, offset: int, length: int | None) -> Iterator[bytes]:
    with handle:
        handle.seek(offset)
        remaining = length
        while remaining is None or remaining > 0:
            want = CHUNK if remaining is None else min(CHUNK, remaining)
            chunk = handle.read(want)
            if not chunk:
                return
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk
