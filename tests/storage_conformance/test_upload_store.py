"""UploadStore conformance: sessions, part accounting, concurrent sessions in one repository."""

from __future__ import annotations

from metadata_backends import MetadataBackend, on_own_engines, run_concurrently
from registry_objects import repository

from crossdock.storage.registry_store import UploadRecord

MIB = 1024 * 1024


def test_session_life(metadata_backend: MetadataBackend) -> None:
    repo = repository(metadata_backend)
    uploads = metadata_backend.uploads()
    uploads.create_upload("u-1", repo, 10.25)
    assert uploads.get_upload("u-1") == UploadRecord(
        "u-1", repo, 0, 0, 0, None, "active", 10.25, 10.25
    )
    uploads.record_part("u-1", 6 * MIB, 6 * MIB, 11.0)
    uploads.record_part("u-1", 11 * MIB, 5 * MIB, 12.0)
    uploads.record_part("u-1", 11 * MIB + 1, 1, 13.5)
    record = uploads.get_upload("u-1")
    assert record is not None
    assert (record.bytes_received, record.parts, record.last_part_size) == (11 * MIB + 1, 3, 1)
    assert record.smallest_inner_part == 5 * MIB  # the smallest part followed by another
    assert record.updated_at == 13.5
    assert record.created_at == 10.25
    uploads.create_upload("u-2", repo, 20.0)
    assert sorted(uploads.stale_uploads(before=15.0, limit=10)) == ["u-1"]
    assert uploads.delete_upload("u-1") is True
    assert uploads.delete_upload("u-1") is False
    assert uploads.get_upload("u-1") is None
    assert uploads.get_upload("u-2") is not None


def test_big_uploads_count_in_64_bits(metadata_backend: MetadataBackend) -> None:
    repo = repository(metadata_backend)
    uploads = metadata_backend.uploads()
    uploads.create_upload("big", repo, 1.0)
    uploads.record_part("big", 6 * 1024**3, 3 * 1024**3, 2.0)
    uploads.record_part("big", 9 * 1024**3, 3 * 1024**3, 3.0)
    record = uploads.get_upload("big")
    assert record is not None
    assert (record.bytes_received, record.smallest_inner_part) == (9 * 1024**3, 3 * 1024**3)


def test_concurrent_sessions_in_one_repository(metadata_backend: MetadataBackend) -> None:
    repo = repository(metadata_backend)
    sessions = 8

    def upload(index: int) -> int:
        uploads = metadata_backend.uploads(metadata_backend.other_engine())
        upload_id = f"session-{index}"
        uploads.create_upload(upload_id, repo, 1.0)
        for part in range(1, 6):
            uploads.record_part(upload_id, part * MIB * (index + 1), MIB * (index + 1), 2.0)
        record = uploads.get_upload(upload_id)
        assert record is not None
        return record.parts

    assert run_concurrently([lambda i=i: upload(i) for i in range(sessions)]) == [5] * sessions
    uploads = metadata_backend.uploads()
    for index in range(sessions):
        record = uploads.get_upload(f"session-{index}")
        assert record is not None
        assert record.bytes_received == 5 * MIB * (index + 1)
        assert record.smallest_inner_part == MIB * (index + 1)


def test_parts_counted_atomically(metadata_backend: MetadataBackend) -> None:
    """Parts recorded from several connections at once are all counted (no lost update)."""
    repo = repository(metadata_backend)
    metadata_backend.uploads().create_upload("shared", repo, 1.0)
    calls = on_own_engines(
        metadata_backend,
        10,
        lambda e, i: metadata_backend.uploads(e).record_part("shared", MIB * (i + 1), MIB, 2.0),
    )
    assert run_concurrently(calls) == [None] * 10
    record = metadata_backend.uploads().get_upload("shared")
    assert record is not None
    assert record.parts == 10
