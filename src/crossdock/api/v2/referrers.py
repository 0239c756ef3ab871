"""``GET /v2/<name>/referrers/<digest>`` (``ecr:BatchGetImage``): the OCI 1.1 referrers API.

The answer is an OCI image index of the manifests whose ``subject`` is the digest (an
empty index when there are none, whether or not the subject exists), filtered by
``artifactType`` when asked (then ``OCI-Filters-Applied: artifactType``).
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from crossdock.api.v2.blobs import parse_digest
from crossdock.api.v2.context import V2Call
from crossdock.oci.errors import ManifestError
from crossdock.oci.manifest import parse_manifest
from crossdock.oci.mediatypes import OCI_INDEX
from crossdock.storage.registry_store import ImageRecord


def _descriptor(image: ImageRecord) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "mediaType": image.media_type,
        "digest": image.digest,
        "size": len(image.manifest),
    }
    if image.artifact_type is not None:
        entry["artifactType"] = image.artifact_type
    try:
        annotations = parse_manifest(image.manifest, image.media_type).annotations
    except ManifestError:  # pragma: no cover - stored manifests were parsed on push
        annotations = ()
    if annotations:
        entry["annotations"] = dict(annotations)
    return entry


async def list_referrers(call: V2Call) -> Response:
    """200 with an OCI index of the referrers."""
    subject = str(parse_digest(call.target))
    artifact_type = call.request.query_params.get("artifactType")
    images = call.services.images
    found = await run_in_threadpool(images.referrers, call.actor, call.ref, subject)
    headers = {}
    if artifact_type is not None:
        found = [image for image in found if image.artifact_type == artifact_type]
        headers["OCI-Filters-Applied"] = "artifactType"
    entries = [_descriptor(image) for image in found]
    body = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
    return JSONResponse(body, headers=headers, media_type=OCI_INDEX)
