"""Small OCI and Docker images for tests: blobs and manifests built on the fly."""

from __future__ import annotations

import json
from dataclasses import dataclass

from crossdock.oci import mediatypes
from crossdock.oci.digest import Digest


@dataclass(frozen=True)
class TestImage:
    """A manifest and the blobs it references."""

    manifest: bytes
    media_type: str
    blobs: dict[str, bytes]

    @property
    def digest(self) -> str:
        return str(Digest.of(self.manifest))


def descriptor(media_type: str, data: bytes) -> dict[str, object]:
    return {"mediaType": media_type, "digest": str(Digest.of(data)), "size": len(data)}


def make_image(
    seed: str = "a", *, media_type: str = mediatypes.OCI_MANIFEST, layers: int = 1
) -> TestImage:
    """An image whose config and layers depend on ``seed``."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed}).encode()
    layer_data = [f"layer {i} of {seed}".encode() * 10 for i in range(layers)]
    docker = media_type == mediatypes.DOCKER_MANIFEST
    config_type = mediatypes.DOCKER_CONFIG if docker else mediatypes.OCI_CONFIG
    layer_type = mediatypes.DOCKER_LAYER if docker else mediatypes.OCI_LAYER
    body = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": descriptor(config_type, config),
        "layers": [descriptor(layer_type, d) for d in layer_data],
    }
    blobs = {str(Digest.of(d)): d for d in [config, *layer_data]}
    return TestImage(json.dumps(body, indent=3).encode(), media_type, blobs)


def make_index(*children: TestImage) -> TestImage:
    """An OCI index over ``children``."""
    body = {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_INDEX,
        "manifests": [
            {**descriptor(c.media_type, c.manifest), "platform": {"os": "linux", "architecture": a}}
            for c, a in zip(children, ["amd64", "arm64", "s390x", "ppc64le"], strict=False)
        ],
    }
    return TestImage(json.dumps(body).encode(), mediatypes.OCI_INDEX, {})
