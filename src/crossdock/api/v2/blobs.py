"""Blob GET (``ecr:GetDownloadUrlForLayer``, with ``Range``), HEAD
(``ecr:BatchCheckLayerAvailability``) and DELETE.

GET streams: a blob on local disk goes out through ``blobfile.blob_file_response`` (a
small one read whole, a large one as a ``FileResponse`` that uses the ASGI
``http.response.pathsend`` extension when the server offers it), a range or a non-local
blob as a ``StreamingResponse`` over ``BlobStore.read``. Only a small blob (256 KiB at
most) is held whole in memory. A blob store that hands out its own download URLs (S3,
unless ``--blob-proxy``) gets a 307 redirect to a presigned URL instead, as on ECR.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from crossdock.api.v2.blobfile import blob_file_response
from crossdock.api.v2.context import V2Call
from crossdock.api.v2.errors import V2Error
from crossdock.api.v2.ranges import UNSATISFIABLE, ByteRange, parse_range
from crossdock.oci.digest import Digest
from crossdock.oci.errors import DigestError
from crossdock.service.ecr.errors import LayersNotFoundError
from crossdock.service.ecr.layers import BlobAccess
from crossdock.storage.errors import BlobNotFoundError

OCTET_STREAM = "application/octet-stream"


def parse_digest(text: str) -> Digest:
    """A digest from the URL or query; 400 ``DIGEST_INVALID`` (or ``UNSUPPORTED``) if not."""
    try:
        return Digest.parse(text)
    except DigestError as error:
        raise V2Error(400, error.code, error.message, detail={"digest": text}) from None


async def head_blob(call: V2Call) -> Response:
    """HEAD: 200 with the length and digest, 404 ``BLOB_UNKNOWN`` without a body."""
    digest = str(parse_digest(call.target))
    layers = call.services.layers
    # On the event loop, as the ECR API's BatchCheckLayerAvailability: indexed reads only
    [answer] = layers.check_availability(call.actor, call.ref, [digest])
    if answer.size is None:
        raise LayersNotFoundError.for_layer(digest, call.ref.name, call.ref.registry_id)
    headers = {
        "Content-Length": str(answer.size),
        "Docker-Content-Digest": digest,
        "Accept-Ranges": "bytes",
    }
    return Response(b"", 200, headers, media_type=OCTET_STREAM)


async def get_blob(call: V2Call) -> Response:
    """GET: the whole blob (200) or one byte range (206); 416 for a range past the end."""
    if call.head:
        return await head_blob(call)
    digest = parse_digest(call.target)
    services = call.services
    # On the event loop, as the ECR API's GetDownloadUrlForLayer: indexed reads only
    _, blob = services.layers.locate(call.actor, call.ref, str(digest), BlobAccess.HELD)
    headers = {"Docker-Content-Digest": str(digest), "Accept-Ranges": "bytes"}
    wanted = call.request.headers.get("range")
    selected = parse_range(wanted, blob.size) if wanted is not None else None
    if selected is UNSATISFIABLE:
        headers["Content-Range"] = f"bytes */{blob.size}"
        raise V2Error(416, "BLOB_UNKNOWN", "the requested range is not satisfiable", None, headers)
    direct = services.layers.direct_url(blob)
    if direct is not None:  # as ECR: the client fetches (a range of) it from S3 itself
        redirect = {"Location": direct, "Docker-Content-Digest": str(digest)}
        return Response(b"", 307, {**redirect, "Content-Length": "0"})
    blobs = services.blobs
    try:
        if isinstance(selected, ByteRange):
            chunks = await run_in_threadpool(blobs.read, digest, selected.first, selected.length)
            headers["Content-Range"] = f"bytes {selected.first}-{selected.last}/{blob.size}"
            headers["Content-Length"] = str(selected.length)
            return StreamingResponse(chunks, 206, headers, media_type=OCTET_STREAM)
        path = services.blobs.local_path(digest) if wanted is None else None
        if path is not None:
            return blob_file_response(path, headers, OCTET_STREAM)
        headers["Content-Length"] = str(blob.size)
        chunks = await run_in_threadpool(blobs.read, digest)  # an object store: a request
        return StreamingResponse(chunks, 200, headers, media_type=OCTET_STREAM)
    except (BlobNotFoundError, FileNotFoundError):
        ref = call.ref
        raise LayersNotFoundError.for_layer(str(digest), ref.name, ref.registry_id) from None


async def delete_blob(call: V2Call) -> Response:
    """DELETE (``ecr:BatchDeleteImage``): ECR's rule, a blob goes when no image references it.

    202 once the repository no longer holds the blob; 404 ``BLOB_UNKNOWN`` when it did not;
    405 ``UNSUPPORTED`` (with ``Allow: GET, HEAD``) while an image of the repository still
    references it: deletion of that blob is not supported until those images are gone.
    """
    digest = str(parse_digest(call.target))
    await run_in_threadpool(call.services.images.delete_blob, call.actor, call.ref, digest)
    return Response(b"", 202, {"Content-Length": "0"})
