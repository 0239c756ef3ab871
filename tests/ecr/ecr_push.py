"""Pushing test images through the services (the ECR layer API path)."""

from __future__ import annotations

from ecr_world import World
from image_data import TestImage

from crossdock.auth.principal import Principal
from crossdock.service.ecr.common import RepositoryRef
from crossdock.service.ecr.images import PushedImage
from crossdock.service.ecr.layers import OCI_RULES


def upload_blob(world: World, who: Principal, ref: RepositoryRef, data: bytes) -> str:
    """Upload one blob in one part and complete it."""
    from crossdock.oci.digest import Digest

    actor = world.actor(who)
    upload = world.services.layers.initiate(actor, ref)
    world.services.layers.upload_part(actor, ref, upload.upload_id, 0, [data])
    done = world.services.layers.complete(
        actor, ref, upload.upload_id, [str(Digest.of(data))], OCI_RULES
    )
    return str(done.blob.digest)


def push(
    world: World, who: Principal, ref: RepositoryRef, image: TestImage, tag: str | None = None
) -> PushedImage:
    """Upload the image's blobs and put its manifest."""
    for data in image.blobs.values():
        upload_blob(world, who, ref, data)
    return world.services.images.put_image(
        world.actor(who), ref, image.manifest, image.media_type, tag
    )
