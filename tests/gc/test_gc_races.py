"""The races of docs/gc.md, each with a deterministic interleaving: one side is paused at
the dangerous point while the other runs, then let go.

Each race has a control test that removes the protection (the pin, the HEAD refresh) and
shows the same interleaving losing data or failing the push, so the protected tests can
fail when the protocol breaks.
"""

from __future__ import annotations

import time
from typing import cast

import pytest
from gc_world import HOUR, GcWorld, HookedBlobs, Pause, PausingGcStore, digest_of

from crossdock.service.ecr.errors import LayersNotFoundError
from crossdock.service.ecr.layers import OCI_RULES, CompletedLayer
from crossdock.service.gc import Action, Decision, GcOptions, GcReport, Kind
from crossdock.storage.gc_store import GcStore

LAYER = b"a layer that several pushes share " * 200
CONFIG = b'{"architecture":"amd64","os":"linux"}'


def later() -> float:
    """A collection time after every use in these tests (so only pins protect)."""
    return time.time() + 10


def blob_decision(report_decisions: list[Decision], digest: str) -> tuple[Action, str]:
    [decision] = [d for d in report_decisions if d.kind is Kind.BLOB and d.subject == digest]
    return decision.action, decision.reason


def without_pins(world: GcWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    links = world.server.registry_stores.links
    monkeypatch.setattr(links, "pin_blobs", lambda digests, now, lease: "no-pin")
    monkeypatch.setattr(links, "unpin_blobs", lambda pin_id: None)


# --- (a) an upload completes a digest whose bytes the collector is about to delete --------


def _complete_paused_before_link(world: GcWorld, repo: str) -> tuple[Pause, list[object]]:
    """Upload LAYER again; the commit keeps the stored bytes; pause before the link."""
    pause = Pause()
    layers = world.layers(before_link=pause)
    return pause, world.in_thread(lambda: world.push_blob(repo, LAYER, layers=layers))


def test_a_an_upload_between_commit_and_link_keeps_its_blob(world: GcWorld) -> None:
    repo = world.create_repository("race-a")
    digest = world.garbage_blob(repo, LAYER)
    pause, outcome = _complete_paused_before_link(world, repo)
    pause.wait_reached()  # committed: the commit found the bytes stored and kept them

    report = world.gc(grace=0, now=later())

    assert blob_decision(report.decisions, digest) == (
        Action.KEEP,
        "an upload or a mount of it is in progress",
    )
    pause.release()
    world.join()
    assert isinstance(outcome[0], CompletedLayer)
    assert world.stored(digest)
    assert world.linked(repo, digest)
    world.push_blob(repo, CONFIG)
    world.put_manifest(repo, CONFIG, (LAYER,))
    assert world.pins() == 0


def test_a_control_without_the_pin_the_link_points_at_deleted_bytes(
    world: GcWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_pins(world, monkeypatch)
    repo = world.create_repository("race-a-control")
    digest = world.garbage_blob(repo, LAYER)
    pause, _ = _complete_paused_before_link(world, repo)
    pause.wait_reached()

    report = world.gc(grace=0, now=later())

    assert blob_decision(report.decisions, digest)[0] is Action.DELETE
    pause.release()
    world.join()
    assert world.linked(repo, digest)
    assert not world.stored(digest)  # the data loss the pin prevents


def test_a_an_upload_that_pins_while_the_collector_deletes_waits_and_rewrites(
    world: GcWorld,
) -> None:
    repo = world.create_repository("race-a-deleting")
    digest = world.garbage_blob(repo, LAYER)
    deleting = Pause()
    committing: list[float] = []
    collector = world.collector(
        HookedBlobs(world.server.registry_stores.blobs, before_delete=deleting)
    )
    gc_outcome = world.in_thread(lambda: collector.run(GcOptions(grace=0, now=later())))
    deleting.wait_reached()  # the row is deleted (uncommitted, locked); the bytes not yet

    upload_blobs = HookedBlobs(
        world.server.registry_stores.blobs, before_commit=lambda: committing.append(time.time())
    )
    layers = world.layers(upload_blobs)
    push = world.in_thread(lambda: world.push_blob(repo, LAYER, layers=layers))
    time.sleep(0.5)
    assert committing == []  # the pin waits for the collection holding the row
    released = time.time()
    deleting.release()
    world.join()

    report = cast(GcReport, gc_outcome[0])
    assert blob_decision(report.decisions, digest)[0] is Action.DELETE
    assert isinstance(push[0], CompletedLayer)
    assert committing[0] >= released
    assert world.stored(digest)  # the commit found no bytes and wrote its own
    assert world.recorded(digest)
    assert world.linked(repo, digest)


# --- (b) a mount links a blob whose last image goes away meanwhile ------------------------


def _mount_paused_before_link(world: GcWorld) -> tuple[str, str, Pause, list[object]]:
    source = world.create_repository("race-b-source")
    target = world.create_repository("race-b-target")
    image = world.push_image(source, "mounted", (LAYER,), at=time.time() - 2 * HOUR)
    pause = Pause()
    layers = world.layers(before_link=pause)
    actor = world.actor()
    outcome = world.in_thread(
        lambda: layers.mount(actor, world.ref(target), world.ref(source), digest_of(LAYER))
    )
    pause.wait_reached()  # located in the source, bytes seen: about to link
    world.delete_image(image)  # the source's last image referencing it goes
    return source, target, pause, outcome


def test_b_a_mount_between_its_checks_and_its_link_keeps_the_blob(world: GcWorld) -> None:
    source, target, pause, outcome = _mount_paused_before_link(world)
    digest = digest_of(LAYER)

    report = world.gc(grace=0, now=later())

    assert not world.linked(source, digest)  # the source's link went (unreferenced)
    assert blob_decision(report.decisions, digest) == (
        Action.KEEP,
        "an upload or a mount of it is in progress",
    )
    pause.release()
    world.join()
    assert isinstance(outcome[0], CompletedLayer)
    assert world.linked(target, digest)
    assert world.stored(digest)


def test_b_control_without_the_pin_the_mount_links_deleted_bytes(
    world: GcWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_pins(world, monkeypatch)
    _, target, pause, _ = _mount_paused_before_link(world)
    digest = digest_of(LAYER)

    report = world.gc(grace=0, now=later())

    assert blob_decision(report.decisions, digest)[0] is Action.DELETE
    pause.release()
    world.join()
    assert world.linked(target, digest)
    assert not world.stored(digest)


# --- (c) a manifest PUT references a blob whose link the collector is dropping ------------


def test_c_a_manifest_put_while_the_collector_drops_its_link_wins(world: GcWorld) -> None:
    repo = world.create_repository("race-c")
    layer = world.garbage_blob(repo, LAYER)
    world.push_blob(repo, LAYER, at=time.time() - 2 * HOUR)  # linked again, 2h ago
    world.push_blob(repo, CONFIG, at=time.time() - 2 * HOUR)
    dropping = Pause()
    store = PausingGcStore(world.collector()._store, dropping)
    collector = world.collector(store=cast(GcStore, store))
    gc_outcome = world.in_thread(lambda: collector.run(GcOptions(grace=HOUR)))
    dropping.wait_reached()  # listed as unreferenced and stale; about to drop

    world.put_manifest(repo, CONFIG, (LAYER,))  # both links still there: accepted
    dropping.release()
    world.join()

    report = cast(GcReport, gc_outcome[0])
    links = [d for d in report.decisions if d.kind is Kind.LINK]
    assert links
    assert all(d.action is Action.KEEP for d in links)
    assert {d.reason for d in links} == {
        "in use again: an image or a push took it while collecting"
    }
    assert blob_decision(report.decisions, layer) == (Action.KEEP, "referenced by 1 image")
    assert world.stored(layer)
    assert world.linked(repo, layer)


def test_c_a_manifest_put_after_the_link_was_dropped_fails_cleanly(world: GcWorld) -> None:
    repo = world.create_repository("race-c-late")
    world.push_blob(repo, LAYER, at=time.time() - 2 * HOUR)
    world.push_blob(repo, CONFIG)
    report = world.gc(grace=HOUR)
    assert report.links_dropped == 1
    assert report.blobs_deleted == 1

    with pytest.raises(LayersNotFoundError):
        world.put_manifest(repo, CONFIG, (LAYER,))
    repository = world.repository_id(repo)
    assert world.server.registry_stores.images.count_images(repository) == 0


# --- (d) a HEAD answers "exists" and the client skips the upload --------------------------


def _head(world: GcWorld, repo: str, link_refresh: float) -> int | None:
    layers = world.layers(link_refresh=link_refresh)
    [answer] = layers.check_availability(world.actor(), world.ref(repo), [digest_of(LAYER)])
    return answer.size


def test_d_a_head_keeps_the_link_for_the_grace_period(world: GcWorld) -> None:
    repo = world.create_repository("race-d")
    world.push_blob(repo, LAYER, at=time.time() - 2 * HOUR)
    assert _head(world, repo, link_refresh=60) == len(LAYER)  # "exists": skip the upload

    report = world.gc(grace=HOUR)

    assert report.links_dropped == 0
    world.push_blob(repo, CONFIG)
    world.put_manifest(repo, CONFIG, (LAYER,))
    assert world.stored(digest_of(LAYER))


def test_d_control_a_head_that_refreshes_nothing_loses_the_link(world: GcWorld) -> None:
    repo = world.create_repository("race-d-control")
    world.push_blob(repo, LAYER, at=time.time() - 2 * HOUR)
    assert _head(world, repo, link_refresh=10 * HOUR) == len(LAYER)

    report = world.gc(grace=HOUR)

    assert report.links_dropped == 1
    world.push_blob(repo, CONFIG)
    with pytest.raises(LayersNotFoundError):  # the push fails; nothing half-written
        world.put_manifest(repo, CONFIG, (LAYER,))


def test_uploads_and_mounts_leave_no_pins_behind(world: GcWorld) -> None:
    source = world.create_repository("pins-source")
    target = world.create_repository("pins-target")
    world.push_image(source, "p", (LAYER,))
    assert world.server.ecr.layers.mount(
        world.actor(), world.ref(target), world.ref(source), digest_of(LAYER)
    )
    layers = world.server.ecr.layers
    actor, ref = world.actor(), world.ref(target)
    upload = layers.initiate(actor, ref)
    layers.upload_part(actor, ref, upload.upload_id, None, [b"not what the digest says"])
    with pytest.raises(Exception, match="digest"):
        layers.complete(actor, ref, upload.upload_id, [digest_of(b"other")], OCI_RULES)
    assert world.pins() == 0
