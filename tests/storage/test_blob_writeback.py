"""A blob writer starts the kernel's writeback as it goes, and still commits every byte."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from crossdock.oci.digest import Digest
from crossdock.storage import blobs_fs
from crossdock.storage.blobs_fs import WRITEBACK, FileBlobStore

needs_fadvise = pytest.mark.skipif(
    not hasattr(os, "posix_fadvise"), reason="no posix_fadvise on this platform"
)


@needs_fadvise
def test_writeback_covers_the_written_bytes_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[int, int, int]] = []
    real = os.posix_fadvise

    def spy(fd: int, offset: int, length: int, advice: int) -> None:
        calls.append((offset, length, advice))
        real(fd, offset, length, advice)

    monkeypatch.setattr(blobs_fs.os, "posix_fadvise", spy)
    store = FileBlobStore(tmp_path / "blobs")
    data = os.urandom(2 * WRITEBACK + 12345)
    with store.writer() as writer:
        for start in range(0, len(data), 300_000):
            writer.write(data[start : start + 300_000])
        info = writer.commit(Digest("sha256", hashlib.sha256(data).hexdigest()))
    assert info.size == len(data)
    assert store.blob_path(info.digest).read_bytes() == data
    assert [advice for _, _, advice in calls] == [os.POSIX_FADV_DONTNEED] * 2
    assert calls[0][0] == 0
    assert calls[1][0] == calls[0][0] + calls[0][1]  # consecutive ranges, none twice
    assert calls[0][1] >= WRITEBACK


@needs_fadvise
def test_a_resumed_session_starts_writeback_after_its_existing_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    monkeypatch.setattr(blobs_fs.os, "posix_fadvise", lambda fd, off, n, a: calls.append(off))
    store = FileBlobStore(tmp_path / "blobs")
    store.create_upload("u1")
    first = os.urandom(1000)
    with store.resume_upload("u1") as writer:
        writer.write(first)
    rest = os.urandom(WRITEBACK)
    with store.resume_upload("u1") as writer:
        writer.write(rest)
        info = writer.commit(Digest("sha256", hashlib.sha256(first + rest).hexdigest()))
    assert calls == [len(first)]
    assert store.blob_path(info.digest).read_bytes() == first + rest
