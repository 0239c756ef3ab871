"""``crossdock fsck``: every finding on a damaged data dir, read-only without ``--repair``,
the documented repair with it, and a re-push that heals what the repair left."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fsck_world import (
    ACCOUNT,
    FsckWorld,
    PushedImage,
    age,
    build_fsck_world,
    digest_of,
    flip_byte,
    snapshot,
)

from crossdock.cli.main import cli

FINDING_KEYS = [
    *("code", "subject", "message", "path"),
    *("repositories", "repair", "repaired", "detail"),
]


def fsck(world: FsckWorld, *args: str) -> tuple[int, dict[str, Any]]:
    """Run ``crossdock fsck --format json`` in-process; the exit code and the report."""
    result = CliRunner().invoke(
        cli,
        ["fsck", "--data-dir", str(world.data_dir), "--format", "json", *args],
        catch_exceptions=False,
    )
    assert result.stderr == ""
    report = json.loads(result.stdout)
    assert report["exit_code"] == result.exit_code
    return result.exit_code, report


def codes(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f["code"], f["subject"]) for f in report["findings"]]


@pytest.fixture
def world(tmp_path: Path) -> FsckWorld:
    built = build_fsck_world(tmp_path)
    built.create_repository("app")
    return built


@pytest.fixture
def image(world: FsckWorld) -> PushedImage:
    return world.push_image("app", "one")


def test_a_clean_data_dir_passes(world: FsckWorld, image: PushedImage) -> None:
    code, report = fsck(world)
    assert code == 0
    assert report["findings"] == []
    assert report["summary"] == {"problems": 0, "repaired": 0, "remaining": 0}
    assert report["checked"]["blob_files"] == 2
    assert report["checked"]["blob_rows"] == 2
    assert report["checked"]["images"] == 1
    assert report["checked"]["blob_bytes"] == len(image.config) + len(image.layer)
    text = CliRunner().invoke(cli, ["fsck", "--data-dir", str(world.data_dir)])
    assert text.exit_code == 0
    assert text.stdout.strip() == (
        f"checked 2 blob files ({len(image.config) + len(image.layer)} bytes), 2 blob rows, "
        "1 image, 0 upload sessions: no problems"
    )


def test_a_flipped_byte_is_found_and_nothing_changes(world: FsckWorld, image: PushedImage) -> None:
    layer_file = world.blob_file(image.layer_digest)
    flip_byte(layer_file)
    corrupted = layer_file.read_bytes()
    before = snapshot(world.data_dir)

    code, report = fsck(world)

    assert code == 1
    assert snapshot(world.data_dir) == before
    assert list(report) == [
        "schema",
        "data_dir",
        "repair",
        "checked",
        "findings",
        "summary",
        "exit_code",
    ]
    assert report["schema"] == 1
    assert report["repair"] is False
    corrupt, broken = report["findings"]
    assert list(corrupt) == FINDING_KEYS
    assert corrupt == {
        "code": "blob_corrupt",
        "subject": image.layer_digest,
        "message": f"the file's bytes hash to {digest_of(corrupted)}, not to its name "
        f"({len(image.layer)} bytes; {len(image.layer)} recorded)",
        "path": f"blobs/sha256/{image.layer_digest[7:9]}/{image.layer_digest[7:]}",
        "repositories": [image.arn],
        "repair": "move the file to quarantine and forget the blob, so that the next push "
        "uploads it again",
        "repaired": False,
        "detail": {
            "actual_digest": digest_of(corrupted),
            "size": len(image.layer),
            "recorded_size": len(image.layer),
        },
    }
    assert broken == {
        "code": "image_blob_missing",
        "subject": f"{image.arn}@{image.manifest_digest}",
        "message": f"the image references blob {image.layer_digest}, whose stored bytes are "
        "missing or corrupt; push the blob again to heal it",
        "path": None,
        "repositories": [image.arn],
        "repair": None,
        "repaired": False,
        "detail": {"blob": image.layer_digest},
    }
    assert report["summary"] == {"problems": 2, "repaired": 0, "remaining": 2}


def test_repair_quarantines_the_corrupt_blob_and_a_push_heals_it(
    world: FsckWorld, image: PushedImage
) -> None:
    layer_file = world.blob_file(image.layer_digest)
    flip_byte(layer_file)
    corrupted = layer_file.read_bytes()
    assert world.available("app", image.layer_digest)

    code, report = fsck(world, "--repair")

    assert code == 1  # the image still lacks its layer
    assert report["repair"] is True
    corrupt, broken = report["findings"]
    assert corrupt["code"] == "blob_corrupt"
    assert corrupt["repaired"] is True
    moved = world.data_dir / corrupt["detail"]["quarantined_to"]
    stamp, *where = moved.relative_to(world.data_dir / "quarantine").parts
    assert where == ["sha256", image.layer_digest[7:9], image.layer_digest[7:]]
    assert len(stamp) == len("20260101T000000Z")
    assert moved.read_bytes() == corrupted
    assert corrupt["detail"]["links_removed"] == 1
    assert not layer_file.exists()
    assert (broken["code"], broken["repaired"]) == ("image_blob_missing", False)
    assert report["summary"] == {"problems": 2, "repaired": 1, "remaining": 1}
    # the repository no longer claims the blob, so a client uploads it again
    assert not world.available("app", image.layer_digest)

    code, report = fsck(world)
    assert code == 1
    assert codes(report) == [("image_blob_missing", f"{image.arn}@{image.manifest_digest}")]
    assert "which its repository does not hold" in report["findings"][0]["message"]

    world.push_blob("app", image.layer)
    code, report = fsck(world)
    assert (code, report["findings"]) == (0, [])
    assert world.read_blob("app", image.layer_digest) == image.layer


def test_a_truncated_blob_is_corrupt_and_a_plain_push_replaces_it(
    world: FsckWorld, image: PushedImage
) -> None:
    config_file = world.blob_file(image.config_digest)
    with config_file.open("r+b") as handle:
        handle.truncate(len(image.config) // 2)

    code, report = fsck(world)
    assert code == 1
    assert codes(report) == [
        ("blob_corrupt", image.config_digest),
        ("image_blob_missing", f"{image.arn}@{image.manifest_digest}"),
    ]
    detail = report["findings"][0]["detail"]
    assert (detail["size"], detail["recorded_size"]) == (len(image.config) // 2, len(image.config))

    # the bytes a push verifies replace a damaged file of the wrong size, without --repair
    world.push_blob("app", image.config)
    assert config_file.read_bytes() == image.config
    code, report = fsck(world)
    assert (code, report["findings"]) == (0, [])


def test_a_missing_blob_file(world: FsckWorld, image: PushedImage) -> None:
    world.blob_file(image.layer_digest).unlink()
    before = snapshot(world.data_dir)

    code, report = fsck(world)
    assert code == 1
    assert snapshot(world.data_dir) == before
    missing, broken = report["findings"]
    assert missing == {
        "code": "blob_missing",
        "subject": image.layer_digest,
        "message": "a recorded blob has no file",
        "path": f"blobs/sha256/{image.layer_digest[7:9]}/{image.layer_digest[7:]}",
        "repositories": [image.arn],
        "repair": "forget the blob, so that the next push uploads it again",
        "repaired": False,
        "detail": {"recorded_size": len(image.layer)},
    }
    assert broken["code"] == "image_blob_missing"

    code, report = fsck(world, "--repair")
    assert code == 1
    assert [f["repaired"] for f in report["findings"]] == [True, False]
    assert not world.available("app", image.layer_digest)
    world.push_blob("app", image.layer)
    assert fsck(world)[0] == 0


def test_a_blob_shared_by_two_repositories_lists_both(world: FsckWorld) -> None:
    world.create_repository("other")
    first = world.push_image("app", "shared")
    second = world.push_image("other", "shared")
    assert first.layer_digest == second.layer_digest
    flip_byte(world.blob_file(first.layer_digest))

    code, report = fsck(world)
    assert code == 1
    assert codes(report) == [
        ("blob_corrupt", first.layer_digest),
        ("image_blob_missing", f"{first.arn}@{first.manifest_digest}"),
        ("image_blob_missing", f"{second.arn}@{second.manifest_digest}"),
    ]
    assert report["findings"][0]["repositories"] == [first.arn, second.arn]

    code, report = fsck(world, "--repair")
    assert report["findings"][0]["detail"]["links_removed"] == 2
    assert not world.available("app", first.layer_digest)
    assert not world.available("other", first.layer_digest)


def test_an_orphan_blob_file_is_in_flight_then_reported_then_deleted(world: FsckWorld) -> None:
    data = b"nobody recorded me"
    digest = digest_of(data)
    orphan = world.blob_file(digest)
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(data)

    code, report = fsck(world)
    assert (code, report["findings"], report["checked"]["in_flight"]) == (0, [], 1)

    age(orphan, 7200)
    code, report = fsck(world)
    assert code == 1
    assert report["findings"] == [
        {
            "code": "blob_unrecorded",
            "subject": digest,
            "message": "a verified blob file that no metadata row records (no repository holds it)",
            "path": f"blobs/sha256/{digest[7:9]}/{digest[7:]}",
            "repositories": [],
            "repair": "delete the file",
            "repaired": False,
            "detail": {"size": len(data)},
        }
    ]
    assert orphan.exists()

    code, report = fsck(world, "--repair")
    assert (code, report["findings"][0]["repaired"]) == (0, True)
    assert not orphan.exists()
    code, report = fsck(world)
    assert (code, report["findings"]) == (0, [])


def test_leftovers_of_uploads_and_stray_files(world: FsckWorld) -> None:
    temp = world.blobs / "tmp" / "0123abcd"
    temp.write_bytes(b"half a monolithic upload")
    orphan_upload = world.blobs / "uploads" / "no-such-session"
    orphan_upload.write_bytes(b"bytes without a session")
    stray = world.blobs / "sha256" / "notes.txt"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"left by hand")
    layers, actor, ref = world.server.ecr.layers, world.actor(), world.ref("app")
    abandoned = layers.initiate(actor, ref).upload_id
    layers.upload_part(actor, ref, abandoned, None, [b"x" * 10])
    fileless = layers.initiate(actor, ref).upload_id
    (world.blobs / "uploads" / fileless).unlink()
    for path in (temp, orphan_upload, stray, world.blobs / "uploads" / abandoned):
        age(path, 7200)

    code, report = fsck(world, "--upload-expiry", "0", "--grace", "0")
    assert code == 1
    assert codes(report) == sorted(
        [
            ("stray_file", "blobs/sha256/notes.txt"),
            ("temp_file", "blobs/tmp/0123abcd"),
            ("upload_expired", abandoned),
            ("upload_file_missing", fileless),
            ("upload_orphan_file", "no-such-session"),
        ]
    )
    before = snapshot(world.data_dir)
    code, report = fsck(world, "--upload-expiry", "0", "--grace", "0", "--repair")
    assert snapshot(world.data_dir) != before
    assert code == 0
    assert all(f["repaired"] for f in report["findings"])
    stray_finding = next(f for f in report["findings"] if f["code"] == "stray_file")
    assert (world.data_dir / stray_finding["detail"]["quarantined_to"]).read_bytes() == (
        b"left by hand"
    )
    for path in (temp, orphan_upload, stray, world.blobs / "uploads" / abandoned):
        assert not path.exists()
    assert world.server.registry_stores.uploads.get_upload(abandoned) is None
    assert world.server.registry_stores.uploads.get_upload(fileless) is None
    assert fsck(world, "--grace", "0")[1]["findings"] == []


def test_an_upload_in_progress_is_not_reported(world: FsckWorld) -> None:
    layers, actor, ref = world.server.ecr.layers, world.actor(), world.ref("app")
    upload = layers.initiate(actor, ref).upload_id
    layers.upload_part(actor, ref, upload, None, [b"y" * 10])
    code, report = fsck(world)
    assert (code, report["findings"], report["checked"]["upload_sessions"]) == (0, [], 1)


def test_text_output_describes_findings_and_repairs(world: FsckWorld, image: PushedImage) -> None:
    flip_byte(world.blob_file(image.layer_digest))
    args = ["fsck", "--data-dir", str(world.data_dir)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"blob_corrupt {image.layer_digest}"
    assert f"  repository: {image.arn}" in lines
    assert (
        "  --repair would move the file to quarantine and forget the blob, so that the next "
        "push uploads it again"
    ) in lines
    assert "  not repaired by fsck: reported only" in lines
    assert lines[-1].endswith(": 2 problems")

    repaired = CliRunner().invoke(cli, [*args, "--repair"])
    assert repaired.exit_code == 1
    assert repaired.stdout.splitlines()[-1].endswith(": 2 problems, 1 repaired, 1 remaining")


@pytest.mark.parametrize("kind", ["missing", "file", "empty"])
def test_a_bad_data_dir_is_a_one_line_usage_error(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "target"
    if kind == "file":
        target.write_text("not a directory")
    elif kind == "empty":
        target.mkdir()
    result = CliRunner().invoke(cli, ["fsck", "--data-dir", str(target)])
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ")
    assert str(target) in line
    assert line.endswith("; pass --data-dir DIR")
    if kind == "missing":
        assert not target.exists()
    if kind == "empty":
        assert list(target.iterdir()) == []


def test_an_unknown_option_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["fsck", "--data-dir", str(tmp_path), "--fix"])
    assert result.exit_code == 2


def test_the_installed_command_in_a_subprocess(world: FsckWorld, image: PushedImage) -> None:
    flip_byte(world.blob_file(image.config_digest), offset=3)
    command = [sys.executable, "-m", "crossdock", "fsck", "--data-dir", str(world.data_dir)]
    env = {**os.environ, "NO_COLOR": "1"}
    run = subprocess.run(
        [*command, "--format", "json"], capture_output=True, text=True, timeout=120, env=env
    )
    assert run.returncode == 1, run.stderr
    report = json.loads(run.stdout)
    assert codes(report) == [
        ("blob_corrupt", image.config_digest),
        ("image_blob_missing", f"{image.arn}@{image.manifest_digest}"),
    ]
    assert report["findings"][0]["repositories"] == [
        f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/app"
    ]
    healed = subprocess.run(
        [*command, "--repair"], capture_output=True, text=True, timeout=120, env=env
    )
    assert healed.returncode == 1
    world.push_blob("app", image.config)
    final = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert final.returncode == 0, final.stdout
    assert final.stdout.rstrip().endswith(": no problems")
