"""The upload engine at the service level: resume after restart, rules, access."""

from __future__ import annotations

import pytest
from ecr_push import push, upload_blob
from ecr_world import World, build_world
from image_data import make_image

from crossdock.oci.digest import Digest
from crossdock.service.ecr.errors import (
    InvalidLayerPartError,
    LayerInaccessibleError,
    LayersNotFoundError,
    UploadNotFoundError,
)
from crossdock.service.ecr.layers import OCI_RULES, BlobAccess
from crossdock.storage.registry_store import RepositorySettings

A = "111111111111"


def _repo(world: World, name: str = "app") -> None:
    actor = world.actor(world.account(A))
    world.services.repositories.create(actor, None, name, RepositorySettings())


def test_upload_resumes_after_a_restart(world: World) -> None:
    _repo(world)
    actor = world.actor(world.account(A))
    ref = world.ref(A, "app")
    upload = world.services.layers.initiate(actor, ref)
    world.services.layers.upload_part(actor, ref, upload.upload_id, 0, [b"hello ", b"there "])
    restarted = build_world(world.root_dir)  # same database and blob directory
    layers = restarted.services.layers
    status = layers.status(actor, ref, upload.upload_id)
    assert status.size == 12
    with pytest.raises(InvalidLayerPartError) as error:
        layers.upload_part(actor, ref, upload.upload_id, 5, [b"x"])
    assert error.value.last_valid_byte_received == 11
    layers.upload_part(actor, ref, upload.upload_id, None, [b"world"])
    done = layers.complete(
        actor, ref, upload.upload_id, [str(Digest.of(b"hello there world"))], OCI_RULES
    )
    assert done.blob.size == 17
    assert not done.already_linked
    restarted.engine.dispose()


def test_oci_rules_allow_empty_blobs_and_relinking(world: World) -> None:
    _repo(world)
    actor = world.actor(world.account(A))
    ref = world.ref(A, "app")
    empty = world.services.layers.initiate(actor, ref)
    done = world.services.layers.complete(
        actor, ref, empty.upload_id, [str(Digest.of(b""))], OCI_RULES
    )
    assert done.blob.size == 0
    digest = upload_blob(world, world.account(A), ref, b"again")
    assert upload_blob(world, world.account(A), ref, b"again") == digest


def test_uploads_belong_to_their_repository(world: World) -> None:
    _repo(world)
    _repo(world, "other")
    actor = world.actor(world.account(A))
    upload = world.services.layers.initiate(actor, world.ref(A, "app"))
    with pytest.raises(UploadNotFoundError):
        world.services.layers.upload_part(actor, world.ref(A, "other"), upload.upload_id, 0, [b"x"])
    world.services.layers.cancel(actor, world.ref(A, "app"), upload.upload_id)
    with pytest.raises(UploadNotFoundError):
        world.services.layers.status(actor, world.ref(A, "app"), upload.upload_id)


def test_blobs_do_not_leak_across_repositories(world: World) -> None:
    _repo(world)
    _repo(world, "other")
    root = world.account(A)
    image = make_image("private")
    push(world, root, world.ref(A, "app"), image, "v1")
    layer = next(d for d, data in image.blobs.items() if data.startswith(b"layer"))
    actor = world.actor(root)
    with pytest.raises(LayersNotFoundError):
        world.services.layers.locate(actor, world.ref(A, "other"), layer, BlobAccess.HELD)
    with pytest.raises(LayersNotFoundError):
        world.services.images.put_image(actor, world.ref(A, "other"), image.manifest, None, "x")
    _, blob = world.services.layers.locate(actor, world.ref(A, "app"), layer, BlobAccess.REFERENCED)
    assert blob.size == len(image.blobs[layer])
    assert b"".join(world.stores.blobs.read(blob.digest)) == image.blobs[layer]


def test_unreferenced_blob_is_held_but_inaccessible_to_ecr(world: World) -> None:
    _repo(world)
    root = world.account(A)
    digest = upload_blob(world, root, world.ref(A, "app"), b"loose")
    actor = world.actor(root)
    with pytest.raises(LayerInaccessibleError):
        world.services.layers.locate(actor, world.ref(A, "app"), digest, BlobAccess.REFERENCED)
    world.services.layers.locate(actor, world.ref(A, "app"), digest, BlobAccess.HELD)
