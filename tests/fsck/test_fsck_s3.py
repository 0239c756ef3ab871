"""``crossdock fsck --blob-store s3://...``: the same checks and repairs over a bucket.

Runs when ``CROSSDOCK_TEST_S3_URL`` is set (``scripts/services/seaweedfs.sh``); each test
gets a key prefix of its own. The metadata is the data dir's SQLite database here;
``tests/e2e/test_multi_node.py`` runs fsck over PostgreSQL and S3 together.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from click.testing import CliRunner
from fsck_world import REGION, WALKTHROUGH, FsckWorld

from crossdock.api.compose import build_server
from crossdock.api.scenario import apply_scenario_file
from crossdock.cli.main import cli
from crossdock.oci.digest import Digest
from crossdock.settings import Settings
from crossdock.storage.blobs_s3 import S3BlobStore
from crossdock.storage.s3_location import parse_s3_url

S3_URL = os.environ.get("CROSSDOCK_TEST_S3_URL")
pytestmark = pytest.mark.skipif(not S3_URL, reason="CROSSDOCK_TEST_S3_URL is not set")


@pytest.fixture
def blob_store() -> Iterator[str]:
    assert S3_URL is not None
    parts = urlsplit(S3_URL)
    path = f"{parts.path.rstrip('/')}/fsck-{uuid.uuid4().hex}"
    url = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
    try:
        yield url
    finally:
        store = S3BlobStore(parse_s3_url(url))
        store.bucket.delete([item.key for item in store.bucket.list(store.location.prefix)])


@pytest.fixture
def world(tmp_path: Path, blob_store: str) -> FsckWorld:
    data_dir = tmp_path / "data"
    server = build_server(Settings(data_dir=data_dir, trail=False, blob_store=blob_store))
    apply_scenario_file(server, WALKTHROUGH, REGION)
    built = FsckWorld(data_dir, server)
    built.create_repository("app")
    return built


def _fsck(world: FsckWorld, blob_store: str, *args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(
        cli,
        [
            *("fsck", "--data-dir", str(world.data_dir), "--blob-store", blob_store),
            *("--format", "json", *args),
        ],
        catch_exceptions=False,
    )
    assert result.stderr == ""
    report = json.loads(result.stdout)
    assert report["exit_code"] == result.exit_code
    return result.exit_code, report


def _store(blob_store: str) -> S3BlobStore:
    return S3BlobStore(parse_s3_url(blob_store))


def test_a_clean_bucket_passes(world: FsckWorld, blob_store: str) -> None:
    image = world.push_image("app", "one")
    code, report = _fsck(world, blob_store)
    assert code == 0
    assert report["findings"] == []
    assert report["data_dir"] == parse_s3_url(blob_store).display()
    assert report["checked"]["blob_files"] == 2
    assert report["checked"]["blob_rows"] == 2
    assert report["checked"]["blob_bytes"] == len(image.config) + len(image.layer)


def test_damage_in_the_bucket_is_found_and_repaired(world: FsckWorld, blob_store: str) -> None:
    image = world.push_image("app", "one")
    store = _store(blob_store)
    bucket, key = store.bucket, store.location.key
    layer_key = store.blob_key(Digest.parse(image.layer_digest))
    damaged = bytearray(image.layer)
    damaged[100] ^= 0xFF
    bucket.put(layer_key, bytes(damaged))
    bucket.delete([store.blob_key(Digest.parse(image.config_digest))])
    bucket.put(key("uploads", "no-such-session", "data", "0" * 20), b"bytes without a session")
    bucket.put(key("tmp", "0123abcd", "data", "0" * 20), b"half a monolithic upload")
    bucket.put(key("notes.txt"), b"left by hand")
    layers, actor, ref = world.server.ecr.layers, world.actor(), world.ref("app")
    in_progress = layers.initiate(actor, ref).upload_id
    layers.upload_part(actor, ref, in_progress, None, [b"y" * 10])

    code, report = _fsck(world, blob_store, "--grace", "0")
    assert code == 1
    found = [(f["code"], f["subject"], f["path"]) for f in report["findings"]]
    manifest_subject = f"{image.arn}@{image.manifest_digest}"
    assert found == [
        ("blob_corrupt", image.layer_digest, f"blobs/sha256/{image.layer_digest[7:]}"),
        ("blob_missing", image.config_digest, f"blobs/sha256/{image.config_digest[7:]}"),
        ("image_blob_missing", manifest_subject, None),
        ("image_blob_missing", manifest_subject, None),
        ("stray_file", "notes.txt", "notes.txt"),
        ("temp_file", f"tmp/0123abcd/data/{'0' * 20}", f"tmp/0123abcd/data/{'0' * 20}"),
        ("upload_orphan_file", "no-such-session", "uploads/no-such-session"),
    ]
    assert report["checked"]["upload_sessions"] == 1  # the one in progress: not a finding

    code, report = _fsck(world, blob_store, "--grace", "0", "--repair")
    assert [f["repaired"] for f in report["findings"]] == [True, True, False, False] + [True] * 3
    quarantined = {f["code"]: f["detail"].get("quarantined_to") for f in report["findings"]}
    corrupt_copy = str(quarantined["blob_corrupt"])
    assert corrupt_copy.startswith("quarantine/")
    assert corrupt_copy.endswith(f"/blobs/sha256/{image.layer_digest[7:]}")
    assert b"".join(bucket.get(key(corrupt_copy))) == bytes(damaged)
    assert b"".join(bucket.get(key(str(quarantined["stray_file"])))) == b"left by hand"
    for gone in (key("notes.txt"), key("tmp", "0123abcd", "data", "0" * 20), layer_key):
        assert bucket.head(gone) is None
    assert list(bucket.list(key("uploads", "no-such-session", ""))) == []
    assert store.upload_size(in_progress) == 10  # a live session is left alone

    world.push_blob("app", image.layer)  # pushing the blobs again heals the image
    world.push_blob("app", image.config)
    code, report = _fsck(world, blob_store, "--grace", "0")
    assert (code, report["findings"]) == (0, [])
