"""ImageStore conformance: images, tags and their moves, alone and under concurrent writers."""

from __future__ import annotations

from dataclasses import replace

import pytest
from metadata_backends import MetadataBackend, on_own_engines, run_concurrently
from registry_objects import digest, image, link_all, repository

from crossdock.storage.errors import BlobNotFoundError, ImageInUseError
from crossdock.storage.registry_store import DeletedImage, PutOutcome, TagRule

LAYERS = [digest(f"layer{i}") for i in range(3)]


def test_put_outcomes_and_lookups(metadata_backend: MetadataBackend) -> None:
    repo = repository(metadata_backend)
    link_all(metadata_backend, repo, LAYERS)
    images = metadata_backend.images()
    # Bytes that are not UTF-8 survive (LargeBinary), and so do microseconds (a double).
    first = image(digest("one"), blobs=LAYERS[:2], manifest=b'{"x":"\xff\x00\xfe"}')
    second = image(digest("two"), blobs=LAYERS[1:])
    assert images.put_image(repo, first, "v1", TagRule.MOVE, 1765432100.654321) is (
        PutOutcome.CREATED
    )
    assert images.put_image(repo, first, "v1", TagRule.MOVE, 3.0) is PutOutcome.UNCHANGED
    assert images.put_image(repo, first, None, TagRule.MOVE, 3.0) is PutOutcome.UNCHANGED
    assert images.put_image(repo, first, "latest", TagRule.MOVE, 4.0) is PutOutcome.TAGGED
    assert images.put_image(repo, second, "v1", TagRule.KEEP, 5.0) is PutOutcome.TAG_CONFLICT
    assert images.get_image(repo, digest("two")) is None  # the conflict wrote nothing
    assert images.put_image(repo, second, "v1", TagRule.MOVE, 6.0) is PutOutcome.CREATED

    stored = images.get_image(repo, digest("one"))
    assert stored is not None
    assert stored.manifest == b'{"x":"\xff\x00\xfe"}'
    assert stored.pushed_at == 1765432100.654321
    assert stored.media_type == first.media_type
    assert stored.size == first.size
    assert stored.tags == ("latest",)  # v1 moved away
    moved = images.resolve_tag(repo, "v1")
    assert moved is not None
    assert moved.digest == digest("two")
    assert moved.tags == ("v1",)
    assert images.resolve_tag(repo, "V1") is None  # tags are case-sensitive
    assert images.count_images(repo) == 2
    assert metadata_backend.links().blob_media_type(repo, LAYERS[0]) == first.blobs[0][1]


def test_tags_newest_first(metadata_backend: MetadataBackend) -> None:
    repo = repository(metadata_backend)
    images = metadata_backend.images()
    one = image(digest("one"))
    for when, tag in enumerate(["b", "a-1", "a_2", "c"]):
        images.put_image(repo, one, tag, TagRule.MOVE, 10.0 + when)
    images.put_image(repo, one, "z", TagRule.MOVE, 13.0)  # ties on time: by tag
    stored = images.get_image(repo, digest("one"))
    assert stored is not None
    assert stored.tags == ("c", "z", "a_2", "a-1", "b")
    tag = "t" * 128  # the longest OCI tag
    images.put_image(repo, one, tag, TagRule.MOVE, 20.0)
    resolved = images.resolve_tag(repo, tag)
    assert resolved is not None
    assert resolved.tags[0] == tag


def test_unlinked_blob_refuses_the_whole_image(metadata_backend: MetadataBackend) -> None:
    repo = repository(metadata_backend)
    link_all(metadata_backend, repo, LAYERS[:1])
    images = metadata_backend.images()
    with pytest.raises(BlobNotFoundError) as refused:
        images.put_image(repo, image(digest("x"), blobs=LAYERS[:2]), "v1", TagRule.MOVE, 1.0)
    assert refused.value.digest == LAYERS[1]
    assert images.get_image(repo, digest("x")) is None
    assert images.resolve_tag(repo, "v1") is None
    assert images.count_images(repo) == 0


def test_list_pages_in_push_order(metadata_backend: MetadataBackend) -> None:
    repo = repository(metadata_backend)
    other = repository(metadata_backend, "other")
    images = metadata_backend.images()
    pushed = [digest(f"img{i}") for i in range(7)]
    for i, name in enumerate(pushed):
        images.put_image(repo, image(name), f"t{i}", TagRule.MOVE, float(i))
        images.put_image(other, image(digest(f"other{i}")), None, TagRule.MOVE, float(i))
    seen: list[str] = []
    after = None
    while page := images.list_images(repo, after, 3):
        seen.extend(record.digest for record in page)
        after = page[-1].id
    assert seen == pushed
    assert [r.tags for r in images.list_images(repo, None, 2)] == [("t0",), ("t1",)]


def test_delete_tag_then_image(metadata_backend: MetadataBackend) -> None:
    repo = repository(metadata_backend)
    images = metadata_backend.images()
    images.put_image(repo, image(digest("one")), "a", TagRule.MOVE, 1.0)
    images.put_image(repo, image(digest("one")), "b", TagRule.MOVE, 2.0)
    assert images.delete_tag(repo, "a") == DeletedImage(digest("one"), ("a",), False)
    assert images.delete_tag(repo, "b") == DeletedImage(digest("one"), ("b",), True)
    assert images.get_image(repo, digest("one")) is None
    assert images.delete_tag(repo, "b") is None
    images.put_image(repo, image(digest("two")), "x", TagRule.MOVE, 3.0)
    images.put_image(repo, image(digest("two")), "y", TagRule.MOVE, 4.0)
    assert images.delete_image(repo, digest("two")) == DeletedImage(digest("two"), ("y", "x"), True)
    assert images.resolve_tag(repo, "x") is None
    assert images.delete_image(repo, digest("two")) is None


def test_index_children_and_referrers(metadata_backend: MetadataBackend) -> None:
    repo = repository(metadata_backend)
    images = metadata_backend.images()
    child = digest("child")
    images.put_image(repo, image(child), None, TagRule.MOVE, 1.0)
    images.put_image(repo, image(digest("index"), children=[child]), "multi", TagRule.MOVE, 2.0)
    with pytest.raises(ImageInUseError) as in_use:
        images.delete_image(repo, child)
    assert in_use.value.parents == (digest("index"),)
    for i in range(2):
        referrer = image(digest(f"sig{i}"), subject=child)
        images.put_image(repo, referrer, None, TagRule.MOVE, 3.0 + i)
    assert [r.digest for r in images.referrers(repo, child)] == [digest("sig0"), digest("sig1")]
    # Dropping the index's only tag removes the index; then the child can go.
    assert images.delete_tag(repo, "multi") == DeletedImage(digest("index"), ("multi",), True)
    assert images.delete_image(repo, child) == DeletedImage(child, (), True)


def test_concurrent_pushes_moving_one_tag(metadata_backend: MetadataBackend) -> None:
    """Writers on several connections push distinct images, all tagged ``latest``."""
    repo = repository(metadata_backend)
    link_all(metadata_backend, repo, LAYERS)
    writers = 8
    calls = on_own_engines(
        metadata_backend,
        writers,
        lambda e, i: metadata_backend.images(e).put_image(
            repo, image(digest(f"w{i}"), blobs=LAYERS), "latest", TagRule.MOVE, 100.0 + i
        ),
    )
    results = run_concurrently(calls)
    assert results == [PutOutcome.CREATED] * writers
    images = metadata_backend.images()
    assert images.count_images(repo) == writers
    latest = images.resolve_tag(repo, "latest")
    assert latest is not None
    assert latest.digest in {digest(f"w{i}") for i in range(writers)}
    tagged = [r for r in images.list_images(repo, None, 100) if r.tags]
    assert [r.digest for r in tagged] == [latest.digest]  # exactly one image holds the tag


def test_concurrent_pushes_of_one_image(metadata_backend: MetadataBackend) -> None:
    """The same manifest pushed by several clients at once is stored once."""
    repo = repository(metadata_backend)
    link_all(metadata_backend, repo, LAYERS)
    same = image(digest("same"), blobs=LAYERS)
    calls = on_own_engines(
        metadata_backend,
        6,
        lambda e, i: metadata_backend.images(e).put_image(repo, same, f"tag{i}", TagRule.MOVE, 1.0),
    )
    results = run_concurrently(calls)
    assert results.count(PutOutcome.CREATED) == 1, results
    assert results.count(PutOutcome.TAGGED) == 5, results
    stored = metadata_backend.images().get_image(repo, digest("same"))
    assert stored is not None
    assert sorted(stored.tags) == [f"tag{i}" for i in range(6)]
    assert metadata_backend.images().count_images(repo) == 1


def test_concurrent_immutable_tag_has_one_winner(metadata_backend: MetadataBackend) -> None:
    repo = repository(metadata_backend)
    calls = on_own_engines(
        metadata_backend,
        6,
        lambda e, i: metadata_backend.images(e).put_image(
            repo, image(digest(f"k{i}")), "release", TagRule.KEEP, 1.0
        ),
    )
    results = run_concurrently(calls)
    assert results.count(PutOutcome.CREATED) == 1, results
    assert results.count(PutOutcome.TAG_CONFLICT) == 5, results  # and they wrote nothing
    images = metadata_backend.images()
    winner = images.resolve_tag(repo, "release")
    assert winner is not None
    assert [r.digest for r in images.list_images(repo, None, 10)] == [winner.digest]


def test_long_media_types_are_kept_whole(metadata_backend: MetadataBackend) -> None:
    """Media types come from clients' manifests; no backend cuts or refuses a long one."""
    repo = repository(metadata_backend)
    layer = digest("layer")
    link_all(metadata_backend, repo, [layer])
    long_type = "application/vnd.example." + "x" * 300 + "+json"
    pushed = replace(
        image(digest("long"), blobs=[layer]),
        artifact_type=long_type,
        blobs=((layer, long_type),),
    )
    images = metadata_backend.images()
    assert images.put_image(repo, pushed, "v1", TagRule.MOVE, 1.0) is PutOutcome.CREATED
    stored = images.get_image(repo, digest("long"))
    assert stored is not None
    assert stored.artifact_type == long_type
    assert metadata_backend.links().blob_media_type(repo, layer) == long_type
