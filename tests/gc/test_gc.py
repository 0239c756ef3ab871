"""``crossdock gc``: what is collected, what is kept and why, dry runs, uploads, adoption."""

from __future__ import annotations

import hashlib
import io
import json
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from gc_world import ACCOUNT, HOUR, REGION, GcWorld, HookedBlobs, digest_of
from sqlalchemy import inspect, text

from crossdock.cli import gc as gc_cli
from crossdock.cli.main import cli
from crossdock.oci.digest import Digest
from crossdock.service.gc import Action, Decision, GcOptions, Kind, format_age

ARN = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository"


def by_subject(decisions: list[Decision]) -> dict[tuple[Kind, str], Decision]:
    found = {(d.kind, d.subject): d for d in decisions}
    assert len(found) == len(decisions), "one decision per object"
    return found


def snapshot(world: GcWorld) -> dict[str, object]:
    files = sorted(
        (path.relative_to(world.data_dir).as_posix(), path.read_bytes())
        for path in world.data_dir.rglob("*")
        if path.is_file() and not path.name.startswith("crossdock.db")
    )
    with world.engine.connect() as conn:
        tables = {
            name: sorted(repr(tuple(row)) for row in conn.execute(text(f'SELECT * FROM "{name}"')))
            for name in inspect(conn).get_table_names()
        }
    return {"files": files, "tables": tables}


def test_format_age() -> None:
    assert [format_age(s) for s in (0, 0.4, 2, 9.96, 45, 125, 7200, 7260, 90_000)] == [
        "0s",
        "0.4s",
        "2s",
        "10s",
        "45s",
        "2m 5s",
        "2h",
        "2h 1m",
        "1d 1h",
    ]


def test_the_blobs_of_a_deleted_image_go_and_a_live_image_keeps_its_own(world: GcWorld) -> None:
    two_hours_ago = time.time() - 2 * HOUR
    repo = world.create_repository("gc-basic")
    shared = hashlib.sha256(b"shared").digest() * 300
    kept = world.push_image(repo, "kept", (shared,), at=two_hours_ago)
    gone = world.push_image(repo, "gone", (shared, b"only-gone" * 100), at=two_hours_ago)
    world.delete_image(gone)

    report = world.gc(grace=HOUR)

    decisions = by_subject(report.decisions)
    only_gone = [digest_of(gone.config), digest_of(b"only-gone" * 100)]
    for digest in only_gone:
        link = decisions[(Kind.LINK, f"{ARN}/{repo}@{digest}")]
        assert (link.action, link.applied) == (Action.DELETE, True)
        assert link.reason == "no image of the repository references it; last used 2h ago"
        blob = decisions[(Kind.BLOB, digest)]
        assert (blob.action, blob.applied) == (Action.DELETE, True)
        assert blob.reason == "no repository holds it and no image references it; last used 2h ago"
        assert not world.stored(digest)
        assert not world.recorded(digest)
    for digest in kept.blob_digests:
        blob = decisions[(Kind.BLOB, digest)]
        assert (blob.action, blob.reason) == (Action.KEEP, "referenced by 1 image")
        assert world.stored(digest)
    assert (Kind.LINK, f"{ARN}/{repo}@{digest_of(shared)}") not in decisions
    assert world.pull(kept) == [kept.config, shared]
    assert report.blobs_deleted == 2
    assert report.bytes_deleted == len(gone.config) + 900
    assert report.links_dropped == 2
    assert report.blobs_kept == 2
    assert report.exit_code == 0
    assert report.summary() == (
        f"deleted 2 blobs ({report.bytes_deleted} bytes), 2 unreferenced links, "
        "0 abandoned uploads; kept 2 blobs and 0 unreferenced links (grace 1h)"
    )


def test_within_the_grace_period_unreferenced_links_and_their_blobs_stay(world: GcWorld) -> None:
    ten_minutes_ago = time.time() - 600
    repo = world.create_repository("gc-grace")
    image = world.push_image(repo, "recent", at=ten_minutes_ago)
    world.delete_image(image)

    report = world.gc(grace=HOUR)

    decisions = by_subject(report.decisions)
    for digest in image.blob_digests:
        link = decisions[(Kind.LINK, f"{ARN}/{repo}@{digest}")]
        assert link.action is Action.KEEP
        assert link.reason == (
            "no image of the repository references it, but it was used 10m ago, "
            "within the grace period (1h)"
        )
        blob = decisions[(Kind.BLOB, digest)]
        assert (blob.action, blob.reason) == (Action.KEEP, "held by 1 repository")
        assert world.stored(digest)
        assert world.linked(repo, digest)
    assert report.blobs_deleted == report.links_dropped == 0


def test_an_unlinked_blob_used_within_the_grace_period_stays(world: GcWorld) -> None:
    repo = world.create_repository("gc-unlinked-recent")
    image = world.push_image(repo, "unlinked", at=time.time() - 2 * HOUR)
    world.delete_image(image)
    blob = image.blob_digests[0]
    links = world.server.registry_stores.links
    links.unpin_blobs(links.pin_blobs([blob], time.time() - 600, 60))  # a mount, 10m ago

    report = world.gc(grace=HOUR)

    decisions = by_subject(report.decisions)
    assert decisions[(Kind.LINK, f"{ARN}/{repo}@{blob}")].applied
    decision = decisions[(Kind.BLOB, blob)]
    assert decision.action is Action.KEEP
    assert decision.reason == "unreferenced, but used 10m ago, within the grace period (1h)"
    assert world.recorded(blob)
    assert world.stored(blob)
    assert not world.linked(repo, blob)


def test_a_dry_run_changes_nothing_and_says_what_it_would_do(world: GcWorld) -> None:
    repo = world.create_repository("gc-dry")
    image = world.push_image(repo, "dry", at=time.time() - 2 * HOUR)
    world.delete_image(image)
    stale = world.layers().initiate(world.actor(time.time() - 3 * HOUR), world.ref(repo))
    before = snapshot(world)

    report = world.gc(grace=HOUR, dry_run=True)

    assert snapshot(world) == before
    decisions = by_subject(report.decisions)
    for digest in image.blob_digests:
        assert decisions[(Kind.LINK, f"{ARN}/{repo}@{digest}")].action is Action.DELETE
        blob = decisions[(Kind.BLOB, digest)]
        assert (blob.action, blob.applied) == (Action.DELETE, False)
    upload = decisions[(Kind.UPLOAD, stale.upload_id)]
    assert (upload.action, upload.applied) == (Action.DELETE, False)
    assert not any(d.applied for d in report.decisions)
    assert report.summary().startswith("would delete 2 blobs")
    assert report.uploads_expired == 1


def test_abandoned_uploads_expire_and_live_ones_stay(world: GcWorld) -> None:
    repo = world.create_repository("gc-uploads")
    layers, ref = world.layers(), world.ref(repo)
    old_actor = world.actor(time.time() - 2 * HOUR)
    old = layers.initiate(old_actor, ref)
    layers.upload_part(old_actor, ref, old.upload_id, None, [b"12345"])
    live = layers.initiate(world.actor(), ref)
    stores = world.server.registry_stores

    report = world.gc(grace=HOUR)

    [decision] = [d for d in report.decisions if d.kind is Kind.UPLOAD]
    assert decision.subject == old.upload_id
    assert (decision.action, decision.applied, decision.size) == (Action.DELETE, True, 5)
    assert decision.reason == "abandoned: no part arrived for 2h (grace 1h); 5 bytes received"
    assert decision.repository == f"{ARN}/{repo}"
    assert stores.uploads.get_upload(old.upload_id) is None
    assert stores.blobs.upload_size(old.upload_id) is None
    assert stores.uploads.get_upload(live.upload_id) is not None
    assert stores.blobs.upload_size(live.upload_id) == 0


def test_stored_bytes_without_a_row_are_adopted_then_collected(world: GcWorld) -> None:
    blobs = world.server.registry_stores.blobs
    data = b"left behind by a push that died between the commit and the link"
    with blobs.writer() as writer:
        writer.write(data)
        writer.commit(Digest.parse(digest_of(data)))
    assert not world.recorded(digest_of(data))

    first = world.gc(grace=HOUR)

    adopted = by_subject(first.decisions)[(Kind.BLOB, digest_of(data))]
    assert (adopted.action, adopted.applied, adopted.size) == (Action.ADOPT, True, len(data))
    assert adopted.reason == (
        "stored bytes without a metadata row (an interrupted push): recorded as used now; "
        "collected after the grace period if unused"
    )
    assert world.recorded(digest_of(data))
    assert world.stored(digest_of(data))
    assert first.blobs_adopted == 1

    later = world.gc(grace=HOUR, now=time.time() + 2 * HOUR)

    deleted = by_subject(later.decisions)[(Kind.BLOB, digest_of(data))]
    assert (deleted.action, deleted.applied) == (Action.DELETE, True)
    assert not world.stored(digest_of(data))
    assert not world.recorded(digest_of(data))


def test_a_pinned_blob_stays_until_unpinned_or_its_pin_expires(world: GcWorld) -> None:
    repo = world.create_repository("gc-pins")
    image = world.push_image(repo, "pinned", at=time.time() - 2 * HOUR)
    world.delete_image(image)
    links = world.server.registry_stores.links
    config, layer = image.blob_digests
    pin = links.pin_blobs([config], time.time() - 2 * HOUR, HOUR * 3)
    links.pin_blobs([layer], time.time() - 2 * HOUR, HOUR)  # expired an hour ago

    report = world.gc(grace=0)

    decisions = by_subject(report.decisions)
    kept = decisions[(Kind.BLOB, config)]
    assert (kept.action, kept.reason) == (Action.KEEP, "an upload or a mount of it is in progress")
    assert decisions[(Kind.BLOB, layer)].action is Action.DELETE
    assert report.pins_expired == 1
    assert world.stored(config)
    assert not world.stored(layer)

    links.unpin_blobs(pin)
    assert world.pins() == 0
    assert by_subject(world.gc(grace=0).decisions)[(Kind.BLOB, config)].applied
    assert not world.stored(config)


def test_failing_to_delete_the_bytes_keeps_the_row_and_exits_1(world: GcWorld) -> None:
    repo = world.create_repository("gc-fail")
    image = world.push_image(repo, "fail", at=time.time() - 2 * HOUR)
    world.delete_image(image)

    def refuse() -> None:
        raise OSError("read-only file system")

    hooked = HookedBlobs(world.server.registry_stores.blobs, before_delete=refuse)
    report = world.collector(blobs=hooked).run(GcOptions(grace=HOUR))

    for digest in image.blob_digests:
        decision = by_subject(report.decisions)[(Kind.BLOB, digest)]
        assert decision.action is Action.KEEP
        assert decision.reason == (
            "deleting it failed (OSError: read-only file system); kept for the next run"
        )
        assert world.recorded(digest)
        assert world.stored(digest)
    assert (report.errors, report.exit_code) == (2, 1)
    assert world.gc(grace=HOUR).blobs_deleted == 2  # the next run succeeds


# --- the command line ---------------------------------------------------------------------


def _garbage(world: GcWorld) -> list[str]:
    repo = world.create_repository("gc-cli")
    image = world.push_image(repo, "cli", at=time.time() - 2 * HOUR)
    world.delete_image(image)
    return image.blob_digests


def test_cli_dry_run_json(world: GcWorld) -> None:
    digests = _garbage(world)
    before = snapshot(world)
    args = ["gc", "--data-dir", str(world.data_dir), "--dry-run", "--format", "json"]
    result = CliRunner().invoke(cli, [*args, "--grace", "30m"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert snapshot(world) == before
    assert report["schema"] == 1
    assert report["dry_run"] is True
    assert report["grace_seconds"] == 1800.0
    blobs = {d["subject"]: d for d in report["decisions"] if d["kind"] == "blob"}
    for digest in digests:
        assert blobs[digest]["action"] == "delete"
        assert blobs[digest]["applied"] is False
        assert blobs[digest]["reason"].startswith("no repository holds it")
    assert report["summary"]["blobs_deleted"] == 2
    assert report["exit_code"] == 0


def test_cli_text_prints_a_line_per_decision_and_deletes(world: GcWorld) -> None:
    digests = _garbage(world)
    result = CliRunner().invoke(cli, ["gc", "--data-dir", str(world.data_dir)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for digest in digests:
        assert any(
            line.startswith(f"deleted blob {digest} (")
            and line.endswith(
                "): no repository holds it and no image references it; last used 2h ago"
            )
            for line in lines
        ), lines
        assert not world.stored(digest)
    assert lines[-1].startswith("gc: deleted 2 blobs (")
    assert lines[-1].endswith("(grace 1h)")


def test_cli_unknown_data_dir_is_a_usage_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = CliRunner().invoke(cli, ["gc", "--data-dir", str(missing)])
    assert result.exit_code == 2
    assert result.output == f"error: the data dir `{missing}` does not exist; pass --data-dir DIR\n"


def test_cli_bad_grace_is_a_usage_error(world: GcWorld) -> None:
    result = CliRunner().invoke(cli, ["gc", "--data-dir", str(world.data_dir), "--grace", "soon"])
    assert result.exit_code == 2
    assert "'soon' is not a duration such as 90s, 30m, 1h or 7d" in result.output


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_interactive_runs_draw_a_progress_bar(
    world: GcWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    digests = _garbage(world)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    report = gc_cli._run(world.collector(), GcOptions(grace=HOUR), "text")
    shown = terminal.getvalue()
    assert report.blobs_deleted == 2
    assert "blobs" in shown
    assert "\x1b[" in shown
    for digest in digests:
        assert f"deleted blob {digest}" in shown
    assert "gc: deleted 2 blobs" in shown
