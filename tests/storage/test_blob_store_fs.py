"""The filesystem blob store: streamed, verified, atomic, deduplicated, resumable."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from crossdock.oci.digest import Digest
from crossdock.storage.blobs_fs import FileBlobStore
from crossdock.storage.errors import (
    BlobDigestMismatchError,
    BlobNotFoundError,
    UploadNotFoundError,
)


@pytest.fixture
def store(tmp_path: Path) -> FileBlobStore:
    return FileBlobStore(tmp_path / "blobs")


def _leftovers(store: FileBlobStore) -> list[Path]:
    return list((store.root / "tmp").iterdir())


def test_write_commit_read(store: FileBlobStore) -> None:
    data = b"hello world" * 1000
    digest = Digest.of(data)
    with store.writer() as writer:
        writer.write(data[:10])
        writer.write(memoryview(data)[10:])
        info = writer.commit(digest)
    assert info.size == len(data)
    assert store.stat(digest) == info
    assert b"".join(store.read(digest)) == data
    assert b"".join(store.read(digest, 6, 5)) == b"world"
    assert store.local_path(digest) == store.blob_path(digest)
    assert list(store.digests()) == [digest]
    assert _leftovers(store) == []


def test_digest_mismatch_leaves_nothing(store: FileBlobStore) -> None:
    wrong = Digest.of(b"something else")
    writer = store.writer()
    writer.write(b"data")
    with pytest.raises(BlobDigestMismatchError) as error:
        writer.commit(wrong)
    assert error.value.actual == str(Digest.of(b"data"))
    assert store.stat(wrong) is None
    assert store.stat(Digest.of(b"data")) is None
    assert _leftovers(store) == []
    assert list(store.digests()) == []


def test_abandoned_writer_leaves_nothing(store: FileBlobStore) -> None:
    def interrupted() -> None:
        with store.writer() as writer:
            writer.write(b"partial")
            raise RuntimeError("client went away")

    with pytest.raises(RuntimeError):
        interrupted()
    assert _leftovers(store) == []


def test_missing_blob(store: FileBlobStore) -> None:
    digest = Digest.of(b"nope")
    assert store.stat(digest) is None
    assert store.local_path(digest) is None
    assert not store.delete(digest)
    with pytest.raises(BlobNotFoundError):
        store.read(digest)


def test_delete(store: FileBlobStore) -> None:
    digest = Digest.of(b"x")
    with store.writer() as writer:
        writer.write(b"x")
        writer.commit(digest)
    assert store.delete(digest)
    assert store.stat(digest) is None


def test_sha512_commit(store: FileBlobStore) -> None:
    data = b"sha512 content"
    digest = Digest.of(data, "sha512")
    with store.writer() as writer:
        writer.write(data)
        assert writer.commit(digest).digest == digest
    assert b"".join(store.read(digest)) == data


def test_upload_session_survives_reopening_the_store(store: FileBlobStore) -> None:
    store.create_upload("u1")
    with store.resume_upload("u1") as writer:
        writer.write(b"first part ")
    assert store.upload_size("u1") == 11
    reopened = FileBlobStore(store.root)  # a restart: no hash state in memory
    with reopened.resume_upload("u1") as writer:
        assert writer.size == 11
        writer.write(b"second part")
    data = b"first part second part"
    with reopened.resume_upload("u1") as writer:
        info = writer.commit(Digest.of(data))
    assert info.size == len(data)
    assert reopened.upload_size("u1") is None
    with pytest.raises(UploadNotFoundError):
        reopened.resume_upload("u1")


def test_upload_mismatch_keeps_the_session(store: FileBlobStore) -> None:
    store.create_upload("u2")
    with store.resume_upload("u2") as writer:
        writer.write(b"abc")
    with pytest.raises(BlobDigestMismatchError), store.resume_upload("u2") as writer:
        writer.commit(Digest.of(b"abd"))
    assert store.upload_size("u2") == 3
    with store.resume_upload("u2") as writer:
        writer.commit(Digest.of(b"abc"))


def test_upload_ids_cannot_escape(store: FileBlobStore) -> None:
    for bad in ("../x", "a/b", "", ".hidden"):
        with pytest.raises(UploadNotFoundError):
            store.create_upload(bad)
        assert store.upload_size(bad) is None
        assert not store.delete_upload(bad)


def test_delete_upload(store: FileBlobStore) -> None:
    store.create_upload("u3")
    assert store.delete_upload("u3")
    assert not store.delete_upload("u3")


def test_deduplicated_commit(store: FileBlobStore) -> None:
    data = b"same bytes"
    digest = Digest.of(data)
    for _ in range(2):
        with store.writer() as writer:
            writer.write(data)
            writer.commit(digest)
    assert list(store.digests()) == [digest]
    assert _leftovers(store) == []


def test_concurrent_writers_of_the_same_digest(store: FileBlobStore) -> None:
    data = bytes(range(256)) * 4096
    digest = Digest.of(data)
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def write() -> None:
        try:
            with store.writer() as writer:
                barrier.wait()
                for start in range(0, len(data), 65536):
                    writer.write(data[start : start + 65536])
                writer.commit(digest)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=write) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert b"".join(store.read(digest)) == data
    assert _leftovers(store) == []


def test_concurrent_appends_to_one_session_are_serialized(store: FileBlobStore) -> None:
    store.create_upload("u4")
    chunk = b"z" * 100_000

    def append() -> None:
        with store.resume_upload("u4") as writer:
            writer.write(chunk)

    threads = [threading.Thread(target=append) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with store.resume_upload("u4") as writer:
        assert writer.size == 600_000
        writer.commit(Digest.of(chunk * 6))
