"""Manifests by tag or digest: GET/HEAD (``ecr:BatchGetImage``), PUT (``ecr:PutImage``),
DELETE (``ecr:BatchDeleteImage``), over the shared image model (``ImageService``).

GET negotiates on ``Accept``: the stored manifest is returned as it was pushed (no
conversion), and 404 ``MANIFEST_UNKNOWN`` when ``Accept`` names manifest types but not
the stored one. PUT answers 201 with ``Docker-Content-Digest`` and, for a manifest with a
``subject``, ``OCI-Subject``. Docker schema 1 is refused (``UNSUPPORTED``).
"""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from crossdock.api.v2.blobs import parse_digest
from crossdock.api.v2.bodies import read_limited
from crossdock.api.v2.context import V2Call
from crossdock.api.v2.errors import V2Error, failure_error
from crossdock.oci import mediatypes
from crossdock.oci.manifest import MAX_MANIFEST_SIZE
from crossdock.service.ecr.images import NOT_FOUND_REASON, ImageId

TAG = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")
"""The distribution spec's tag grammar."""


def image_id(reference: str) -> ImageId:
    """A manifest reference: a digest (``algo:hex``) or a tag; 400 when it is neither."""
    if ":" in reference:
        return ImageId(digest=str(parse_digest(reference)))
    if TAG.fullmatch(reference) is None:
        raise V2Error(
            400, "TAG_INVALID", f"`{reference[:200]}` is not a valid tag", {"tag": reference[:200]}
        )
    return ImageId(tag=reference)


def lookup_id(reference: str) -> ImageId:
    """A reference to read or delete: a tag the grammar forbids cannot name a stored
    manifest, so it is 404 ``MANIFEST_UNKNOWN`` (only PUT answers ``TAG_INVALID``)."""
    if ":" not in reference and TAG.fullmatch(reference) is None:
        raise V2Error(404, "MANIFEST_UNKNOWN", NOT_FOUND_REASON)
    return image_id(reference)


def _accepts(accept: str, media_type: str) -> bool:
    wanted = {mediatypes.normalize(item) for item in accept.split(",") if item.strip()}
    if not wanted or media_type in wanted or "*/*" in wanted or "application/*" in wanted:
        return True
    named = {t for t in wanted if mediatypes.kind_of(t) is not None or mediatypes.is_schema1(t)}
    return not named


async def get_manifest(call: V2Call) -> Response:
    """GET/HEAD: the manifest bytes with their type, length and digest."""
    wanted = lookup_id(call.target)
    images = call.services.images
    # On the event loop: a few indexed reads, as the ECR API's inline operations
    found = images.get_image(call.actor, call.ref, wanted)
    image = found.image
    accept = ", ".join(call.request.headers.getlist("accept"))
    if not _accepts(accept, image.media_type):
        raise V2Error(
            404,
            "MANIFEST_UNKNOWN",
            f"the manifest is {image.media_type}, which the Accept header does not list",
        )
    headers = {"Docker-Content-Digest": image.digest}
    if call.head:
        headers["Content-Length"] = str(len(image.manifest))
        return Response(b"", 200, headers, media_type=image.media_type)
    return Response(image.manifest, 200, headers, media_type=image.media_type)


def _declared_type(content_type: str | None) -> str | None:
    if content_type is None:
        return None
    kind = mediatypes.kind_of(content_type)
    return content_type if kind is not None or mediatypes.is_schema1(content_type) else None


async def put_manifest(call: V2Call) -> Response:
    """PUT: store the manifest (every referenced blob and child must be there); 201."""
    wanted = image_id(call.target)
    body = await read_limited(call.request, MAX_MANIFEST_SIZE)
    media_type = _declared_type(call.request.headers.get("content-type"))
    pushed = await run_in_threadpool(
        call.services.images.put_image,
        call.actor,
        call.ref,
        body,
        media_type,
        wanted.tag,
        wanted.digest,
    )
    digest = pushed.image.digest
    headers = {
        "Location": call.url(f"manifests/{digest}"),
        "Docker-Content-Digest": digest,
        "Content-Length": "0",
    }
    subject = pushed.manifest.subject
    if subject is not None:
        headers["OCI-Subject"] = str(subject.digest)
    return Response(b"", 201, headers)


async def delete_manifest(call: V2Call) -> Response:
    """DELETE: by digest the image and its tags, by tag the tag alone (ECR's rules); 202."""
    wanted = lookup_id(call.target)
    images = call.services.images
    _, failures = await run_in_threadpool(images.batch_delete_image, call.actor, call.ref, [wanted])
    if failures:
        raise failure_error(failures[0])
    return Response(b"", 202)
