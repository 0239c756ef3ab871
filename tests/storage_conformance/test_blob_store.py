"""Blob store conformance: every implementation (filesystem, S3) behaves the same.

In the style of distribution's storage-driver suites: each test runs against each backend
of ``blob_backend`` (``blob_backends.py``) through the BlobStore protocol only. "Restart"
and "another node" are new store objects over the same storage.
"""

from __future__ import annotations

import random
import threading
import tracemalloc
from collections.abc import Iterator

import pytest
from blob_backends import BlobBackend

from crossdock.oci.digest import Digest, Hasher
from crossdock.storage.blobs import BlobInfo, BlobStore
from crossdock.storage.errors import (
    BlobDigestMismatchError,
    BlobNotFoundError,
    BlobStoreUnavailableError,
    UploadNotFoundError,
    UploadOffsetError,
)

MIB = 1024 * 1024
SIZES = [11, 9 * MIB + 5]
"""A small blob, and one that spans several S3 segments (8 MiB each by default)."""


def _bytes(size: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(size)


def _commit(store: BlobStore, data: bytes, digest: Digest | None = None) -> BlobInfo:
    with store.writer() as writer:
        for start in range(0, len(data), MIB):
            writer.write(data[start : start + MIB])
        return writer.commit(digest or Digest.of(data))


def _read(store: BlobStore, digest: Digest, offset: int = 0, length: int | None = None) -> bytes:
    return b"".join(store.read(digest, offset, length))


def _append(store: BlobStore, upload_id: str, data: bytes) -> int:
    """One "request": reopen the session, append ``data``, close; the size it reports."""
    with store.resume_upload(upload_id) as writer:
        for start in range(0, len(data), MIB):
            writer.write(data[start : start + MIB])
        return writer.size


# --- committed blobs ---------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_write_commit_read_stat(blob_backend: BlobBackend, size: int) -> None:
    store = blob_backend.store
    data = _bytes(size)
    info = _commit(store, data)
    assert info == BlobInfo(Digest.of(data), size)
    assert store.stat(info.digest) == info
    assert _read(store, info.digest) == data
    assert list(store.digests()) == [info.digest]
    assert blob_backend.leftovers() == []
    # another node sees the same blob
    other = blob_backend.open()
    assert other.stat(info.digest) == info
    assert _read(other, info.digest) == data


@pytest.mark.parametrize("size", SIZES)
def test_digest_mismatch_keeps_nothing(blob_backend: BlobBackend, size: int) -> None:
    store = blob_backend.store
    data = _bytes(size)
    wrong = Digest.of(b"something else")
    with pytest.raises(BlobDigestMismatchError) as error:
        _commit(store, data, wrong)
    assert error.value.expected == str(wrong)
    assert error.value.actual == str(Digest.of(data))
    assert store.stat(wrong) is None
    assert store.stat(Digest.of(data)) is None
    assert list(store.digests()) == []
    assert blob_backend.leftovers() == []


@pytest.mark.parametrize("size", SIZES)
def test_abandoned_writer_keeps_nothing(blob_backend: BlobBackend, size: int) -> None:
    store = blob_backend.store

    def interrupted() -> None:
        with store.writer() as writer:
            writer.write(_bytes(size))
            raise RuntimeError("the client went away")

    with pytest.raises(RuntimeError):
        interrupted()
    assert list(store.digests()) == []
    assert blob_backend.leftovers() == []


def test_read_ranges(blob_backend: BlobBackend) -> None:
    store = blob_backend.store
    data = _bytes(17 * MIB + 3)
    digest = _commit(store, data).digest
    boundary = 8 * MIB  # an S3 segment boundary: the range spans two copied parts
    for offset, length in [
        (0, 10),
        (boundary - 3, 10),
        (len(data) - 5, 5),
        (len(data) - 5, 100),  # past the end: what there is
        (5, None),
        (len(data), None),  # at the end: nothing
        (len(data) + 10, 4),
        (7, 0),
    ]:
        end = None if length is None else offset + length
        assert _read(store, digest, offset, length) == data[offset:end], (offset, length)


def test_missing_blob(blob_backend: BlobBackend) -> None:
    store = blob_backend.store
    missing = Digest.of(b"never stored")
    assert store.stat(missing) is None
    with pytest.raises(BlobNotFoundError):
        store.read(missing)  # raised at the call, before any byte
    with pytest.raises(BlobNotFoundError):
        store.read(missing, 3, 4)
    with pytest.raises(BlobNotFoundError):
        store.read(missing, 0, 0)
    assert store.delete(missing) is False


def test_delete(blob_backend: BlobBackend) -> None:
    store = blob_backend.store
    kept = _commit(store, b"kept").digest
    gone = _commit(store, b"gone").digest
    assert store.delete(gone) is True
    assert store.stat(gone) is None
    assert blob_backend.open().stat(gone) is None
    with pytest.raises(BlobNotFoundError):
        store.read(gone)
    assert store.delete(gone) is False
    assert list(store.digests()) == [kept]


def test_digests_lists_every_blob(blob_backend: BlobBackend) -> None:
    store = blob_backend.store
    digests = {_commit(store, _bytes(100, seed)).digest for seed in range(5)}
    assert set(store.digests()) == digests
    assert set(blob_backend.open().digests()) == digests


def test_empty_blob(blob_backend: BlobBackend) -> None:
    store = blob_backend.store
    info = _commit(store, b"")
    assert info.size == 0
    assert store.stat(info.digest) == info
    assert _read(store, info.digest) == b""


def test_sha512_commit(blob_backend: BlobBackend) -> None:
    store = blob_backend.store
    data = _bytes(9 * MIB)
    digest = Digest.of(data, "sha512")
    assert _commit(store, data, digest) == BlobInfo(digest, len(data))
    assert _read(store, digest, 10, 10) == data[10:20]


def test_deduplicated_commit(blob_backend: BlobBackend) -> None:
    store = blob_backend.store
    first = _commit(store, b"same bytes")
    second = _commit(blob_backend.open(), b"same bytes")
    assert first == second
    assert list(store.digests()) == [first.digest]
    assert blob_backend.leftovers() == []


def test_concurrent_commits_of_the_same_digest(blob_backend: BlobBackend) -> None:
    data = _bytes(9 * MIB + 1)
    stores = [blob_backend.open() for _ in range(4)]
    results: list[BlobInfo] = []
    failures: list[BaseException] = []
    start = threading.Barrier(len(stores))

    def push(store: BlobStore) -> None:
        try:
            start.wait()
            results.append(_commit(store, data))
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=push, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert results == [BlobInfo(Digest.of(data), len(data))] * len(stores)
    store = blob_backend.store
    assert list(store.digests()) == [Digest.of(data)]
    assert _read(store, Digest.of(data)) == data
    assert blob_backend.leftovers() == []


# --- upload sessions ---------------------------------------------------------------------


def test_upload_session_lifecycle(blob_backend: BlobBackend) -> None:
    store = blob_backend.store
    data = _bytes(3 * MIB + 3 * MIB + 4 * MIB + 7)
    store.create_upload("session-1")
    assert store.upload_size("session-1") == 0
    sizes = []
    for start, end in [(0, 3 * MIB), (3 * MIB, 6 * MIB), (6 * MIB, len(data))]:
        sizes.append(_append(store, "session-1", data[start:end]))
        assert store.upload_size("session-1") == end
    assert sizes == [3 * MIB, 6 * MIB, len(data)]
    assert list(store.digests()) == []  # nothing is a blob before the commit
    with store.resume_upload("session-1") as writer:
        assert writer.size == len(data)
        info = writer.commit(Digest.of(data))
    assert info == BlobInfo(Digest.of(data), len(data))
    assert _read(store, info.digest) == data
    assert store.upload_size("session-1") is None
    with pytest.raises(UploadNotFoundError):
        store.resume_upload("session-1")
    assert store.delete_upload("session-1") is False


def test_upload_resumes_after_restart(blob_backend: BlobBackend) -> None:
    data = _bytes(12 * MIB + 5)
    blob_backend.store.create_upload("restarted")
    _append(blob_backend.store, "restarted", data[: 5 * MIB + 1])
    restarted = blob_backend.open()  # no hash state in memory
    assert restarted.upload_size("restarted") == 5 * MIB + 1
    _append(restarted, "restarted", data[5 * MIB + 1 :])
    again = blob_backend.open()
    with again.resume_upload("restarted") as writer:
        assert writer.commit(Digest.of(data)) == BlobInfo(Digest.of(data), len(data))
    assert _read(again, Digest.of(data)) == data


def test_upload_continues_on_another_node(blob_backend: BlobBackend) -> None:
    node1, node2 = blob_backend.store, blob_backend.open()
    data = _bytes(20 * MIB + 11)
    node1.create_upload("roaming")
    _append(node1, "roaming", data[: 2 * MIB])
    _append(node2, "roaming", data[2 * MIB : 11 * MIB])
    # node 1's hash state covers only the first 2 MiB: it must not be carried on now
    assert node1.upload_size("roaming") == 11 * MIB
    _append(node1, "roaming", data[11 * MIB :])
    with node1.resume_upload("roaming") as writer:
        assert writer.size == len(data)
        info = writer.commit(Digest.of(data))
    assert info.size == len(data)
    assert _read(node1, info.digest) == data
    assert node1.upload_size("roaming") is None


def test_upload_mismatch_keeps_the_session(blob_backend: BlobBackend) -> None:
    store = blob_backend.store
    data = _bytes(9 * MIB + 2)
    store.create_upload("kept")
    _append(store, "kept", data)
    wrong = Digest.of(b"other")
    with pytest.raises(BlobDigestMismatchError) as error, store.resume_upload("kept") as writer:
        writer.commit(wrong)
    assert error.value.actual == str(Digest.of(data))
    assert store.stat(wrong) is None
    assert list(store.digests()) == []
    assert store.upload_size("kept") == len(data)
    with blob_backend.open().resume_upload("kept") as writer:
        assert writer.commit(Digest.of(data)).size == len(data)


def test_upload_commit_under_another_algorithm(blob_backend: BlobBackend) -> None:
    store = blob_backend.store
    data = _bytes(6 * MIB)
    store.create_upload("sha512")
    _append(store, "sha512", data)
    digest = Digest.of(data, "sha512")
    with store.resume_upload("sha512") as writer:
        assert writer.commit(digest) == BlobInfo(digest, len(data))


def test_delete_upload(blob_backend: BlobBackend) -> None:
    store = blob_backend.store
    store.create_upload("cancelled")
    _append(store, "cancelled", _bytes(6 * MIB))
    assert blob_backend.open().delete_upload("cancelled") is True
    assert store.upload_size("cancelled") is None
    with pytest.raises(UploadNotFoundError):
        store.resume_upload("cancelled")
    assert store.delete_upload("cancelled") is False
    assert list(store.digests()) == []


@pytest.mark.parametrize("upload_id", ["../escape", "a/b", "", "-dash", "x" * 200])
def test_upload_ids_are_checked(blob_backend: BlobBackend, upload_id: str) -> None:
    store = blob_backend.store
    assert store.upload_size(upload_id) is None
    assert store.delete_upload(upload_id) is False
    with pytest.raises(UploadNotFoundError):
        store.resume_upload(upload_id)


def test_unknown_upload(blob_backend: BlobBackend) -> None:
    store = blob_backend.store
    assert store.upload_size("never-created") is None
    with pytest.raises(UploadNotFoundError):
        store.resume_upload("never-created")


def _chunks(total: int, seed: int) -> Iterator[bytes]:
    generator = random.Random(seed)
    for start in range(0, total, MIB):
        yield generator.randbytes(min(MIB, total - start))


def test_large_upload_in_bounded_memory(blob_backend: BlobBackend) -> None:
    """A 256 MiB blob through four 64 MiB "requests": never held whole in memory.

    Python's allocations (tracemalloc's peak) stay below 64 MiB while the bytes are
    written, committed and read back: a bound on memory, not on time.
    """
    total, request = 256 * MIB, 64 * MIB
    store = blob_backend.store
    expected = Hasher()
    store.create_upload("large")
    tracemalloc.start()
    try:
        source = _chunks(total, seed=7)
        for _ in range(total // request):
            with store.resume_upload("large") as writer:
                for _ in range(request // MIB):
                    chunk = next(source)
                    expected.update(chunk)
                    writer.write(chunk)
        digest = expected.digest()
        with blob_backend.open().resume_upload("large") as writer:  # another node commits
            info = writer.commit(digest)
        read_back = Hasher()
        for chunk in store.read(digest):
            read_back.update(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info == BlobInfo(digest, total)
    assert read_back.digest() == digest
    assert peak < 64 * MIB, f"peak {peak / MIB:.1f} MiB"


# --- S3 only: what a shared object store adds ------------------------------------------


def test_two_nodes_appending_at_once_cannot_both_win(blob_backend: BlobBackend) -> None:
    if blob_backend.name != "s3":
        pytest.skip("the filesystem store serialises writers with flock")
    node1, node2 = blob_backend.store, blob_backend.open()
    node1.create_upload("contended")
    first, second = node1.resume_upload("contended"), node2.resume_upload("contended")
    first.write(b"node one")
    second.write(b"node two!")
    first.close()
    with pytest.raises(UploadOffsetError):
        second.close()
    assert node1.upload_size("contended") == len(b"node one")
    with node2.resume_upload("contended") as writer:
        assert writer.commit(Digest.of(b"node one")).size == len(b"node one")
    assert _read(node1, Digest.of(b"node one")) == b"node one"


def test_interrupted_commit_makes_no_blob(
    blob_backend: BlobBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    if blob_backend.name != "s3":
        pytest.skip("the filesystem store commits with one rename")
    from crossdock.storage.blobs_s3 import S3BlobStore

    store = blob_backend.store
    assert isinstance(store, S3BlobStore)
    data = _bytes(17 * MIB)
    store.create_upload("interrupted")
    _append(store, "interrupted", data)
    client = store.bucket._client

    def unreachable(**arguments: object) -> None:
        raise BlobStoreUnavailableError("the store went away", 1)

    monkeypatch.setattr(client, "complete_multipart_upload", unreachable)
    with pytest.raises(BlobStoreUnavailableError), store.resume_upload("interrupted") as writer:
        writer.commit(Digest.of(data))
    monkeypatch.undo()
    assert store.stat(Digest.of(data)) is None
    assert store.upload_size("interrupted") == len(data)
    location = store.location
    pending = client.list_multipart_uploads(Bucket=location.bucket, Prefix=location.prefix)
    assert pending.get("Uploads", []) == []  # the copy's multipart upload was aborted
    with store.resume_upload("interrupted") as writer:
        assert writer.commit(Digest.of(data)).size == len(data)
    assert _read(store, Digest.of(data), 8 * MIB - 1, 2) == data[8 * MIB - 1 : 8 * MIB + 1]
