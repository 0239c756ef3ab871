"""Manifest bytes → what a registry needs to know: type, blobs, children, subject.

:func:`parse_manifest` never raises anything but :class:`ManifestError`, whatever the
bytes. It checks structure only; whether the referenced blobs exist is the service's
question.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from crossdock.oci import mediatypes
from crossdock.oci.digest import Digest
from crossdock.oci.errors import DigestError, ManifestError
from crossdock.oci.mediatypes import ManifestKind

MAX_MANIFEST_SIZE = 4 * 1024 * 1024
"""ECR's (and crossdock's) manifest size limit: 4 MiB."""


@dataclass(frozen=True, slots=True)
class Descriptor:
    """A content descriptor: what a manifest says about one blob or child manifest."""

    media_type: str
    digest: Digest
    size: int
    artifact_type: str | None = None
    annotations: tuple[tuple[str, str], ...] = ()
    platform: tuple[tuple[str, str], ...] = ()
    """The string members of ``platform`` (``architecture``, ``os``, ``variant``...)."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """A parsed manifest or index; ``digest`` is the sha256 of the exact bytes."""

    media_type: str
    kind: ManifestKind
    digest: Digest
    size: int
    config: Descriptor | None = None
    layers: tuple[Descriptor, ...] = ()
    manifests: tuple[Descriptor, ...] = ()
    subject: Descriptor | None = None
    artifact_type: str | None = None
    annotations: tuple[tuple[str, str], ...] = ()
    declares_media_type: bool = True
    """False when the body had no ``mediaType`` and the type came from outside."""

    @property
    def blobs(self) -> tuple[Descriptor, ...]:
        """The config and layers: every blob the manifest references (none for an index)."""
        return ((self.config,) if self.config is not None else ()) + self.layers

    @property
    def effective_artifact_type(self) -> str | None:
        """``artifactType``, else the config's media type for an image (referrers API rule)."""
        if self.artifact_type is not None:
            return self.artifact_type
        if self.config is not None and self.kind is ManifestKind.IMAGE:
            return self.config.media_type
        return None


def parse_manifest(data: bytes, media_type: str | None = None) -> Manifest:
    """Parse manifest bytes; ``media_type`` is the type declared outside the body, if any.

    The type is the body's ``mediaType``; when the body has none, ``media_type``; when
    neither is given, it is inferred (``manifests`` → OCI index, else OCI manifest). A body
    type that contradicts ``media_type`` is invalid.
    """
    if len(data) > MAX_MANIFEST_SIZE:
        raise ManifestError(
            f"the manifest is {len(data):,} bytes; the limit is {MAX_MANIFEST_SIZE:,}",
            code="SIZE_INVALID",
        )
    raw = _load(data)
    digest = Digest.of(data)
    body_type = raw.get("mediaType")
    if body_type is not None and not isinstance(body_type, str):
        raise ManifestError("`mediaType` must be a string")
    declared = mediatypes.normalize(media_type) if media_type else None
    schema = raw.get("schemaVersion")
    if schema == 1 or any(mediatypes.is_schema1(t) for t in (body_type, declared) if t):
        raise ManifestError(
            "Docker schema 1 manifests are not supported: push a schema 2 or OCI manifest",
            code="UNSUPPORTED",
        )
    if body_type is not None and declared is not None and body_type != declared:
        raise ManifestError(
            f"the manifest's mediaType `{body_type}` does not match the declared `{declared}`"
        )
    chosen = body_type or declared or _infer(raw)
    kind = mediatypes.kind_of(chosen)
    if kind is None:
        raise ManifestError(f"unsupported manifest media type `{chosen}`", code="UNSUPPORTED")
    if type(schema) is not int or schema != 2:
        raise ManifestError("`schemaVersion` must be 2")
    reader = _Reader()
    config: Descriptor | None = None
    layers: tuple[Descriptor, ...] = ()
    children: tuple[Descriptor, ...] = ()
    if kind is ManifestKind.INDEX:
        children = reader.descriptor_list(raw, "manifests")
    else:
        config = reader.descriptor(raw.get("config"), "config")
        layers = reader.descriptor_list(raw, "layers")
    return Manifest(
        media_type=chosen,
        kind=kind,
        digest=digest,
        size=len(data),
        config=config,
        layers=layers,
        manifests=children,
        subject=reader.optional_descriptor(raw, "subject"),
        artifact_type=reader.optional_text(raw, "artifactType"),
        annotations=reader.annotations(raw.get("annotations"), "annotations"),
        declares_media_type=body_type is not None,
    )


def _load(data: bytes) -> dict[str, Any]:
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ManifestError(f"the manifest is not valid UTF-8 JSON: {error}") from None
    if not isinstance(raw, dict):
        raise ManifestError("the manifest must be a JSON object")
    return raw


def _infer(raw: dict[str, Any]) -> str:
    if "manifests" in raw:
        return mediatypes.OCI_INDEX
    if "config" in raw or "layers" in raw:
        return mediatypes.OCI_MANIFEST
    raise ManifestError("the manifest has no `mediaType` and none was given")


class _Reader:
    """Reads the descriptor parts of one manifest, naming the offending member on error."""

    def optional_text(self, raw: dict[str, Any], key: str) -> str | None:
        value = raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise ManifestError(f"`{key}` must be a non-empty string")
        return value

    def optional_descriptor(self, raw: dict[str, Any], key: str) -> Descriptor | None:
        value = raw.get(key)
        return None if value is None else self.descriptor(value, key)

    def descriptor_list(self, raw: dict[str, Any], key: str) -> tuple[Descriptor, ...]:
        value = raw.get(key)
        if not isinstance(value, list):
            raise ManifestError(f"`{key}` must be an array of descriptors")
        return tuple(self.descriptor(item, f"{key}[{i}]") for i, item in enumerate(value))

    def descriptor(self, value: Any, where: str) -> Descriptor:
        if not isinstance(value, dict):
            raise ManifestError(f"`{where}` must be a descriptor object")
        media_type = value.get("mediaType")
        if not isinstance(media_type, str) or not media_type:
            raise ManifestError(f"`{where}.mediaType` must be a non-empty string")
        size = value.get("size")
        if type(size) is not int or size < 0:
            raise ManifestError(f"`{where}.size` must be a non-negative integer")
        text = value.get("digest")
        if not isinstance(text, str):
            raise ManifestError(f"`{where}.digest` must be a string")
        try:
            digest = Digest.parse(text)
        except DigestError as error:
            raise ManifestError(f"`{where}.digest`: {error.message}") from None
        platform = value.get("platform")
        return Descriptor(
            media_type=media_type,
            digest=digest,
            size=size,
            artifact_type=self.optional_text(value, "artifactType"),
            annotations=self.annotations(value.get("annotations"), f"{where}.annotations"),
            platform=self.annotations(platform, f"{where}.platform", strict=False),
        )

    def annotations(
        self, value: Any, where: str, *, strict: bool = True
    ) -> tuple[tuple[str, str], ...]:
        if value is None:
            return ()
        if not isinstance(value, dict):
            raise ManifestError(f"`{where}` must be an object")
        pairs = []
        for key, item in value.items():
            if isinstance(item, str):
                pairs.append((key, item))
            elif strict:
                raise ManifestError(f"`{where}.{key}` must be a string")
        return tuple(pairs)
