"""Blob uploads (monolithic, POST+PUT, chunked), status, cancel, mount, GET/HEAD/Range."""

from __future__ import annotations

import hashlib

import pytest
from v2_world import CONSUMER_KEY, MALLORY_KEY, OWNER_KEY, V2World, digest_of, push_blob, push_image

pytestmark = pytest.mark.anyio


def _error(response: object) -> tuple[int, str]:
    body = response.json()  # type: ignore[attr-defined]
    return response.status_code, body["errors"][0]["code"]  # type: ignore[attr-defined]


async def test_monolithic_upload_then_head_and_get(v2: V2World) -> None:
    path = v2.new_repository()
    data = b"0123456789" * 100
    digest = digest_of(data)
    async with v2.client() as client:
        put = await client.post(
            f"/v2/{path}/blobs/uploads/", params={"digest": digest}, content=data
        )
        head = await client.head(f"/v2/{path}/blobs/{digest}")
        get = await client.get(f"/v2/{path}/blobs/{digest}")
    assert put.status_code == 201
    assert put.headers["location"] == f"/v2/{path}/blobs/{digest}"
    assert put.headers["docker-content-digest"] == digest
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(data))
    assert head.headers["docker-content-digest"] == digest
    assert head.headers["content-type"] == "application/octet-stream"
    assert get.status_code == 200
    assert get.content == data
    assert get.headers["docker-content-digest"] == digest
    assert get.headers["docker-distribution-api-version"] == "registry/2.0"


@pytest.mark.parametrize(
    ("header", "status", "body", "content_range"),
    [
        ("bytes=0-9", 206, b"0123456789", "bytes 0-9/100"),
        ("bytes=95-", 206, b"56789", "bytes 95-99/100"),
        ("bytes=-3", 206, b"789", "bytes 97-99/100"),
        ("bytes=90-500", 206, b"0123456789", "bytes 90-99/100"),
        ("bytes=100-", 416, None, "bytes */100"),
        ("items=1-2", 200, b"0123456789" * 10, None),
    ],
)
async def test_range_requests(
    v2: V2World, header: str, status: int, body: bytes | None, content_range: str | None
) -> None:
    path = v2.new_repository()
    data = b"0123456789" * 10
    async with v2.client() as client:
        digest = await push_blob(client, path, data)
        response = await client.get(f"/v2/{path}/blobs/{digest}", headers={"Range": header})
    assert response.status_code == status
    if body is not None:
        assert response.content == body
        assert response.headers["content-length"] == str(len(body))
    assert response.headers.get("content-range") == content_range


async def test_unknown_blob_is_blob_unknown(v2: V2World) -> None:
    missing = digest_of(b"never pushed")
    async with v2.client() as client:
        get = await client.get(f"/v2/111111111111/example/blobs/{missing}")
        head = await client.head(f"/v2/111111111111/example/blobs/{missing}")
        bad = await client.get("/v2/111111111111/example/blobs/sha256:abc")
        algo = await client.get("/v2/111111111111/example/blobs/md5:" + "a" * 32)
    assert _error(get) == (404, "BLOB_UNKNOWN")
    assert get.json()["errors"][0]["message"] == (
        f"The layer with digest '{missing}' does not exist within the repository with name "
        "'example' in the registry with id '111111111111'"
    )
    assert head.status_code == 404
    assert head.content == b""
    assert _error(bad) == (400, "DIGEST_INVALID")
    assert _error(algo) == (400, "UNSUPPORTED")


async def test_a_blob_of_another_repository_is_not_served(v2: V2World) -> None:
    first, second = v2.new_repository(), v2.new_repository()
    async with v2.client() as client:
        digest = await push_blob(client, first, b"only in the first")
        response = await client.get(f"/v2/{second}/blobs/{digest}")
    assert _error(response) == (404, "BLOB_UNKNOWN")


async def test_post_then_put_and_sha512(v2: V2World) -> None:
    path = v2.new_repository()
    data = b"sha512 content"
    digest = "sha512:" + hashlib.sha512(data).hexdigest()
    async with v2.client() as client:
        start = await client.post(f"/v2/{path}/blobs/uploads/")
        location = start.headers["location"]
        done = await client.put(location, params={"digest": digest}, content=data)
        get = await client.get(f"/v2/{path}/blobs/{digest}")
    assert start.status_code == 202
    assert start.headers["range"] == "0-0"
    assert start.headers["docker-upload-uuid"] in location
    assert location.startswith(f"/v2/{path}/blobs/uploads/")
    assert done.status_code == 201
    assert done.headers["docker-content-digest"] == digest
    assert get.content == data


async def test_chunked_upload_with_out_of_order_and_retried_chunks(v2: V2World) -> None:
    path = v2.new_repository()
    data = bytes(range(30))
    async with v2.client() as client:
        location = (await client.post(f"/v2/{path}/blobs/uploads/")).headers["location"]
        first = await client.patch(location, content=data[:10], headers={"Content-Range": "0-9"})
        skipped = await client.patch(
            location, content=data[20:], headers={"Content-Range": "20-29"}
        )
        retried = await client.patch(location, content=data[:10], headers={"Content-Range": "0-9"})
        status = await client.get(location)
        second = await client.patch(
            location, content=data[10:20], headers={"Content-Range": "10-19"}
        )
        third = await client.patch(location, content=data[20:])  # streamed, no Content-Range
        done = await client.put(location, params={"digest": digest_of(data)})
        get = await client.get(f"/v2/{path}/blobs/{digest_of(data)}")
    assert first.status_code == 202
    assert first.headers["range"] == "0-9"
    assert first.headers["location"] == location
    for refused in (skipped, retried):
        assert _error(refused) == (416, "BLOB_UPLOAD_INVALID")
        assert refused.headers["range"] == "0-9"
        assert refused.headers["location"] == location
    assert status.status_code == 204
    assert status.headers["range"] == "0-9"
    assert second.headers["range"] == "0-19"
    assert third.headers["range"] == "0-29"
    assert done.status_code == 201
    assert get.content == data


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"Content-Range": "nonsense"}, "BLOB_UPLOAD_INVALID"),
        ({"Content-Range": "5-1"}, "BLOB_UPLOAD_INVALID"),
        ({"Content-Range": "0-3"}, "BLOB_UPLOAD_INVALID"),  # 4 bytes declared, 10 sent
    ],
)
async def test_bad_content_range_is_400(v2: V2World, headers: dict[str, str], code: str) -> None:
    path = v2.new_repository()
    async with v2.client() as client:
        location = (await client.post(f"/v2/{path}/blobs/uploads/")).headers["location"]
        response = await client.patch(location, content=b"0123456789", headers=headers)
        status = await client.get(location)
    assert _error(response) == (400, code)
    assert status.headers["range"] == "0-0"


async def test_completion_errors(v2: V2World) -> None:
    path = v2.new_repository()
    async with v2.client() as client:
        location = (await client.post(f"/v2/{path}/blobs/uploads/")).headers["location"]
        await client.patch(location, content=b"abc")
        no_digest = await client.put(location)
        bad_digest = await client.put(location, params={"digest": "sha256:zz"})
        wrong = await client.put(location, params={"digest": digest_of(b"other")})
        mono_wrong = await client.post(
            f"/v2/{path}/blobs/uploads/", params={"digest": digest_of(b"x")}, content=b"y"
        )
        unknown = await client.get(f"/v2/{path}/blobs/uploads/no-such-upload")
    assert _error(no_digest) == (400, "DIGEST_INVALID")
    assert _error(bad_digest) == (400, "DIGEST_INVALID")
    assert _error(wrong) == (400, "DIGEST_INVALID")
    assert _error(mono_wrong) == (400, "DIGEST_INVALID")
    assert _error(unknown) == (404, "BLOB_UPLOAD_UNKNOWN")


async def test_cancel(v2: V2World) -> None:
    path = v2.new_repository()
    async with v2.client() as client:
        location = (await client.post(f"/v2/{path}/blobs/uploads/")).headers["location"]
        cancelled = await client.delete(location)
        after = await client.get(location)
        patch = await client.patch(location, content=b"late")
    assert cancelled.status_code == 204
    assert _error(after) == (404, "BLOB_UPLOAD_UNKNOWN")
    assert _error(patch) == (404, "BLOB_UPLOAD_UNKNOWN")


async def test_blob_delete_is_unsupported(v2: V2World) -> None:
    path = v2.new_repository()
    async with v2.client() as client:
        digest = await push_blob(client, path, b"stays")
        response = await client.delete(f"/v2/{path}/blobs/{digest}")
    assert _error(response) == (405, "UNSUPPORTED")


async def test_mount_within_an_account(v2: V2World) -> None:
    source, target = v2.new_repository(), v2.new_repository()
    async with v2.client() as client:
        manifest = await push_image(client, source, "v1", b"mount")
        layer = digest_of(b"layer-mount")
        loose = await push_blob(client, source, b"not referenced")
        mounted = await client.post(
            f"/v2/{target}/blobs/uploads/", params={"mount": layer, "from": source}
        )
        fallback = await client.post(
            f"/v2/{target}/blobs/uploads/", params={"mount": loose, "from": source}
        )
        get = await client.get(f"/v2/{target}/blobs/{layer}")
    assert manifest
    assert mounted.status_code == 201
    assert mounted.headers["location"] == f"/v2/{target}/blobs/{layer}"
    assert mounted.headers["docker-content-digest"] == layer
    assert fallback.status_code == 202
    assert "docker-upload-uuid" in fallback.headers
    assert get.content == b"layer-mount"


async def test_cross_account_mount_is_authorized_on_the_source(v2: V2World) -> None:
    async with v2.client(OWNER_KEY) as owner:
        await push_image(owner, "111111111111/example", "mountable", b"xacct")
    layer = digest_of(b"layer-xacct")
    granted = v2.new_repository(CONSUMER_KEY)  # 222222222222's root: the repository policy
    refused = v2.new_repository(MALLORY_KEY)  # allows 222222222222, not 333333333333
    params = {"mount": layer, "from": "111111111111/example"}
    async with v2.client(CONSUMER_KEY) as consumer, v2.client(MALLORY_KEY) as mallory:
        ok = await consumer.post(f"/v2/{granted}/blobs/uploads/", params=params)
        fallback = await mallory.post(f"/v2/{refused}/blobs/uploads/", params=params)
        not_served = await mallory.get(f"/v2/{refused}/blobs/{layer}")
    assert ok.status_code == 201
    assert fallback.status_code == 202
    assert _error(not_served) == (404, "BLOB_UNKNOWN")
