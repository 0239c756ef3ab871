"""``crossdock fsck`` and garbage collection agree: what the collector owns is no problem."""

from __future__ import annotations

import time

from gc_world import HOUR, GcWorld

from crossdock.oci.digest import Digest
from crossdock.service.fsck import Fsck, FsckOptions, FsckReport
from crossdock.service.gc import Action, Kind
from crossdock.storage.blobs_fs import FileBlobStore
from crossdock.storage.sql.integrity_sql import SqlIntegrityStore


def fsck(world: GcWorld) -> FsckReport:
    checker = Fsck(
        FileBlobStore(world.data_dir / "blobs", create=False),
        SqlIntegrityStore(world.engine),
        world.data_dir,
        world.data_dir / "quarantine",
    )
    return checker.run(FsckOptions(grace=0))


def test_garbage_waiting_for_the_collector_is_not_a_problem(world: GcWorld) -> None:
    repo = world.create_repository("fsck-waiting")
    world.push_image(repo, "live", at=time.time() - 2 * HOUR)
    gone = world.push_image(repo, "gone", at=time.time() - 2 * HOUR)
    world.delete_image(gone)  # its blobs: linked, but no image references them
    assert fsck(world).findings == ()

    assert world.gc(grace=HOUR).blobs_deleted == 2
    report = fsck(world)
    assert report.findings == ()
    assert report.exit_code == 0


def test_a_row_whose_bytes_a_crashed_collection_deleted_is_not_reported(world: GcWorld) -> None:
    repo = world.create_repository("fsck-crashed")
    digest = world.garbage_blob(repo, b"bytes deleted, then the collector died" * 10)
    assert world.server.registry_stores.blobs.delete(Digest.parse(digest))
    assert world.recorded(digest)

    assert fsck(world).findings == ()

    report = world.gc(grace=HOUR)
    [decision] = [d for d in report.decisions if d.kind is Kind.BLOB and d.subject == digest]
    assert (decision.action, decision.applied) == (Action.DELETE, True)
    assert not world.recorded(digest)
    assert fsck(world).findings == ()


def test_a_missing_file_of_a_linked_blob_is_still_reported(world: GcWorld) -> None:
    repo = world.create_repository("fsck-linked")
    image = world.push_image(repo, "linked")
    layer = image.blob_digests[1]
    (world.data_dir / "blobs" / "sha256" / layer[7:9] / layer[7:]).unlink()

    codes = sorted(finding.code.value for finding in fsck(world).findings)

    assert codes == ["blob_missing", "image_blob_missing"]
