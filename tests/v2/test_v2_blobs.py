"""Blob uploads (monolithic, POST+PUT, chunked), status, cancel, mount, GET/HEAD/Range, DELETE."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from v2_world import (
    CONSUMER_KEY,
    HOST,
    MALLORY_KEY,
    OWNER_KEY,
    V2World,
    build_v2_world,
    digest_of,
    image_manifest,
    push_blob,
    push_image,
)

from crossdock.api.compose import build_server
from crossdock.oci.digest import Digest
from crossdock.settings import Settings

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


async def test_blob_delete_follows_the_ecr_rule(v2: V2World) -> None:
    """DELETE removes a blob from a repository once no image there references it."""
    path, other = v2.new_repository(), v2.new_repository()
    name = path.split("/", 1)[1]
    async with v2.client() as client:
        manifest = await push_image(client, path, "v1", b"del-blob")
        layer = digest_of(b"layer-del-blob")
        await push_blob(client, other, b"layer-del-blob")  # the same bytes, linked twice
        loose = await push_blob(client, path, b"never referenced")
        referenced = await client.delete(f"/v2/{path}/blobs/{layer}")
        served = await client.get(f"/v2/{path}/blobs/{layer}")
        unlinked = await client.delete(f"/v2/{path}/blobs/{loose}")
        gone_get = await client.get(f"/v2/{path}/blobs/{loose}")
        gone_head = await client.head(f"/v2/{path}/blobs/{loose}")
        again = await client.delete(f"/v2/{path}/blobs/{loose}")
        await client.delete(f"/v2/{path}/manifests/{digest_of(manifest)}")
        freed = await client.delete(f"/v2/{path}/blobs/{layer}")
        elsewhere = await client.get(f"/v2/{other}/blobs/{layer}")
        bad = await client.delete(f"/v2/{path}/blobs/sha256:nope")
    status, code = _error(referenced)
    assert (status, code) == (405, "UNSUPPORTED")
    assert referenced.headers["allow"] == "GET, HEAD"
    assert referenced.json()["errors"][0]["message"] == (
        f"The blob with digest '{layer}' is referenced by images in the repository with "
        f"name '{name}' in the registry with id '111111111111': [{digest_of(manifest)}]. "
        "Delete those images first; a blob is removed when no image references it."
    )
    assert served.content == b"layer-del-blob"
    assert unlinked.status_code == 202
    assert unlinked.content == b""
    assert _error(gone_get) == (404, "BLOB_UNKNOWN")
    assert gone_head.status_code == 404
    assert _error(again) == (404, "BLOB_UNKNOWN")
    assert again.json()["errors"][0]["message"] == (
        f"The layer with digest '{loose}' does not exist within the repository with name "
        f"'{name}' in the registry with id '111111111111'"
    )
    assert freed.status_code == 202
    assert elsewhere.content == b"layer-del-blob"  # other repositories keep their link
    assert _error(bad) == (400, "DIGEST_INVALID")


async def test_deleted_blob_bytes_wait_for_garbage_collection(v2: V2World) -> None:
    """The unlink leaves the bytes; they become an orphan only when no repository links
    them, and a new upload of the same bytes links them again."""
    path, other = v2.new_repository(), v2.new_repository()
    data = b"orphan candidate " + path.encode()
    stores = v2.server.registry_stores
    async with v2.client() as client:
        digest = await push_blob(client, path, data)
        await push_blob(client, other, data)
        await client.delete(f"/v2/{path}/blobs/{digest}")
        linked_elsewhere = digest in stores.links.orphan_blobs(10_000)
        await client.delete(f"/v2/{other}/blobs/{digest}")
        orphaned = digest in stores.links.orphan_blobs(10_000)
        kept = stores.blobs.stat(Digest.parse(digest))
        await push_blob(client, path, data)
        back = await client.get(f"/v2/{path}/blobs/{digest}")
    assert not linked_elsewhere
    assert orphaned
    assert kept is not None
    assert kept.size == len(data)
    assert back.content == data


async def test_blob_delete_is_authorized_as_batch_delete_image(v2: V2World) -> None:
    async with v2.client(OWNER_KEY) as owner:
        digest = await push_blob(owner, "111111111111/example", b"owner's loose blob")
    async with v2.client(CONSUMER_KEY) as consumer:
        response = await consumer.delete(f"/v2/111111111111/example/blobs/{digest}")
        still = await consumer.head(f"/v2/111111111111/example/blobs/{digest}")
    assert _error(response) == (403, "DENIED")
    message = response.json()["errors"][0]["message"]
    assert "is not authorized to perform: ecr:BatchDeleteImage on resource: " in message
    assert still.status_code == 200


async def test_a_manifest_cannot_reference_a_blob_deleted_meanwhile(
    v2: V2World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A blob DELETE between a manifest PUT's reference check and its commit wins: the
    commit re-checks the links under the repository lock, and nothing is stored."""
    path = v2.new_repository()
    images = v2.server.ecr.images
    async with v2.client() as client:
        config = await push_blob(client, path, b'{"race":1}')
        manifest = image_manifest(b'{"race":1}', [])
        deleted = await client.delete(f"/v2/{path}/blobs/{config}")
        monkeypatch.setattr(images, "_check_references", lambda *_: None)  # checked "before"
        response = await client.put(f"/v2/{path}/manifests/late", content=manifest)
        tags = await client.get(f"/v2/{path}/tags/list")
    assert deleted.status_code == 202
    assert _error(response) == (400, "MANIFEST_BLOB_UNKNOWN")
    assert tags.json()["tags"] == []


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


async def test_patch_without_content_range_or_length(v2: V2World) -> None:
    """A streamed PATCH (chunked transfer: no Content-Length, no Content-Range) appends."""
    path = v2.new_repository()
    data = b"streamed " * 1000

    async def body() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 700):
            yield data[start : start + 700]

    async with v2.client() as client:
        location = (await client.post(f"/v2/{path}/blobs/uploads/")).headers["location"]
        request = client.build_request("PATCH", location, content=body())
        assert "content-length" not in request.headers
        patched = await client.send(request)
        done = await client.put(location, params={"digest": digest_of(data)})
        get = await client.get(f"/v2/{path}/blobs/{digest_of(data)}")
    assert patched.status_code == 202
    assert patched.headers["range"] == f"0-{len(data) - 1}"
    assert done.status_code == 201
    assert get.content == data


async def test_an_upload_session_survives_a_restart(tmp_path: Path) -> None:
    first = build_v2_world(tmp_path)
    path = first.new_repository()
    password = first.password(OWNER_KEY)
    async with first.client() as client:
        location = (await client.post(f"/v2/{path}/blobs/uploads/")).headers["location"]
        await client.patch(location, content=b"before ", headers={"Content-Range": "0-6"})
    restarted = build_server(Settings(data_dir=tmp_path / "data"), first.clock)
    transport = httpx.ASGITransport(app=restarted.app)
    async with httpx.AsyncClient(
        transport=transport, base_url=f"http://{HOST}", auth=("AWS", password)
    ) as client:
        status = await client.get(location)
        await client.patch(location, content=b"after", headers={"Content-Range": "7-11"})
        done = await client.put(location, params={"digest": digest_of(b"before after")})
    assert status.status_code == 204
    assert status.headers["range"] == "0-6"
    assert done.status_code == 201


async def test_a_mount_from_an_unusable_name_falls_back_to_an_upload(v2: V2World) -> None:
    target = v2.new_repository()
    layer = digest_of(b"whatever")
    async with v2.client() as client:
        invalid = await client.post(
            f"/v2/{target}/blobs/uploads/", params={"mount": layer, "from": "no-account/x"}
        )
        missing = await client.post(
            f"/v2/{target}/blobs/uploads/", params={"mount": layer, "from": "111111111111/none"}
        )
    for response in (invalid, missing):
        assert response.status_code == 202
        assert response.headers["location"].startswith(f"/v2/{target}/blobs/uploads/")
