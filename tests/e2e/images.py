"""Small synthetic container images for the real-client tests, built offline.

``build_image`` writes an image that skopeo and podman can read without a network:

- OCI media types: an OCI image layout (``oci:DIR:latest``);
- Docker schema 2 media types: skopeo's ``dir:`` transport (skopeo 1.9's ``oci:`` transport
  ignores index entries with Docker media types).

Each layer is a real gzip-compressed tar holding one file of seeded random bytes, and the
config lists the layers' ``diff_ids``, so Docker and podman accept the image. Several
platforms give an OCI index or a Docker manifest list over one image per platform.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Format = Literal["oci", "docker"]
TAG = "latest"

_MEDIA_TYPES: dict[Format, dict[str, str]] = {
    "oci": {
        "index": "application/vnd.oci.image.index.v1+json",
        "manifest": "application/vnd.oci.image.manifest.v1+json",
        "config": "application/vnd.oci.image.config.v1+json",
        "layer": "application/vnd.oci.image.layer.v1.tar+gzip",
    },
    "docker": {
        "index": "application/vnd.docker.distribution.manifest.list.v2+json",
        "manifest": "application/vnd.docker.distribution.manifest.v2+json",
        "config": "application/vnd.docker.container.image.v1+json",
        "layer": "application/vnd.docker.image.rootfs.diff.tar.gzip",
    },
}


@dataclass(frozen=True, slots=True)
class BuiltImage:
    """An image on disk: how skopeo/podman name it and what a registry must keep of it."""

    source: str
    """The transport reference to copy from: ``oci:DIR:latest`` or ``dir:DIR``."""
    digest: str
    """The digest of the top manifest (the index or list when there are several platforms)."""
    media_type: str
    """The top manifest's media type."""
    manifest: bytes
    """The top manifest, byte for byte."""
    children: dict[str, bytes]
    """Each platform manifest of an index or list, by digest (empty for a single image)."""


def sha256(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


class _Blobs:
    """Writes content-addressed blobs the way the chosen transport stores them."""

    def __init__(self, directory: Path, fmt: Format) -> None:
        self._directory = directory
        self._fmt = fmt

    def put(self, data: bytes, media_type: str) -> dict[str, Any]:
        digest = sha256(data)
        hex_digest = digest.removeprefix("sha256:")
        if self._fmt == "oci":
            path = self._directory / "blobs" / "sha256" / hex_digest
        else:
            path = self._directory / hex_digest
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return {"mediaType": media_type, "digest": digest, "size": len(data)}


def _layer(rng: random.Random, name: str, size: int) -> tuple[bytes, str]:
    """A gzip-compressed tar with one file; returns it and its ``diff_id``."""
    payload = rng.randbytes(size)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size = len(payload)
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(payload))
    plain = buffer.getvalue()
    return gzip.compress(plain, compresslevel=1, mtime=0), sha256(plain)


def _platform_manifest(
    blobs: _Blobs, fmt: Format, platform: str, layers: int, layer_size: int, seed: int
) -> bytes:
    """One image for ``platform`` (``os/arch[/variant]``): layers, config and manifest."""
    os_name, arch, *variant = platform.split("/")
    rng = random.Random(f"{seed}/{platform}")
    types = _MEDIA_TYPES[fmt]
    descriptors, diff_ids = [], []
    for number in range(layers):
        blob, diff_id = _layer(rng, f"layer-{number}.bin", layer_size)
        descriptors.append(blobs.put(blob, types["layer"]))
        diff_ids.append(diff_id)
    config: dict[str, Any] = {
        "created": "2024-01-01T00:00:00Z",
        "architecture": arch,
        "os": os_name,
        "config": {"Env": ["PATH=/"], "Cmd": ["/layer-0.bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }
    if variant:
        config["variant"] = variant[0]
    manifest = {
        "schemaVersion": 2,
        "mediaType": types["manifest"],
        "config": blobs.put(json.dumps(config).encode(), types["config"]),
        "layers": descriptors,
    }
    return json.dumps(manifest, indent=2).encode()


def _platform(platform: str) -> dict[str, str]:
    os_name, arch, *variant = platform.split("/")
    found = {"architecture": arch, "os": os_name}
    if variant:
        found["variant"] = variant[0]
    return found


def build_image(
    directory: Path,
    fmt: Format = "oci",
    platforms: tuple[str, ...] = ("linux/amd64",),
    layers: int = 2,
    layer_size: int = 64 * 1024,
    seed: int = 0,
) -> BuiltImage:
    """Write an image (an index or list when there are several platforms) to ``directory``."""
    directory.mkdir(parents=True)
    blobs = _Blobs(directory, fmt)
    types = _MEDIA_TYPES[fmt]
    children: dict[str, bytes] = {}
    if len(platforms) == 1:
        top = _platform_manifest(blobs, fmt, platforms[0], layers, layer_size, seed)
        media_type = types["manifest"]
    else:
        entries = []
        for platform in platforms:
            child = _platform_manifest(blobs, fmt, platform, layers, layer_size, seed)
            children[sha256(child)] = child
            entry = blobs.put(child, types["manifest"])
            entries.append({**entry, "platform": _platform(platform)})
        media_type = types["index"]
        top_doc = {"schemaVersion": 2, "mediaType": media_type, "manifests": entries}
        top = json.dumps(top_doc, indent=2).encode()
    digest = sha256(top)
    if fmt == "oci":
        descriptor = blobs.put(top, media_type)
        descriptor["annotations"] = {"org.opencontainers.image.ref.name": TAG}
        index = {"schemaVersion": 2, "manifests": [descriptor]}
        (directory / "index.json").write_text(json.dumps(index))
        (directory / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
        source = f"oci:{directory}:{TAG}"
    else:
        for child_digest, child in children.items():
            name = child_digest.removeprefix("sha256:") + ".manifest.json"
            (directory / name).write_bytes(child)
        (directory / "manifest.json").write_bytes(top)
        (directory / "version").write_text("Directory Transport Version: 1.1\n")
        source = f"dir:{directory}"
    return BuiltImage(source, digest, media_type, top, children)


def docker_archive(image: BuiltImage, tarball: Path, name: str) -> None:
    """Write ``image`` as a ``docker load`` tarball tagged ``name`` (with skopeo, offline)."""
    subprocess.run(
        ["skopeo", "copy", "-q", image.source, f"docker-archive:{tarball}:{name}"],
        check=True,
        capture_output=True,
        timeout=120,
    )
