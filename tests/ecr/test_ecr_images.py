"""The image model at the service level."""

from __future__ import annotations

import pytest
from ecr_push import push
from ecr_world import World
from image_data import make_image, make_index

from crossdock.oci import mediatypes
from crossdock.service.ecr.errors import ImageNotFoundError, ImageTagAlreadyExistsError
from crossdock.service.ecr.images import FailureCode, ImageId, ManifestInvalidError, TagStatus
from crossdock.service.ecr.repositories import tag_is_immutable
from crossdock.storage.registry_store import PutOutcome, RepositorySettings

A = "111111111111"


def _repo(world: World, settings: RepositorySettings | None = None) -> None:
    actor = world.actor(world.account(A))
    world.services.repositories.create(actor, None, "app", settings or RepositorySettings())


@pytest.mark.parametrize(
    ("mutability", "filters", "tag", "immutable"),
    [
        ("MUTABLE", (), "v1", False),
        ("IMMUTABLE", (), "latest", True),
        ("IMMUTABLE_WITH_EXCLUSION", ("latest", "dev-*"), "dev-3", False),
        ("IMMUTABLE_WITH_EXCLUSION", ("latest",), "v1", True),
        ("MUTABLE_WITH_EXCLUSION", ("release-*",), "release-1", True),
        ("MUTABLE_WITH_EXCLUSION", ("release-*",), "main", False),
    ],
)
def test_tag_mutability_rules(
    mutability: str, filters: tuple[str, ...], tag: str, immutable: bool
) -> None:
    settings = RepositorySettings(tag_mutability=mutability, mutability_filters=filters)
    assert tag_is_immutable(settings, tag) is immutable


def test_docker_image_index_and_sizes(world: World) -> None:
    _repo(world)
    root = world.account(A)
    ref = world.ref(A, "app")
    docker = make_image("d", media_type=mediatypes.DOCKER_MANIFEST, layers=2)
    pushed = push(world, root, ref, docker, "docker")
    assert pushed.outcome is PutOutcome.CREATED
    assert pushed.image.size == sum(len(d) for d in docker.blobs.values() if d.startswith(b"layer"))
    oci = make_image("o")
    push(world, root, ref, oci)
    index = make_index(docker, oci)
    result = world.services.images.put_image(world.actor(root), ref, index.manifest, None, "multi")
    assert result.image.media_type == mediatypes.OCI_INDEX
    assert result.image.size == max(pushed.image.size, 2 * 0 + result.image.size)
    deleted, failures = world.services.images.batch_delete_image(
        world.actor(root), ref, [ImageId(digest=docker.digest)]
    )
    assert deleted == []
    assert failures[0].code is FailureCode.REFERENCED_BY_LIST


def test_immutable_push_changes_nothing(world: World) -> None:
    _repo(world, RepositorySettings(tag_mutability="IMMUTABLE"))
    root = world.account(A)
    ref = world.ref(A, "app")
    push(world, root, ref, make_image("1"), "v1")
    second = make_image("2")
    with pytest.raises(ImageTagAlreadyExistsError):
        push(world, root, ref, second, "v1")
    with pytest.raises(ImageNotFoundError):
        world.services.images.get_image(world.actor(root), ref, ImageId(digest=second.digest))


def test_batch_get_failures(world: World) -> None:
    _repo(world)
    root = world.account(A)
    ref = world.ref(A, "app")
    image = make_image("x")
    push(world, root, ref, image, "v1")
    found, failures = world.services.images.batch_get_image(
        world.actor(root),
        ref,
        [
            ImageId(digest=image.digest),
            ImageId(),
            ImageId(digest="nope"),
            ImageId(digest=image.digest, tag="v1"),
            ImageId(digest="sha256:" + "0" * 64, tag="v1"),
            ImageId(tag="missing"),
        ],
    )
    assert len(found) == 2
    assert [f.code for f in failures] == [
        FailureCode.MISSING_DIGEST_AND_TAG,
        FailureCode.INVALID_DIGEST,
        FailureCode.TAG_DOES_NOT_MATCH,
        FailureCode.NOT_FOUND,
    ]


def test_invalid_and_schema1_manifests(world: World) -> None:
    _repo(world)
    root = world.account(A)
    ref = world.ref(A, "app")
    with pytest.raises(ManifestInvalidError) as invalid:
        world.services.images.put_image(world.actor(root), ref, b"{", None, None)
    assert invalid.value.oci_code == "MANIFEST_INVALID"
    schema1 = b'{"schemaVersion": 1, "name": "x", "tag": "y", "fsLayers": []}'
    with pytest.raises(ManifestInvalidError) as unsupported:
        world.services.images.put_image(world.actor(root), ref, schema1, None, None)
    assert unsupported.value.oci_code == "UNSUPPORTED"


def test_describe_filters_and_paging(world: World) -> None:
    _repo(world)
    root = world.account(A)
    ref = world.ref(A, "app")
    for index in range(3):
        push(world, root, ref, make_image(str(index)), f"t{index}" if index != 1 else None)
    actor = world.actor(root)
    untagged = world.services.images.describe_images(
        actor, ref, None, TagStatus.UNTAGGED, None, None
    )
    assert len(untagged.images) == 1
    first = world.services.images.describe_images(actor, ref, None, TagStatus.ANY, None, 2)
    assert first.next_token is not None
    rest = world.services.images.describe_images(
        actor, ref, None, TagStatus.ANY, first.next_token, 2
    )
    assert len(first.images) + len(rest.images) == 3
    assert rest.next_token is None
