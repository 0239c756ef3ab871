"""Manifests: PUT/GET/HEAD/DELETE by tag and digest, negotiation, validation, immutability."""

from __future__ import annotations

import json

import pytest
from v2_world import (
    V2World,
    digest_of,
    image_manifest,
    index_manifest,
    push_blob,
    push_image,
)

from crossdock.oci import mediatypes

pytestmark = pytest.mark.anyio


def _error(response: object) -> tuple[int, str, str]:
    entry = response.json()["errors"][0]  # type: ignore[attr-defined]
    return response.status_code, entry["code"], entry["message"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("media_type", [mediatypes.OCI_MANIFEST, mediatypes.DOCKER_MANIFEST])
async def test_put_get_head_by_tag_and_digest(v2: V2World, media_type: str) -> None:
    path = v2.new_repository()
    async with v2.client() as client:
        manifest = await push_image(client, path, "v1", b"m", media_type)
        digest = digest_of(manifest)
        by_tag = await client.get(f"/v2/{path}/manifests/v1", headers={"Accept": media_type})
        by_digest = await client.get(f"/v2/{path}/manifests/{digest}")
        head = await client.head(f"/v2/{path}/manifests/v1")
    for response in (by_tag, by_digest):
        assert response.status_code == 200
        assert response.content == manifest
        assert response.headers["content-type"] == media_type
        assert response.headers["docker-content-digest"] == digest
        assert response.headers["content-length"] == str(len(manifest))
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(manifest))
    assert head.headers["docker-content-digest"] == digest


async def test_put_answers_201_with_location_and_digest(v2: V2World) -> None:
    path = v2.new_repository()
    async with v2.client() as client:
        config = await push_blob(client, path, b"{}")
        assert config
        manifest = image_manifest(b"{}", [])
        response = await client.put(
            f"/v2/{path}/manifests/latest",
            content=manifest,
            headers={"Content-Type": mediatypes.OCI_MANIFEST},
        )
        by_digest = await client.put(
            f"/v2/{path}/manifests/{digest_of(manifest)}", content=manifest
        )
    assert response.status_code == 201
    assert response.headers["docker-content-digest"] == digest_of(manifest)
    assert response.headers["location"] == f"/v2/{path}/manifests/{digest_of(manifest)}"
    assert by_digest.status_code == 201


async def test_an_index_needs_its_children(v2: V2World) -> None:
    path = v2.new_repository()
    async with v2.client() as client:
        child = await push_image(client, path, "child", b"c")
        missing_child = image_manifest(b"{}", [b"never"])
        index = index_manifest([child])
        ok = await client.put(
            f"/v2/{path}/manifests/multi",
            content=index,
            headers={"Content-Type": mediatypes.OCI_INDEX},
        )
        bad = await client.put(
            f"/v2/{path}/manifests/broken",
            content=index_manifest([child, missing_child]),
            headers={"Content-Type": mediatypes.OCI_INDEX},
        )
        docker_only = await client.get(
            f"/v2/{path}/manifests/multi", headers={"Accept": mediatypes.DOCKER_MANIFEST}
        )
        star = await client.get(f"/v2/{path}/manifests/multi", headers={"Accept": "*/*"})
    assert ok.status_code == 201
    status, code, _ = _error(bad)
    assert (status, code) == (400, "MANIFEST_BLOB_UNKNOWN")
    assert _error(docker_only)[:2] == (404, "MANIFEST_UNKNOWN")
    assert star.status_code == 200


async def test_missing_blobs_are_manifest_blob_unknown(v2: V2World) -> None:
    path = v2.new_repository()
    manifest = image_manifest(b"{}", [b"missing layer"])
    async with v2.client() as client:
        response = await client.put(f"/v2/{path}/manifests/v1", content=manifest)
        after = await client.get(f"/v2/{path}/manifests/v1")
    status, code, message = _error(response)
    assert (status, code) == (400, "MANIFEST_BLOB_UNKNOWN")
    assert message.startswith("Layers with digests '[")
    assert _error(after)[:2] == (404, "MANIFEST_UNKNOWN")


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"not json", mediatypes.OCI_MANIFEST, 400, "MANIFEST_INVALID"),
        (
            json.dumps({"schemaVersion": 1, "name": "x", "tag": "y", "fsLayers": []}).encode(),
            mediatypes.DOCKER_SCHEMA1_SIGNED,
            400,
            "UNSUPPORTED",
        ),
        (
            json.dumps({"schemaVersion": 2, "mediaType": "application/x-unknown"}).encode(),
            None,
            400,
            "UNSUPPORTED",
        ),
        (b"{" + b" " * (4 * 1024 * 1024) + b"}", mediatypes.OCI_MANIFEST, 413, "SIZE_INVALID"),
    ],
    ids=["malformed", "schema1", "unknown-type", "oversized"],
)
async def test_bad_manifests(
    v2: V2World, body: bytes, content_type: str | None, status: int, code: str
) -> None:
    path = v2.new_repository()
    headers = {"Content-Type": content_type} if content_type else {}
    async with v2.client() as client:
        response = await client.put(f"/v2/{path}/manifests/bad", content=body, headers=headers)
        after = await client.get(f"/v2/{path}/tags/list")
    assert _error(response)[:2] == (status, code)
    assert after.json()["tags"] == []


async def test_schema1_message_is_clear(v2: V2World) -> None:
    path = v2.new_repository()
    body = json.dumps({"schemaVersion": 1, "fsLayers": []}).encode()
    async with v2.client() as client:
        response = await client.put(f"/v2/{path}/manifests/old", content=body)
    assert _error(response) == (
        400,
        "UNSUPPORTED",
        "Docker schema 1 manifests are not supported: push a schema 2 or OCI manifest",
    )


async def test_reference_errors(v2: V2World) -> None:
    path = v2.new_repository()
    async with v2.client() as client:
        manifest = await push_image(client, path, "v1", b"ref")
        wrong_digest = await client.put(
            f"/v2/{path}/manifests/{digest_of(b'other')}", content=manifest
        )
        bad_tag = await client.put(f"/v2/{path}/manifests/-bad", content=manifest)
        missing = await client.get(f"/v2/{path}/manifests/nope")
        missing_head = await client.head(f"/v2/{path}/manifests/nope")
    assert _error(wrong_digest)[:2] == (400, "DIGEST_INVALID")
    assert _error(bad_tag)[:2] == (400, "TAG_INVALID")
    assert _error(missing) == (404, "MANIFEST_UNKNOWN", "Requested image not found")
    assert missing_head.status_code == 404
    assert missing_head.content == b""


async def test_immutable_tags_are_not_overwritten(v2: V2World) -> None:
    path = v2.new_repository(tag_mutability="IMMUTABLE")
    name = path.split("/", 1)[1]
    async with v2.client() as client:
        await push_image(client, path, "v1", b"one")
        second = image_manifest(b"{}", [])
        await push_blob(client, path, b"{}")
        response = await client.put(f"/v2/{path}/manifests/v1", content=second)
    assert _error(response) == (
        400,
        "TAG_INVALID",
        f"The image tag 'v1' already exists in the '{name}' repository and cannot be "
        "overwritten because the repository is immutable.",
    )


async def test_delete_by_tag_and_by_digest(v2: V2World) -> None:
    path = v2.new_repository()
    async with v2.client() as client:
        manifest = await push_image(client, path, "a", b"del")
        await client.put(f"/v2/{path}/manifests/b", content=manifest)
        by_tag = await client.delete(f"/v2/{path}/manifests/a")
        still = await client.get(f"/v2/{path}/manifests/b")
        by_digest = await client.delete(f"/v2/{path}/manifests/{digest_of(manifest)}")
        gone = await client.get(f"/v2/{path}/manifests/b")
        again = await client.delete(f"/v2/{path}/manifests/{digest_of(manifest)}")
    assert by_tag.status_code == 202
    assert still.status_code == 200
    assert by_digest.status_code == 202
    assert _error(gone)[:2] == (404, "MANIFEST_UNKNOWN")
    assert _error(again) == (404, "MANIFEST_UNKNOWN", "Requested image not found")


async def test_a_manifest_in_an_index_cannot_be_deleted(v2: V2World) -> None:
    path = v2.new_repository()
    async with v2.client() as client:
        child = await push_image(client, path, "child", b"in-index")
        await client.put(f"/v2/{path}/manifests/multi", content=index_manifest([child]))
        response = await client.delete(f"/v2/{path}/manifests/{digest_of(child)}")
    status, code, message = _error(response)
    assert (status, code) == (409, "UNSUPPORTED")
    assert message.startswith("Requested image referenced by manifest list: [sha256:")


async def test_referrers_and_oci_subject(v2: V2World) -> None:
    path = v2.new_repository()
    async with v2.client() as client:
        subject = await push_image(client, path, "app", b"subject")
        subject_descriptor = {
            "mediaType": mediatypes.OCI_MANIFEST,
            "digest": digest_of(subject),
            "size": len(subject),
        }
        await push_blob(client, path, b"{}")
        signature = image_manifest(
            b"{}",
            [],
            artifactType="application/vnd.example.sig",
            subject=subject_descriptor,
            annotations={"org.example": "yes"},
        )
        sbom = image_manifest(
            b"{}", [], artifactType="application/spdx+json", subject=subject_descriptor
        )
        put = await client.put(f"/v2/{path}/manifests/{digest_of(signature)}", content=signature)
        await client.put(f"/v2/{path}/manifests/{digest_of(sbom)}", content=sbom)
        listed = await client.get(f"/v2/{path}/referrers/{digest_of(subject)}")
        filtered = await client.get(
            f"/v2/{path}/referrers/{digest_of(subject)}",
            params={"artifactType": "application/spdx+json"},
        )
        empty = await client.get(f"/v2/{path}/referrers/{digest_of(b'nothing')}")
        bad = await client.get(f"/v2/{path}/referrers/sha256:nope")
    assert put.headers["oci-subject"] == digest_of(subject)
    assert listed.status_code == 200
    assert listed.headers["content-type"] == mediatypes.OCI_INDEX
    body = listed.json()
    assert body["schemaVersion"] == 2
    assert body["mediaType"] == mediatypes.OCI_INDEX
    assert body["manifests"][0] == {
        "mediaType": mediatypes.OCI_MANIFEST,
        "digest": digest_of(signature),
        "size": len(signature),
        "artifactType": "application/vnd.example.sig",
        "annotations": {"org.example": "yes"},
    }
    assert len(body["manifests"]) == 2
    assert "oci-filters-applied" not in listed.headers
    assert filtered.headers["oci-filters-applied"] == "artifactType"
    assert [m["digest"] for m in filtered.json()["manifests"]] == [digest_of(sbom)]
    assert empty.json()["manifests"] == []
    assert _error(bad)[:2] == (400, "DIGEST_INVALID")


async def test_docker_manifest_list_negotiation(v2: V2World) -> None:
    path = v2.new_repository()
    async with v2.client() as client:
        child = await push_image(client, path, "amd64", b"list", mediatypes.DOCKER_MANIFEST)
        listing = index_manifest([child], mediatypes.DOCKER_MANIFEST_LIST)
        put = await client.put(
            f"/v2/{path}/manifests/multi",
            content=listing,
            headers={"Content-Type": mediatypes.DOCKER_MANIFEST_LIST},
        )
        docker_accept = ", ".join([mediatypes.DOCKER_MANIFEST, mediatypes.DOCKER_MANIFEST_LIST])
        listed = await client.get(f"/v2/{path}/manifests/multi", headers={"Accept": docker_accept})
        oci_only = await client.get(
            f"/v2/{path}/manifests/multi", headers={"Accept": mediatypes.OCI_INDEX}
        )
        child_for_oci = await client.get(
            f"/v2/{path}/manifests/{digest_of(child)}", headers={"Accept": mediatypes.OCI_MANIFEST}
        )
    assert put.status_code == 201
    assert listed.status_code == 200
    assert listed.content == listing
    assert listed.headers["content-type"] == mediatypes.DOCKER_MANIFEST_LIST
    assert listed.headers["docker-content-digest"] == digest_of(listing)
    assert _error(oci_only)[:2] == (404, "MANIFEST_UNKNOWN")  # never converted
    assert _error(child_for_oci)[:2] == (404, "MANIFEST_UNKNOWN")


async def test_sha512_manifest_reference(v2: V2World) -> None:
    path = v2.new_repository()
    async with v2.client() as client:
        await push_blob(client, path, b"{}")
        manifest = image_manifest(b"{}", [])
        digest = digest_of(manifest, "sha512")
        put = await client.put(
            f"/v2/{path}/manifests/{digest}",
            content=manifest,
            headers={"Content-Type": mediatypes.OCI_MANIFEST},
        )
        got = await client.get(f"/v2/{path}/manifests/{digest}")
        head = await client.head(f"/v2/{path}/manifests/{digest}")
        wrong = await client.put(
            f"/v2/{path}/manifests/{digest_of(b'other', 'sha512')}", content=manifest
        )
    assert put.status_code == 201
    assert put.headers["docker-content-digest"] == digest
    assert put.headers["location"] == f"/v2/{path}/manifests/{digest}"
    assert got.content == manifest
    assert got.headers["docker-content-digest"] == digest
    assert head.headers["docker-content-digest"] == digest
    assert _error(wrong)[:2] == (400, "DIGEST_INVALID")


async def test_a_reference_outside_the_tag_grammar_is_unknown_except_on_put(v2: V2World) -> None:
    """No manifest can carry such a tag, so GET/HEAD/DELETE find nothing (the conformance
    suite asks for 404 on ``.INVALID_MANIFEST_NAME``); PUT refuses the tag."""
    path = v2.new_repository()
    async with v2.client() as client:
        manifest = await push_image(client, path, "v1", b"grammar")
        get = await client.get(f"/v2/{path}/manifests/.INVALID_MANIFEST_NAME")
        head = await client.head(f"/v2/{path}/manifests/-dash")
        delete = await client.delete(f"/v2/{path}/manifests/{'x' * 129}")
        put = await client.put(f"/v2/{path}/manifests/.INVALID_MANIFEST_NAME", content=manifest)
    assert _error(get) == (404, "MANIFEST_UNKNOWN", "Requested image not found")
    assert head.status_code == 404
    assert head.content == b""
    assert _error(delete) == (404, "MANIFEST_UNKNOWN", "Requested image not found")
    assert _error(put)[:2] == (400, "TAG_INVALID")


async def test_deleting_the_last_tag_deletes_the_image(v2: V2World) -> None:
    path = v2.new_repository()
    async with v2.client() as client:
        manifest = await push_image(client, path, "only", b"last-tag")
        by_tag = await client.delete(f"/v2/{path}/manifests/only")
        by_digest = await client.get(f"/v2/{path}/manifests/{digest_of(manifest)}")
        tags = await client.get(f"/v2/{path}/tags/list")
    assert by_tag.status_code == 202
    assert _error(by_digest)[:2] == (404, "MANIFEST_UNKNOWN")
    assert tags.json()["tags"] == []


async def test_referrers_of_an_index_subject_and_unknown_filter(v2: V2World) -> None:
    """An index may carry a subject (``OCI-Subject`` on PUT) and be a referrer; a filter
    that matches nothing gives an empty index, still marked as filtered."""
    path = v2.new_repository()
    async with v2.client() as client:
        child = await push_image(client, path, "child", b"idx-subject")
        subject = {
            "mediaType": mediatypes.OCI_MANIFEST,
            "digest": digest_of(child),
            "size": len(child),
        }
        body = json.loads(index_manifest([child]))
        body.update(artifactType="application/vnd.example.bundle", subject=subject)
        index = json.dumps(body).encode()
        put = await client.put(
            f"/v2/{path}/manifests/{digest_of(index)}",
            content=index,
            headers={"Content-Type": mediatypes.OCI_INDEX},
        )
        listed = await client.get(f"/v2/{path}/referrers/{digest_of(child)}")
        none = await client.get(
            f"/v2/{path}/referrers/{digest_of(child)}", params={"artifactType": "text/none"}
        )
    assert put.headers["oci-subject"] == digest_of(child)
    assert listed.json()["manifests"] == [
        {
            "mediaType": mediatypes.OCI_INDEX,
            "digest": digest_of(index),
            "size": len(index),
            "artifactType": "application/vnd.example.bundle",
        }
    ]
    assert none.json()["manifests"] == []
    assert none.headers["oci-filters-applied"] == "artifactType"
