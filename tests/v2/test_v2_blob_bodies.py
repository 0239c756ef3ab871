"""Blob GET bodies on both sides of the small-blob limit: read whole, or streamed 1 MiB a step."""

from __future__ import annotations

import os

import pytest
from v2_world import V2World, digest_of, push_blob

from crossdock.api.v2.blobfile import CHUNK, INLINE_LIMIT
from crossdock.oci.digest import Digest

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "size", [1, INLINE_LIMIT, INLINE_LIMIT + 1, 3 * CHUNK + 5], ids=lambda n: f"{n}B"
)
async def test_get_returns_every_byte(v2: V2World, size: int) -> None:
    path = v2.new_repository()
    data = os.urandom(size)
    async with v2.client() as client:
        digest = await push_blob(client, path, data)
        got = await client.get(f"/v2/{path}/blobs/{digest}")
    assert digest == digest_of(data)
    assert got.status_code == 200
    assert got.content == data
    assert got.headers["content-length"] == str(size)
    assert got.headers["docker-content-digest"] == digest
    assert got.headers["content-type"] == "application/octet-stream"


async def test_a_blob_file_gone_from_disk_is_blob_unknown(v2: V2World) -> None:
    path = v2.new_repository()
    data = os.urandom(INLINE_LIMIT + 1)
    async with v2.client() as client:
        digest = await push_blob(client, path, data)
        blob = v2.server.registry_stores.blobs.local_path(Digest.parse(digest))
        assert blob is not None
        blob.unlink()
        got = await client.get(f"/v2/{path}/blobs/{digest}")
    assert got.status_code == 404
    assert got.json()["errors"][0]["code"] == "BLOB_UNKNOWN"
