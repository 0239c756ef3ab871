"""Manifest parsing: types, descriptors, errors (and nothing but ManifestError escapes)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crossdock.oci import mediatypes
from crossdock.oci.digest import Digest
from crossdock.oci.errors import ManifestError
from crossdock.oci.manifest import MAX_MANIFEST_SIZE, parse_manifest
from crossdock.oci.mediatypes import ManifestKind

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def _desc(media_type: str, digest: str = D1, size: int = 10) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": digest, "size": size}


def _image(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_MANIFEST,
        "config": _desc(mediatypes.OCI_CONFIG, D1, 2),
        "layers": [_desc(mediatypes.OCI_LAYER, D2, 30)],
    }
    body.update(extra)
    return body


def _bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


def test_oci_image_manifest() -> None:
    data = _bytes(_image(annotations={"a": "b"}))
    manifest = parse_manifest(data)
    assert manifest.kind is ManifestKind.IMAGE
    assert manifest.media_type == mediatypes.OCI_MANIFEST
    assert manifest.digest == Digest.of(data)
    assert [str(b.digest) for b in manifest.blobs] == [D1, D2]
    assert manifest.effective_artifact_type == mediatypes.OCI_CONFIG
    assert manifest.annotations == (("a", "b"),)


def test_docker_manifest_and_list() -> None:
    docker = _image(mediaType=mediatypes.DOCKER_MANIFEST)
    assert parse_manifest(_bytes(docker)).media_type == mediatypes.DOCKER_MANIFEST
    listing = {
        "schemaVersion": 2,
        "mediaType": mediatypes.DOCKER_MANIFEST_LIST,
        "manifests": [{**_desc(mediatypes.DOCKER_MANIFEST), "platform": {"os": "linux"}}],
    }
    parsed = parse_manifest(_bytes(listing))
    assert parsed.kind is ManifestKind.INDEX
    assert parsed.manifests[0].platform == (("os", "linux"),)
    assert parsed.blobs == ()


def test_subject_and_artifact_type() -> None:
    body = _image(subject=_desc(mediatypes.OCI_MANIFEST, D2, 5), artifactType="application/x")
    parsed = parse_manifest(_bytes(body))
    assert parsed.subject is not None
    assert str(parsed.subject.digest) == D2
    assert parsed.effective_artifact_type == "application/x"


def test_type_from_outside_and_inferred() -> None:
    body = _image()
    del body["mediaType"]
    assert parse_manifest(_bytes(body), mediatypes.DOCKER_MANIFEST).media_type == (
        mediatypes.DOCKER_MANIFEST
    )
    inferred = parse_manifest(_bytes(body))
    assert inferred.media_type == mediatypes.OCI_MANIFEST
    assert not inferred.declares_media_type
    index = {"schemaVersion": 2, "manifests": []}
    assert parse_manifest(_bytes(index)).media_type == mediatypes.OCI_INDEX


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"not json", "MANIFEST_INVALID"),
        (b"\xff\xfe", "MANIFEST_INVALID"),
        (b"[]", "MANIFEST_INVALID"),
        (_bytes({"schemaVersion": 1, "name": "x"}), "UNSUPPORTED"),
        (_bytes(_image(mediaType=mediatypes.DOCKER_SCHEMA1_SIGNED)), "UNSUPPORTED"),
        (_bytes(_image(mediaType="application/x-unknown")), "UNSUPPORTED"),
        (_bytes(_image(schemaVersion=3)), "MANIFEST_INVALID"),
        (_bytes(_image(config=None)), "MANIFEST_INVALID"),
        (_bytes(_image(layers={})), "MANIFEST_INVALID"),
        (_bytes(_image(layers=[_desc("x", "sha256:bad")])), "MANIFEST_INVALID"),
        (_bytes(_image(layers=[_desc("x", D1, -1)])), "MANIFEST_INVALID"),
        (_bytes(_image(layers=[_desc("x", D1, True)])), "MANIFEST_INVALID"),
        (_bytes(_image(subject="x")), "MANIFEST_INVALID"),
        (_bytes({"schemaVersion": 2}), "MANIFEST_INVALID"),
        (_bytes(_image(annotations={"a": 1})), "MANIFEST_INVALID"),
        (_bytes(_image(annotations=[])), "MANIFEST_INVALID"),
        (_bytes(_image(artifactType="")), "MANIFEST_INVALID"),
        (_bytes(_image(layers=[{"digest": D1, "size": 1}])), "MANIFEST_INVALID"),
        (_bytes(_image(layers=[{"mediaType": "x", "digest": 5, "size": 1}])), "MANIFEST_INVALID"),
        (_bytes(_image(mediaType=5)), "MANIFEST_INVALID"),
        (b"{" * 100_000, "MANIFEST_INVALID"),
    ],
)
def test_invalid_manifests(data: bytes, code: str) -> None:
    with pytest.raises(ManifestError) as error:
        parse_manifest(data)
    assert error.value.code == code


def test_declared_type_must_agree() -> None:
    with pytest.raises(ManifestError):
        parse_manifest(_bytes(_image()), mediatypes.DOCKER_MANIFEST)


def test_size_limit() -> None:
    padding = "x" * (MAX_MANIFEST_SIZE + 1)
    with pytest.raises(ManifestError) as error:
        parse_manifest(_bytes(_image(annotations={"pad": padding})))
    assert error.value.code == "SIZE_INVALID"


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)
_keys = st.sampled_from(
    ["schemaVersion", "mediaType", "config", "layers", "manifests", "subject", "artifactType"]
)


@given(st.binary())
def test_arbitrary_bytes_raise_only_manifest_errors(data: bytes) -> None:
    with contextlib.suppress(ManifestError):
        parse_manifest(data)


@given(
    st.dictionaries(_keys, _json),
    st.one_of(st.none(), st.sampled_from(sorted(mediatypes.MANIFEST_KINDS))),
)
def test_arbitrary_json_raises_only_manifest_errors(
    body: dict[str, Any], declared: str | None
) -> None:
    with contextlib.suppress(ManifestError):
        parse_manifest(json.dumps(body).encode(), declared)


def test_mediatype_helpers() -> None:
    assert mediatypes.kind_of(mediatypes.OCI_INDEX + "; charset=utf-8") is ManifestKind.INDEX
    assert mediatypes.kind_of("text/plain") is None
    assert mediatypes.is_schema1(mediatypes.DOCKER_SCHEMA1)
    assert not mediatypes.is_schema1(mediatypes.OCI_MANIFEST)
