"""BlobLinkStore conformance: which blobs each repository holds, under concurrent writers."""

from __future__ import annotations

from metadata_backends import MetadataBackend, on_own_engines, run_concurrently
from registry_objects import LAYER_TYPE, digest, image, link_all, repository

from crossdock.storage.registry_store import TagRule

BIG = 5 * 1024**3 + 7  # past 32 bits: sizes are 64-bit on every backend


def test_link_once_per_repository(metadata_backend: MetadataBackend) -> None:
    one, two = repository(metadata_backend, "one"), repository(metadata_backend, "two")
    links = metadata_backend.links()
    blob = digest("blob")
    assert links.link_blob(one, blob, BIG, 1.0) is True
    assert links.link_blob(one, blob, BIG, 2.0) is False
    assert links.link_blob(two, blob, BIG, 3.0) is True
    assert links.linked_blobs(one, [blob, digest("absent"), blob]) == {blob: BIG}
    assert links.blob_size(blob) == BIG
    assert links.blob_size(digest("absent")) is None
    assert links.blob_media_type(one, blob) is None  # no image references it yet
    assert links.link_blob(10_000_000, digest("x"), 1, 1.0) is False  # no such repository


def test_concurrent_links_of_one_blob(metadata_backend: MetadataBackend) -> None:
    """Parallel uploads of one layer: into one repository it links once; into many, each."""
    same = repository(metadata_backend, "same")
    many = [repository(metadata_backend, f"r{i}") for i in range(6)]
    blob = digest("shared")
    calls = on_own_engines(
        metadata_backend, 6, lambda e, _: metadata_backend.links(e).link_blob(same, blob, 10, 1.0)
    )
    assert sorted(run_concurrently(calls), key=str) == [False] * 5 + [True]
    other = digest("other")
    calls = on_own_engines(
        metadata_backend,
        len(many),
        lambda e, i: metadata_backend.links(e).link_blob(many[i], other, 10, 1.0),
    )
    assert run_concurrently(calls) == [True] * 6
    integrity = metadata_backend.integrity()
    assert integrity.blob_rows() == {blob: 10, other: 10}
    assert len(integrity.holders(other)) == 6


def test_unlink_respects_images(metadata_backend: MetadataBackend) -> None:
    repo = repository(metadata_backend)
    used, free = digest("used"), digest("free")
    link_all(metadata_backend, repo, [used, free])
    metadata_backend.images().put_image(
        repo, image(digest("img"), blobs=[used]), "v1", TagRule.MOVE, 1.0
    )
    links = metadata_backend.links()
    assert links.blob_media_type(repo, used) == LAYER_TYPE
    assert links.unlink_blob(repo, used) == (digest("img"),)
    assert links.linked_blobs(repo, [used]) == {used: 100}
    assert links.unlink_blob(repo, free) == ()
    assert links.unlink_blob(repo, free) is None
    assert links.orphan_blobs(10) == [free]
    assert links.forget_blob(used) is False  # still linked
    assert links.forget_blob(free) is True
    assert links.blob_size(free) is None
    assert links.orphan_blobs(10) == []
