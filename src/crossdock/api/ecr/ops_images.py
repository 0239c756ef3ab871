"""Image and layer operations: request members → service → response."""

from __future__ import annotations

from typing import Any

from crossdock.api.ecr import render
from crossdock.api.ecr.services import EcrServices
from crossdock.service.ecr.common import Actor, RepositoryRef, repository_ref
from crossdock.service.ecr.errors import ImageAlreadyExistsError, invalid_parameter
from crossdock.service.ecr.images import ECR_DIGEST, ImageId, TagStatus
from crossdock.service.ecr.layers import ECR_RULES, PART_SIZE, BlobAccess
from crossdock.storage.registry_store import PutOutcome

Params = dict[str, Any]
Result = dict[str, Any]


def _ref(actor: Actor, params: Params) -> RepositoryRef:
    return repository_ref(actor, params.get("registryId"), params["repositoryName"])


def _image_ids(params: Params) -> list[ImageId]:
    return [ImageId(i.get("imageDigest"), i.get("imageTag")) for i in params["imageIds"]]


def _tag_status(params: Params) -> TagStatus:
    value = (params.get("filter") or {}).get("tagStatus") or "ANY"
    return TagStatus(value)


def _repo(ref: RepositoryRef) -> Result:
    return {"registryId": ref.registry_id, "repositoryName": ref.name}


def put_image(services: EcrServices, actor: Actor, params: Params) -> Result:
    """PutImage: nothing new to store is ImageAlreadyExists."""
    ref = _ref(actor, params)
    tag = params.get("imageTag")
    pushed = services.images.put_image(
        actor,
        ref,
        params["imageManifest"].encode("utf-8"),
        params.get("imageManifestMediaType"),
        tag,
        params.get("imageDigest"),
    )
    if pushed.outcome is PutOutcome.UNCHANGED:
        raise ImageAlreadyExistsError(pushed.image.digest, tag, ref.name, ref.registry_id)
    return {"image": render.image(pushed.image, tag, ref.registry_id, ref.name)}


def batch_get_image(services: EcrServices, actor: Actor, params: Params) -> Result:
    """BatchGetImage."""
    ref = _ref(actor, params)
    found, failures = services.images.batch_get_image(actor, ref, _image_ids(params))
    return {
        "images": [render.image(f.image, f.tag, ref.registry_id, ref.name) for f in found],
        "failures": [render.failure(f) for f in failures],
    }


def list_images(services: EcrServices, actor: Actor, params: Params) -> Result:
    """ListImages."""
    ref = _ref(actor, params)
    page = services.images.list_images(
        actor, ref, _tag_status(params), params.get("nextToken"), params.get("maxResults")
    )
    out: Result = {"imageIds": [render.image_id(i) for i in page.image_ids]}
    if page.next_token is not None:
        out["nextToken"] = page.next_token
    return out


def describe_images(services: EcrServices, actor: Actor, params: Params) -> Result:
    """DescribeImages."""
    ref = _ref(actor, params)
    ids = _image_ids(params) if params.get("imageIds") is not None else None
    page = services.images.describe_images(
        actor, ref, ids, _tag_status(params), params.get("nextToken"), params.get("maxResults")
    )
    out: Result = {
        "imageDetails": [render.image_detail(i, ref.registry_id, ref.name) for i in page.images]
    }
    if page.next_token is not None:
        out["nextToken"] = page.next_token
    return out


def batch_delete_image(services: EcrServices, actor: Actor, params: Params) -> Result:
    """BatchDeleteImage."""
    ref = _ref(actor, params)
    deleted, failures = services.images.batch_delete_image(actor, ref, _image_ids(params))
    return {
        "imageIds": [render.image_id(i) for i in deleted],
        "failures": [render.failure(f) for f in failures],
    }


def initiate_layer_upload(services: EcrServices, actor: Actor, params: Params) -> Result:
    """InitiateLayerUpload."""
    upload = services.layers.initiate(actor, _ref(actor, params))
    return {"uploadId": upload.upload_id, "partSize": PART_SIZE}


def upload_layer_part(services: EcrServices, actor: Actor, params: Params) -> Result:
    """UploadLayerPart: the part's byte range must match its length and follow on."""
    ref = _ref(actor, params)
    data: bytes = params["layerPartBlob"]
    first, last = params["partFirstByte"], params["partLastByte"]
    if last - first + 1 != len(data):
        reason = (
            f"partLastByte - partFirstByte + 1 ({last - first + 1}) must equal the size "
            f"of layerPartBlob ({len(data)})"
        )
        raise invalid_parameter("layerPartBlob", reason)
    upload = services.layers.upload_part(actor, ref, params["uploadId"], first, [data])
    return {**_repo(ref), "uploadId": upload.upload_id, "lastByteReceived": upload.size - 1}


def complete_layer_upload(services: EcrServices, actor: Actor, params: Params) -> Result:
    """CompleteLayerUpload."""
    ref = _ref(actor, params)
    done = services.layers.complete(
        actor, ref, params["uploadId"], params["layerDigests"], ECR_RULES
    )
    return {**_repo(ref), "uploadId": params["uploadId"], "layerDigest": str(done.blob.digest)}


def batch_check_layer_availability(services: EcrServices, actor: Actor, params: Params) -> Result:
    """BatchCheckLayerAvailability."""
    ref = _ref(actor, params)
    digests: list[str] = params["layerDigests"]
    valid = [d for d in digests if render_digest_ok(d)]
    answers = services.layers.check_availability(actor, ref, valid)
    layers: list[Result] = []
    failures: list[Result] = []
    for digest in digests:
        if not render_digest_ok(digest):
            failures.append(
                {
                    "layerDigest": digest,
                    "failureCode": "InvalidLayerDigest",
                    "failureReason": "Invalid layer digest",
                }
            )
    for answer in answers:
        if answer.size is None:
            failures.append(
                {
                    "layerDigest": answer.digest,
                    "failureCode": "MissingLayerDigest",
                    "failureReason": "Could not find layer",
                }
            )
            continue
        layer: Result = {
            "layerDigest": answer.digest,
            "layerAvailability": "AVAILABLE",
            "layerSize": answer.size,
        }
        if answer.media_type is not None:
            layer["mediaType"] = answer.media_type
        layers.append(layer)
    return {"layers": layers, "failures": failures}


def render_digest_ok(digest: str) -> bool:
    """Whether a layer digest has ECR's digest form."""
    return ECR_DIGEST.fullmatch(digest) is not None


def get_download_url_for_layer(services: EcrServices, actor: Actor, params: Params) -> Result:
    """GetDownloadUrlForLayer: a presigned URL of the blob store (S3, as ECR), else a URL
    on this server's ``/v2/`` that serves the blob."""
    ref = _ref(actor, params)
    digest = params["layerDigest"]
    _, blob = services.layers.locate(actor, ref, digest, BlobAccess.REFERENCED)
    url = services.layers.direct_url(blob)
    if url is None:
        url = services.addressing.blob_url(ref.registry_id, ref.region, ref.name, digest)
    return {"downloadUrl": url, "layerDigest": digest}
