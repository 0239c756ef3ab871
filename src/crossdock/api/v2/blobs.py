"""Blob GET (``ecr:GetDownloadUrlForLayer``, with ``Range``), HEAD
(``ecr:BatchCheckLayerAvailability``) and DELETE.

GET streams: a blob on local disk goes out as a ``FileResponse`` (which uses the ASGI
``http.response.pathsend`` extension when the server offers it), a range or a non-local
blob as a ``StreamingResponse`` over ``BlobStore.read``. Nothing is held whole in memory.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response, StreamingResponse

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
    [answer] = await run_in_threadpool(layers.check_availability, call.actor, call.ref, [digest])
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
    _, blob = await run_in_threadpool(
        services.layers.locate, call.actor, call.ref, str(digest), BlobAccess.HELD
    )
    headers = {"Docker-Content-Digest": str(digest), "Accept-Ranges": "bytes"}
    wanted = call.request.headers.get("range")
    selected = parse_range(wanted, blob.size) if wanted is not None else None
    if selected is UNSATISFIABLE:
        headers["Content-Range"] = f"bytes */{blob.size}"
        raise V2Error(416, "BLOB_UNKNOWN", "the requested range is not satisfiable", None, headers)
    try:
        if isinstance(selected, ByteRange):
            chunks = services.blobs.read(digest, selected.first, selected.length)
            headers["Content-Range"] = f"bytes {selected.first}-{selected.last}/{blob.size}"
            headers["Content-Length"] = str(selected.length)
            return StreamingResponse(chunks, 206, headers, media_type=OCTET_STREAM)
        path = services.blobs.local_path(digest) if wanted is None else None
        if path is not None:
            return FileResponse(path, headers=headers, media_type=OCTET_STREAM)
        headers["Content-Length"] = str(blob.size)
        chunks = services.blobs.read(digest)
        return StreamingResponse(chunks, 200, headers, media_type=OCTET_STREAM)
    except BlobNotFoundError:
        ref = call.ref
        raise LayersNotFoundError.for_layer(str(digest), ref.name, ref.registry_id) from None


async def delete_blob(call: V2Call) -> Response:
    """DELETE: not offered. As on ECR, a blob goes when no image references it any more
    (BatchDeleteImage, then garbage collection); 405 ``UNSUPPORTED``."""
    parse_digest(call.target)
    raise V2Error(
        405,
        "UNSUPPORTED",
        "blobs are not deleted directly: delete the images that reference them "
        "(BatchDeleteImage); unreferenced blobs are garbage-collected",
    )
