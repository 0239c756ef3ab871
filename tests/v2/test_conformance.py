"""Every check of the OCI distribution-spec v1.1 conformance suite, reproduced in Python.

The public suite (``opencontainers/distribution-spec``, ``conformance/``, Go) runs four
workflows against one namespace: Pull, Push, Content Discovery, Content Management, in
that order, each with a setup and a teardown. This module rebuilds the same artifacts
(five configs, five manifests, a layer, chunked and streamed blobs, the referrers
artifacts) with its own code and makes the same requests, accepting exactly the statuses
the suite accepts. ``docs/registry-api.md`` ("Conformance") maps each check to the test
here.

Addressing as a conformance run against crossdock must configure it: path style,
``OCI_NAMESPACE=111111111111/conformance/<x>`` and
``OCI_CROSSMOUNT_NAMESPACE=111111111111/conformance/<x>-mount``, both created first (ECR
creates no repository on push). ``OCI_DELETE_MANIFEST_BEFORE_BLOBS`` is exercised both
ways; ``OCI_AUTOMATIC_CROSSMOUNT`` only matters when a mount answers 201.
"""

from __future__ import annotations

import base64
import importlib.util
import itertools
import json
import os
import sys
from collections.abc import Collection, Generator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from v2_world import OWNER_KEY, V2World, build_v2_world, digest_of

from crossdock.oci import mediatypes
from crossdock.storage.registry_store import RepositorySettings

pytestmark = pytest.mark.anyio

OK_2XX = frozenset(range(200, 300))
NOT_ALLOWED = 405
SPEC_CODES = frozenset(
    {
        "BLOB_UNKNOWN",
        "BLOB_UPLOAD_INVALID",
        "BLOB_UPLOAD_UNKNOWN",
        "DIGEST_INVALID",
        "MANIFEST_BLOB_UNKNOWN",
        "MANIFEST_INVALID",
        "MANIFEST_UNKNOWN",
        "MANIFEST_UNVERIFIED",
        "NAME_INVALID",
        "NAME_UNKNOWN",
        "SIZE_INVALID",
        "TAG_INVALID",
        "UNAUTHORIZED",
        "DENIED",
        "UNSUPPORTED",
    }
)
ARTIFACT_A = "application/vnd.nhl.peanut.butter.bagel"
ARTIFACT_B = "application/vnd.nba.strawberry.jam.croissant"
ARTIFACT_INDEX = "application/vnd.food.stand"
ANNOTATION = "org.opencontainers.conformance.test"
EMPTY_JSON_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
TEST_TAG = "tagtest0"
EMPTY_LAYER_TAG = "emptylayer"
NONEXISTENT_MANIFEST = ".INVALID_MANIFEST_NAME"
_namespaces = itertools.count(1)


# --- the suite's artifacts ------------------------------------------------------------------


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, indent="\t").encode()


def _descriptor(media_type: str, content: bytes, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": digest_of(content), "size": len(content), **extra}


@dataclass(frozen=True)
class Artifacts:
    """What the suite builds at start-up: one config and one manifest per workflow, a
    layer, the streamed/monolithic blob A, the chunked blob B and the referrers set."""

    configs: list[bytes]
    manifests: list[bytes]
    layer: bytes
    empty_layer_manifest: bytes
    blob_a: bytes
    blob_b: bytes
    ref_blob_a: bytes
    ref_blob_b: bytes
    empty_json: bytes
    refs: dict[str, bytes]
    annotations: dict[str, str]

    @property
    def chunk1(self) -> bytes:
        """The first chunk of B: half the blob plus one byte, as the suite splits it."""
        return self.blob_b[: len(self.blob_b) // 2 + 1]

    @property
    def chunk2(self) -> bytes:
        """The rest of B."""
        return self.blob_b[len(self.chunk1) :]


def _config(author: str) -> bytes:
    return _json(
        {
            "author": author,
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": []},
        }
    )


def _image(config: bytes, layers: list[dict[str, Any]], **extra: Any) -> bytes:
    config_descriptor = _descriptor(
        mediatypes.OCI_CONFIG,
        config,
        data=base64.b64encode(config).decode(),
        newUnspecifiedField=base64.b64encode(b"hello world").decode(),
    )
    return _json({"schemaVersion": 2, **extra, "config": config_descriptor, "layers": layers})


def _referrer(
    subject: bytes, config: dict[str, Any], layers: list[dict[str, Any]], **extra: Any
) -> bytes:
    body = {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_MANIFEST,
        **extra,
        "config": config,
        "layers": layers,
        "subject": _descriptor(mediatypes.OCI_MANIFEST, subject),
    }
    return _json(body)


def build_artifacts() -> Artifacts:
    """Fresh artifacts: random config authors and blobs, so runs never share digests."""
    configs = [_config(base64.b32encode(os.urandom(10)).decode()) for _ in range(5)]
    layer = b"\x1f\x8b" + os.urandom(100)  # stands in for the suite's small tar.gz
    layer_descriptor = _descriptor(mediatypes.OCI_LAYER, layer)
    manifests = [
        _image(config, [layer_descriptor], mediaType=mediatypes.OCI_MANIFEST) for config in configs
    ]
    empty_layer_manifest = _image(configs[1], [])  # no mediaType member, no layers
    empty_json = b"{}"
    empty = _descriptor(mediatypes.OCI_EMPTY, empty_json)
    ref_a = b"NHL Peanut Butter on my NHL bagel"
    ref_b = b"NBA Strawberry Jam on my NBA croissant"
    subject = manifests[4]
    refs: dict[str, bytes] = {}
    annotations: dict[str, str] = {}

    def add(name: str, body: bytes, note: str | None) -> None:
        refs[name] = body
        if note is not None:
            annotations[digest_of(body)] = note

    for name, blob, artifact, note in (
        ("a_config", ref_a, ARTIFACT_A, "test config a"),
        ("b_config", ref_b, ARTIFACT_B, "test config b"),
    ):
        body = _referrer(
            subject, _descriptor(artifact, blob), [empty], annotations={ANNOTATION: note}
        )
        add(name, body, note)
    for name, blob, artifact, note in (
        ("a_layer", ref_a, ARTIFACT_A, "test layer a"),
        ("b_layer", ref_b, ARTIFACT_B, "test layer b"),
    ):
        body = _referrer(
            subject,
            empty,
            [_descriptor(artifact, blob)],
            artifactType=artifact,
            annotations={ANNOTATION: note},
        )
        add(name, body, note)
    add(
        "c_layer",
        _referrer(manifests[3], empty, [_descriptor(ARTIFACT_B, ref_b)], artifactType=ARTIFACT_B),
        None,
    )
    index = _json(
        {
            "schemaVersion": 2,
            "mediaType": mediatypes.OCI_INDEX,
            "artifactType": ARTIFACT_INDEX,
            "manifests": [
                _descriptor(mediatypes.OCI_MANIFEST, refs["a_config"]),
                _descriptor(mediatypes.OCI_MANIFEST, refs["a_layer"]),
            ],
            "subject": _descriptor(mediatypes.OCI_MANIFEST, subject),
            "annotations": {ANNOTATION: "test index"},
        }
    )
    add("index", index, "test index")
    return Artifacts(
        configs=configs,
        manifests=manifests,
        layer=layer,
        empty_layer_manifest=empty_layer_manifest,
        blob_a=os.urandom(42),
        blob_b=os.urandom(42),
        ref_blob_a=ref_a,
        ref_blob_b=ref_b,
        empty_json=empty_json,
        refs=refs,
        annotations=annotations,
    )


# --- one run of the suite -------------------------------------------------------------------


@dataclass
class Run:
    """One conformance run: the client, the two namespaces, the switches, and state the
    suite carries from one check to the next."""

    client: httpx.AsyncClient
    namespace: str
    crossmount: str
    art: Artifacts
    delete_manifest_before_blobs: bool = True
    automatic_crossmount: bool | None = None
    """``OCI_AUTOMATIC_CROSSMOUNT``: None when unset (those two checks are skipped)."""
    checks: list[str] = field(default_factory=list)

    def url(self, kind: str, target: str = "", namespace: str | None = None) -> str:
        return f"/v2/{namespace or self.namespace}/{kind}/{target}"

    def expect(self, check: str, response: httpx.Response, statuses: Collection[int]) -> None:
        """Assert the suite's accepted statuses for ``check``."""
        self.checks.append(check)
        assert response.status_code in statuses, (
            f"{check}: {response.request.method} {response.request.url} answered "
            f"{response.status_code} {response.text[:300]}"
        )

    async def upload(self, check: str, blob: bytes) -> None:
        """POST a session, then PUT the whole blob with ``?digest=`` (the suite's setup)."""
        start = await self.client.post(self.url("blobs", "uploads/"))
        self.expect(f"{check} (POST)", start, {202})
        done = await self.client.put(
            start.headers["location"],
            params={"digest": digest_of(blob)},
            content=blob,
            headers={"Content-Type": "application/octet-stream"},
        )
        self.expect(check, done, OK_2XX)

    async def put_manifest(
        self, check: str, reference: str, body: bytes, media_type: str = mediatypes.OCI_MANIFEST
    ) -> httpx.Response:
        response = await self.client.put(
            self.url("manifests", reference), content=body, headers={"Content-Type": media_type}
        )
        self.expect(check, response, OK_2XX)
        return response

    async def delete(self, check: str, kind: str, target: str, statuses: Collection[int]) -> int:
        response = await self.client.delete(self.url(kind, target))
        self.expect(check, response, statuses)
        return response.status_code


# --- Pull -----------------------------------------------------------------------------------


async def pull(run: Run) -> None:
    """01 Pull: setup, blob and manifest GET/HEAD, the error body, teardown."""
    art, client = run.art, run.client
    await run.upload("Pull/Setup: populate registry with test blob (config 0)", art.configs[0])
    await run.upload("Pull/Setup: populate registry with test blob (config 1)", art.configs[1])
    await run.upload("Pull/Setup: populate registry with test layer", art.layer)
    await run.put_manifest(
        "Pull/Setup: populate registry with test manifest", TEST_TAG, art.manifests[0]
    )
    await run.put_manifest(
        "Pull/Setup: populate registry with test manifest (by digest)",
        digest_of(art.manifests[1]),
        art.manifests[1],
    )
    dummy = digest_of(b"hello world")
    config0 = digest_of(art.configs[0])

    response = await client.head(run.url("blobs", dummy))
    run.expect("Pull blobs: HEAD request to nonexistent blob should result in 404", response, {404})
    response = await client.head(run.url("blobs", config0))
    run.expect("Pull blobs: HEAD request to existing blob should yield 200", response, {200})
    assert response.headers["docker-content-digest"] == config0
    response = await client.get(run.url("blobs", dummy))
    run.expect("Pull blobs: GET nonexistent blob should result in 404", response, {404})
    response = await client.get(run.url("blobs", config0))
    run.expect("Pull blobs: GET request to existing blob URL should yield 200", response, {200})
    assert response.content == art.configs[0]

    accept = {"Accept": mediatypes.OCI_MANIFEST}
    for method in ("HEAD", "GET"):
        response = await client.request(
            method, run.url("manifests", NONEXISTENT_MANIFEST), headers=accept
        )
        run.expect(
            f"Pull manifests: {method} nonexistent manifest should return 404", response, {404}
        )
        for number in (0, 1):
            digest = digest_of(art.manifests[number])
            response = await client.request(method, run.url("manifests", digest), headers=accept)
            run.expect(
                f"Pull manifests: {method} request to manifest[{number}] path (digest) "
                "should yield 200",
                response,
                {200},
            )
            assert response.headers["docker-content-digest"] == digest
        response = await client.request(method, run.url("manifests", TEST_TAG), headers=accept)
        run.expect(
            f"Pull manifests: {method} request to manifest path (tag) should yield 200",
            response,
            {200},
        )
        assert response.headers["docker-content-digest"] == digest_of(art.manifests[0])
        if method == "GET":
            assert response.content == art.manifests[0]

    response = await client.get(
        run.url("manifests", "sha256:totallywrong"),
        headers={"Content-Type": mediatypes.OCI_MANIFEST},
    )
    run.expect(
        "Error codes: 400 response body should contain OCI-conforming JSON message",
        response,
        {400, 404},
    )
    if response.status_code == 400:
        assert response.json()["errors"][0]["code"] in SPEC_CODES

    manifests_gone = {*OK_2XX, NOT_ALLOWED}
    blobs_gone = {*OK_2XX, 404, NOT_ALLOWED}

    async def delete_manifests() -> None:
        for number in (0, 1):
            await run.delete(
                f"Pull/Teardown: delete manifest[{number}] created in setup",
                "manifests",
                digest_of(art.manifests[number]),
                manifests_gone,
            )

    if run.delete_manifest_before_blobs:
        await delete_manifests()
    for name, blob in (
        ("config[0]", art.configs[0]),
        ("config[1]", art.configs[1]),
        ("layer", art.layer),
    ):
        await run.delete(
            f"Pull/Teardown: delete {name} blob created in setup",
            "blobs",
            digest_of(blob),
            blobs_gone,
        )
    if not run.delete_manifest_before_blobs:
        await delete_manifests()


# --- Push -----------------------------------------------------------------------------------


async def push(run: Run) -> None:
    """02 Push: streamed, monolithic and chunked uploads, cross-mount, manifest upload."""
    art, client = run.art, run.client
    uploads = run.url("blobs", "uploads/")
    octets = {"Content-Type": "application/octet-stream"}

    # Blob Upload Streamed
    start = await client.post(uploads)
    assert start.headers.get("location"), "Streamed: the POST gives a Location"
    patched = await client.patch(start.headers["location"], content=art.blob_a, headers=octets)
    run.expect("Streamed: PATCH request with blob in body should yield 202", patched, {202})
    done = await client.put(
        patched.headers["location"], params={"digest": digest_of(art.blob_a)}, headers=octets
    )
    run.expect("Streamed: PUT request to session URL with digest should yield 201", done, {201})
    assert done.headers.get("location")

    # Blob Upload Monolithic
    config1 = digest_of(art.configs[1])
    response = await client.get(run.url("blobs", digest_of(b"hello world")))
    run.expect("Monolithic: GET nonexistent blob should result in 404", response, {404})
    posted = await client.post(
        uploads, params={"digest": config1}, content=art.configs[1], headers=octets
    )
    run.expect(
        "Monolithic: POST request with digest and blob should yield a 201 or 202",
        posted,
        {201, 202},
    )
    assert posted.headers.get("location")
    response = await client.get(run.url("blobs", config1))
    wanted = 404 if posted.status_code == 202 else 200
    run.expect(
        "Monolithic: GET request to blob URL from prior request should yield 200 or 404",
        response,
        {wanted},
    )
    session = await client.post(uploads)
    run.expect("Monolithic: POST request should yield a session ID", session, {202})
    done = await client.put(
        session.headers["location"],
        params={"digest": config1},
        content=art.configs[1],
        headers=octets,
    )
    run.expect("Monolithic: PUT upload of a blob should yield a 201 Response", done, {201})
    assert done.headers.get("location")
    response = await client.get(run.url("blobs", config1))
    run.expect(
        "Monolithic: GET request to existing blob should yield 200 response", response, {200}
    )
    session = await client.post(uploads)
    done = await client.put(
        session.headers["location"],
        params={"digest": digest_of(art.layer)},
        content=art.layer,
        headers=octets,
    )
    run.expect("Monolithic: PUT upload of a layer blob should yield a 201 Response", done, {201})
    assert done.headers.get("location")
    response = await client.get(run.url("blobs", digest_of(art.layer)))
    run.expect(
        "Monolithic: GET request to existing layer should yield 200 response", response, {200}
    )

    # Blob Upload Chunked
    range1 = f"0-{len(art.chunk1) - 1}"
    range2 = f"{len(art.chunk1)}-{len(art.blob_b) - 1}"
    session = await client.post(uploads, headers={"Content-Length": "0"})
    assert session.headers.get("location")
    assert "oci-chunk-min-length" not in session.headers  # no minimum: the suite's split stands
    response = await client.patch(
        session.headers["location"], content=art.chunk2, headers={**octets, "Content-Range": range2}
    )
    run.expect("Chunked: out-of-order blob upload should return 416", response, {416})
    assert response.headers["range"] == "0-0"  # nothing received yet
    assert response.headers["location"] == session.headers["location"]
    session = await client.post(uploads, headers={"Content-Length": "0"})
    first = await client.patch(
        session.headers["location"], content=art.chunk1, headers={**octets, "Content-Range": range1}
    )
    run.expect("Chunked: PATCH request with first chunk should return 202", first, {202})
    assert first.headers["range"] == range1
    retried = await client.patch(
        session.headers["location"], content=art.chunk1, headers={**octets, "Content-Range": range1}
    )
    run.expect("Chunked: retry previous blob chunk should return 416", retried, {416})
    assert retried.headers["range"] == range1
    status = await client.get(session.headers["location"])
    run.expect(
        "Chunked: GET on stale blob upload should return 204 with a range and location",
        status,
        {204},
    )
    assert status.headers.get("location")
    assert status.headers["range"] == range1
    second = await client.patch(
        status.headers["location"], content=art.chunk2, headers={**octets, "Content-Range": range2}
    )
    run.expect("Chunked: PATCH request with second chunk should return 202", second, {202})
    assert second.headers.get("location")
    done = await client.put(
        second.headers["location"],
        params={"digest": digest_of(art.blob_b)},
        headers={**octets, "Content-Length": "0"},
    )
    run.expect("Chunked: PUT request with digest should return 201", done, {201})
    assert done.headers.get("location")

    # Cross-Repository Blob Mount
    cross_uploads = run.url("blobs", "uploads/", run.crossmount)
    response = await client.post(cross_uploads, params={"mount": digest_of(b"hello world")})
    run.expect(
        "Mount: cross-mounting of a blob without the from argument should yield session id",
        response,
        {202},
    )
    assert response.headers.get("location")
    mounted = await client.post(
        cross_uploads, params={"mount": digest_of(art.blob_a), "from": run.namespace}
    )
    run.expect(
        "Mount: POST request to mount another repository's blob should return 201 or 202",
        mounted,
        {201, 202},
    )
    if mounted.status_code == 201:
        location = mounted.headers["location"]
        assert location == f"/v2/{run.crossmount}/blobs/{digest_of(art.blob_a)}"
        response = await client.get(location)
        run.expect(
            "Mount: GET request to test digest within cross-mount namespace should return 200",
            response,
            {200},
        )
        if run.automatic_crossmount is not None:
            response = await client.post(cross_uploads, params={"mount": digest_of(art.blob_a)})
            wanted = 201 if run.automatic_crossmount else 202
            run.expect(
                "Mount: cross-mounting without from (automatic content discovery)",
                response,
                {wanted},
            )
    else:
        assert mounted.headers["location"].startswith(f"/v2/{run.crossmount}/blobs/uploads/"), (
            "Mount: cross-mounting of nonexistent blob should yield session id"
        )

    # Manifest Upload
    response = await client.get(run.url("manifests", NONEXISTENT_MANIFEST))
    run.expect("Manifest upload: GET nonexistent manifest should return 404", response, {404})
    for number in range(4):
        response = await run.put_manifest(
            "Manifest upload: PUT should accept a manifest upload",
            f"test{number}",
            art.manifests[1],
        )
        assert response.status_code == 201
        assert response.headers.get("location")
    response = await run.put_manifest(
        "Manifest upload: registry should accept a manifest upload with no layers",
        EMPTY_LAYER_TAG,
        art.empty_layer_manifest,
    )
    assert response.status_code == 201  # crossdock accepts it (the suite would only warn)
    assert response.headers.get("location")
    response = await client.get(
        run.url("manifests", digest_of(art.manifests[1])),
        headers={"Accept": mediatypes.OCI_MANIFEST},
    )
    run.expect(
        "Manifest upload: GET request to manifest URL (digest) should yield 200", response, {200}
    )

    manifests_gone = {*OK_2XX, NOT_ALLOWED}
    blobs_gone = {*OK_2XX, 404, NOT_ALLOWED}

    async def delete_manifests() -> None:
        check = "Push/Teardown: delete manifest created in tests"
        await run.delete(check, "manifests", digest_of(art.manifests[1]), manifests_gone)
        await run.delete(check, "manifests", digest_of(art.empty_layer_manifest), manifests_gone)

    if run.delete_manifest_before_blobs:
        await delete_manifests()
    await run.delete(
        "Push/Teardown: delete config blob created in tests", "blobs", config1, blobs_gone
    )
    await run.delete(
        "Push/Teardown: delete layer blob created in setup",
        "blobs",
        digest_of(art.layer),
        blobs_gone,
    )
    if not run.delete_manifest_before_blobs:
        await delete_manifests()


# --- Content Discovery ----------------------------------------------------------------------


async def discovery(run: Run) -> None:
    """03 Content Discovery: tag listing with ``n``/``last`` and the referrers API."""
    art, client = run.art, run.client
    refs = art.refs
    await run.upload("Discovery/Setup: populate registry with test blob", art.configs[2])
    await run.upload("Discovery/Setup: populate registry with test layer", art.layer)
    for number in range(4):
        await run.put_manifest(
            "Discovery/Setup: populate registry with test tags", f"test{number}", art.manifests[2]
        )
    subject4, subject3 = digest_of(art.manifests[4]), digest_of(art.manifests[3])

    setup = "Discovery/Setup: references setup"
    assert digest_of(art.empty_json) == EMPTY_JSON_DIGEST
    await run.upload(setup, art.empty_json)
    await run.upload(setup, art.ref_blob_a)
    for name in ("a_config", "a_layer"):
        response = await run.put_manifest(setup, digest_of(refs[name]), refs[name])
        assert response.headers["oci-subject"] == subject4
    response = await run.put_manifest(
        setup, digest_of(refs["index"]), refs["index"], mediatypes.OCI_INDEX
    )
    assert response.headers["oci-subject"] == subject4
    await run.upload(setup, art.configs[4])
    await run.upload(setup, art.layer)
    await run.put_manifest(setup, TEST_TAG, art.manifests[4])
    await run.upload(setup, art.ref_blob_b)
    for name in ("b_config", "b_layer"):
        response = await run.put_manifest(setup, digest_of(refs[name]), refs[name])
        assert response.headers["oci-subject"] == subject4
    response = await run.put_manifest(setup, digest_of(refs["c_layer"]), refs["c_layer"])
    assert response.headers["oci-subject"] == subject3

    # listing tags
    response = await client.get(run.url("tags", "list"))
    run.expect("Tags: GET request to list tags should yield 200", response, {200})
    tags = response.json()["tags"]
    assert tags == sorted(tags)
    assert {"test0", "test1", "test2", "test3", TEST_TAG} <= set(tags)
    half = len(tags) // 2
    response = await client.get(run.url("tags", "list"), params={"n": str(half)})
    run.expect(
        "Tags: GET number of tags should be limitable by `n` query parameter", response, {200}
    )
    first_page = response.json()["tags"]
    assert first_page == tags[:half]
    response = await client.get(
        run.url("tags", "list"), params={"n": str(half), "last": first_page[-1]}
    )
    run.expect("Tags: GET start of tag is set by `last` query parameter", response, {200})
    assert response.json()["tags"] == tags[half : 2 * half]

    # listing referrers
    response = await client.get(run.url("referrers", digest_of(b"hello world")))
    run.expect(
        "Referrers: GET request to nonexistent blob should result in empty 200 response",
        response,
        {200},
    )
    assert response.headers["content-type"] == mediatypes.OCI_INDEX
    assert response.json()["manifests"] == []
    response = await client.get(run.url("referrers", subject4))
    run.expect("Referrers: GET request to existing blob should yield 200", response, {200})
    assert response.headers["content-type"] == mediatypes.OCI_INDEX
    found = response.json()["manifests"]
    assert len(found) == 5
    assert len({entry["digest"] for entry in found}) == 5
    for entry in found:
        assert entry["annotations"] == {ANNOTATION: art.annotations[entry["digest"]]}
    response = await client.get(run.url("referrers", subject4), params={"artifactType": ARTIFACT_A})
    run.expect(
        "Referrers: GET request to existing blob with filter should yield 200", response, {200}
    )
    assert response.headers["content-type"] == mediatypes.OCI_INDEX
    assert response.headers["oci-filters-applied"] == "artifactType"
    found = response.json()["manifests"]
    assert {entry["digest"] for entry in found} == {
        digest_of(refs["a_config"]),
        digest_of(refs["a_layer"]),
    }
    for entry in found:
        assert entry["artifactType"] == ARTIFACT_A
        assert entry["annotations"] == {ANNOTATION: art.annotations[entry["digest"]]}
    response = await client.get(run.url("referrers", subject3))
    run.expect("Referrers: GET request to missing manifest should yield 200", response, {200})
    assert response.headers["content-type"] == mediatypes.OCI_INDEX
    assert [entry["digest"] for entry in response.json()["manifests"]] == [
        digest_of(refs["c_layer"])
    ]

    gone = {*OK_2XX, NOT_ALLOWED, 404}

    async def delete_manifests() -> None:
        references = [
            digest_of(refs["index"]),
            digest_of(art.manifests[2]),
            subject4,
            digest_of(refs["a_config"]),
            digest_of(refs["a_layer"]),
            TEST_TAG,  # the suite sends the tag where it means a digest
            digest_of(refs["b_config"]),
            digest_of(refs["b_layer"]),
            digest_of(refs["c_layer"]),
        ]
        for reference in references:
            await run.delete(
                "Discovery/Teardown: delete created manifest & associated tags",
                "manifests",
                reference,
                gone,
            )

    if run.delete_manifest_before_blobs:
        await delete_manifests()
    await run.delete(
        "Discovery/Teardown: delete config blob created in tests",
        "blobs",
        digest_of(art.configs[2]),
        {*OK_2XX, NOT_ALLOWED},
    )
    await run.delete(
        "Discovery/Teardown: delete layer blob created in setup",
        "blobs",
        digest_of(art.layer),
        {*OK_2XX, NOT_ALLOWED},
    )
    if not run.delete_manifest_before_blobs:
        await delete_manifests()

    check = "Discovery/Teardown: references teardown"
    referrer_manifests = [
        digest_of(refs["index"]),
        digest_of(refs["a_config"]),
        digest_of(refs["a_layer"]),
        subject4,
        digest_of(refs["b_config"]),
        digest_of(refs["b_layer"]),
    ]
    if run.delete_manifest_before_blobs:
        for reference in referrer_manifests:
            await run.delete(check, "manifests", reference, gone)
    for blob in (art.configs[4], art.ref_blob_a, art.ref_blob_b, art.empty_json):
        await run.delete(check, "blobs", digest_of(blob), gone)
    if not run.delete_manifest_before_blobs:
        for reference in referrer_manifests:
            await run.delete(check, "manifests", reference, gone)


# --- Content Management ---------------------------------------------------------------------


async def management(run: Run) -> None:
    """04 Content Management: delete by tag, by digest, then the blobs."""
    art, client = run.art, run.client
    config3 = digest_of(art.configs[3])
    await run.upload("Management/Setup: populate registry with test config blob", art.configs[3])
    await run.upload("Management/Setup: populate registry with test layer", art.layer)
    await run.put_manifest(
        "Management/Setup: populate registry with test tag", TEST_TAG, art.manifests[3]
    )
    response = await client.get(run.url("tags", "list"))
    run.expect(
        "Management/Setup: check how many tags there are before anything gets deleted",
        response,
        {200},
    )
    tags_before = len(response.json()["tags"])

    response = await client.delete(run.url("manifests", TEST_TAG))
    run.expect(
        "Manifest delete: DELETE request to manifest tag should return 202, unless tag "
        "deletion is disallowed (400/405)",
        response,
        {202},  # crossdock deletes tags (the suite also accepts 400 UNSUPPORTED or 405)
    )
    response = await client.delete(run.url("manifests", digest_of(art.manifests[3])))
    run.expect(
        "Manifest delete: DELETE request to manifest (digest) should yield 202 response "
        "unless already deleted",
        response,
        {202, 404},
    )
    response = await client.get(run.url("manifests", digest_of(art.manifests[3])))
    run.expect(
        "Manifest delete: GET request to deleted manifest URL should yield 404 response",
        response,
        {404},  # the suite also accepts 200 for a registry that refuses deletes
    )
    assert response.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
    response = await client.get(run.url("tags", "list"))
    run.expect(
        "Manifest delete: GET request to tags list should reflect manifest deletion",
        response,
        {200},
    )
    assert len(response.json()["tags"]) < tags_before

    check = "Blob delete: DELETE request to blob URL should yield 202 response"
    await run.delete(check, "blobs", config3, {202})  # no image references it any more
    layer_status = await run.delete(check, "blobs", digest_of(art.layer), {202, 404, NOT_ALLOWED})
    if layer_status != NOT_ALLOWED:
        response = await client.get(run.url("blobs", config3))
        run.expect(
            "Blob delete: GET request to deleted blob URL should yield 404 response",
            response,
            {404},
        )


# --- the tests ------------------------------------------------------------------------------


def _namespaces_for(world: V2World) -> tuple[str, str]:
    """A fresh ``<account>/conformance/<n>`` namespace and its cross-mount namespace."""
    actor = world.actor(OWNER_KEY)
    number = next(_namespaces)
    names = (f"conformance/ns{number}", f"conformance/ns{number}-mount")
    for name in names:
        world.server.ecr.repositories.create(actor, None, name, RepositorySettings())
    return (f"{actor.account_id}/{names[0]}", f"{actor.account_id}/{names[1]}")


def _run(world: V2World, client: httpx.AsyncClient, **switches: Any) -> Run:
    namespace, crossmount = _namespaces_for(world)
    return Run(client, namespace, crossmount, build_artifacts(), **switches)


@pytest.mark.parametrize(
    "delete_manifest_before_blobs", [True, False], ids=["manifests-first", "blobs-first"]
)
async def test_the_whole_suite_in_one_namespace(
    v2: V2World, delete_manifest_before_blobs: bool
) -> None:
    """All four workflows in the suite's order, sharing one namespace as a real run does
    (``OCI_DELETE_MANIFEST_BEFORE_BLOBS`` both ways)."""
    async with v2.client() as client:
        run = _run(v2, client, delete_manifest_before_blobs=delete_manifest_before_blobs)
        await pull(run)
        await push(run)
        await discovery(run)
        await management(run)
    assert len(run.checks) > 100


@pytest.mark.parametrize(
    "workflow", [pull, push, discovery, management], ids=lambda w: str(w.__name__)
)
async def test_each_workflow_alone(v2: V2World, workflow: Any) -> None:
    """Each workflow enabled on its own (``OCI_TEST_PULL=1`` etc.) in a fresh namespace."""
    async with v2.client() as client:
        await workflow(_run(v2, client))


async def test_blob_deletes_wait_for_the_manifests(v2: V2World) -> None:
    """Blobs-first teardown: while a manifest references a blob, DELETE is 405 UNSUPPORTED
    (which the suite accepts) and the blob is still served."""
    async with v2.client() as client:
        run = _run(v2, client, delete_manifest_before_blobs=False)
        await pull(run)
        config0 = digest_of(run.art.configs[0])
        still = await client.get(run.url("blobs", config0))
        again = await client.delete(run.url("blobs", config0))
    assert still.status_code == 200
    assert again.status_code == 202  # the manifests are gone now, so the blob may go


class ChallengeFirstAuth(httpx.Auth):
    """The suite's client (reggie): every request goes out without credentials; on a 401
    with a ``Basic`` challenge it is sent again with them."""

    requires_request_body = True

    def __init__(self, password: str) -> None:
        self._header = "Basic " + base64.b64encode(f"AWS:{password}".encode()).decode()
        self.challenges = 0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        response = yield request
        challenge = response.headers.get("www-authenticate", "")
        if response.status_code == 401 and challenge.lower().startswith("basic"):
            self.challenges += 1
            request.headers["Authorization"] = self._header
            yield request


def _serve_process() -> ModuleType:
    """``tests/e2e/serve_process.py`` (the e2e tests' launcher of ``crossdock serve``)."""
    loaded = sys.modules.get("serve_process")
    if loaded is not None:
        return loaded
    path = Path(__file__).resolve().parents[1] / "e2e" / "serve_process.py"
    spec = importlib.util.spec_from_file_location("serve_process", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["serve_process"] = module
    spec.loader.exec_module(module)
    return module


async def test_the_whole_suite_against_crossdock_serve(tmp_path: Path) -> None:
    """The four workflows over a real socket against a ``crossdock serve`` process, with
    the suite's auth flow (each request first unauthenticated, then answered with Basic)."""
    world = build_v2_world(tmp_path)
    namespace, crossmount = _namespaces_for(world)
    auth = ChallengeFirstAuth(world.password(OWNER_KEY))
    serve = _serve_process()
    running = serve.start_server(tmp_path / "data")
    try:
        async with httpx.AsyncClient(base_url=running.url, auth=auth, timeout=60) as client:
            run = Run(client, namespace, crossmount, build_artifacts())
            await pull(run)
            await push(run)
            await discovery(run)
            await management(run)
    finally:
        serve.stop_server(running)
    assert auth.challenges > 100  # every check met the 401 challenge first
