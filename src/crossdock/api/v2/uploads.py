"""Blob uploads over the shared upload engine (``LayerService``, distribution rules).

* POST ``uploads/``: a session (``ecr:InitiateLayerUpload``), 202;
  ``?digest=``: monolithic, 201; ``?mount=&from=``: cross-repository mount, 201, or a
  plain session when the source may not be read.
* PATCH: a chunk (``ecr:UploadLayerPart``), optionally with ``Content-Range``; a chunk
  that does not start where the session ends is 416 with the session's ``Range``.
* PUT ``?digest=``: the last chunk if any, then completion (``ecr:CompleteLayerUpload``).
* GET: the session's ``Range``, 204. DELETE: cancel, 204.
"""

from __future__ import annotations

import contextlib

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from crossdock.api.v2.blobs import parse_digest
from crossdock.api.v2.bodies import BodyChunks, has_body
from crossdock.api.v2.context import V2Call
from crossdock.api.v2.errors import Concern, V2Error, to_v2_error
from crossdock.api.v2.ranges import parse_content_range, received_range
from crossdock.service.ecr.common import RepositoryRef
from crossdock.service.ecr.errors import InvalidLayerPartError
from crossdock.service.ecr.layers import OCI_RULES, Upload
from crossdock.service.errors import ServiceError


def _session_headers(call: V2Call, upload_id: str, size: int) -> dict[str, str]:
    return {
        "Location": call.url(f"blobs/uploads/{upload_id}"),
        "Docker-Upload-UUID": upload_id,
        "Range": received_range(size),
        "Content-Length": "0",
    }


def _created(call: V2Call, digest: str) -> Response:
    headers = {
        "Location": call.url(f"blobs/{digest}"),
        "Docker-Content-Digest": digest,
        "Content-Length": "0",
    }
    return Response(b"", 201, headers)


def _first_byte(call: V2Call) -> int | None:
    """The chunk's first byte from ``Content-Range``; checks it against ``Content-Length``."""
    header = call.request.headers.get("content-range")
    if header is None:
        return None
    chunk = parse_content_range(header)
    if chunk is None:
        raise V2Error(400, "BLOB_UPLOAD_INVALID", f"invalid Content-Range `{header[:100]}`")
    declared = call.request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) != chunk.length:
        raise V2Error(
            400,
            "BLOB_UPLOAD_INVALID",
            f"Content-Range covers {chunk.length} bytes but Content-Length is {declared}",
        )
    return chunk.first


async def _append(call: V2Call, upload_id: str, first_byte: int | None) -> Upload:
    layers = call.services.layers
    chunks = BodyChunks(call.request)
    try:
        return await run_in_threadpool(
            layers.upload_part, call.actor, call.ref, upload_id, first_byte, chunks
        )
    except InvalidLayerPartError as error:
        wire = to_v2_error(error, Concern.UPLOAD)
        size = error.last_valid_byte_received + 1
        headers = _session_headers(call, upload_id, size)
        del headers["Content-Length"]  # the error body has its own length
        wire.headers.update(headers)
        raise wire from None


def _source(call: V2Call, name: str) -> RepositoryRef | None:
    try:
        return call.addresser.repository(call.registry, name)
    except V2Error:
        return None


async def start_upload(call: V2Call) -> Response:
    """POST ``/v2/<name>/blobs/uploads/``: mount, monolithic, or a new session."""
    query = call.request.query_params
    layers = call.services.layers
    mount, source_name = query.get("mount"), query.get("from")
    if mount is not None and source_name is not None:
        digest = str(parse_digest(mount))
        source = _source(call, source_name)
        if source is not None:
            done = await run_in_threadpool(layers.mount, call.actor, call.ref, source, digest)
            if done is not None:
                return _created(call, digest)
    digest_text = query.get("digest")
    if digest_text is not None:
        return await _monolithic(call, str(parse_digest(digest_text)))
    upload = await run_in_threadpool(layers.initiate, call.actor, call.ref)
    return Response(b"", 202, _session_headers(call, upload.upload_id, 0))


async def _monolithic(call: V2Call, digest: str) -> Response:
    layers = call.services.layers
    upload = await run_in_threadpool(layers.initiate, call.actor, call.ref)
    try:
        await _append(call, upload.upload_id, None)
        done = await run_in_threadpool(
            layers.complete, call.actor, call.ref, upload.upload_id, [digest], OCI_RULES
        )
    except BaseException:
        await run_in_threadpool(_discard, call, upload.upload_id)
        raise
    return _created(call, str(done.blob.digest))


def _discard(call: V2Call, upload_id: str) -> None:
    # not allowed to cancel, or gone: stale sessions are garbage-collected
    with contextlib.suppress(ServiceError):
        call.services.layers.cancel(call.actor, call.ref, upload_id)


async def patch_upload(call: V2Call) -> Response:
    """PATCH: append one chunk; 202 with the new ``Range``."""
    first = _first_byte(call)
    upload = await _append(call, call.target, first)
    return Response(b"", 202, _session_headers(call, upload.upload_id, upload.size))


async def finish_upload(call: V2Call) -> Response:
    """PUT ``?digest=``: append the body if any, verify and commit; 201."""
    digest_text = call.request.query_params.get("digest")
    if digest_text is None:
        raise V2Error(400, "DIGEST_INVALID", "the digest query parameter is required")
    digest = str(parse_digest(digest_text))
    if has_body(call.request):
        await _append(call, call.target, _first_byte(call))
    layers = call.services.layers
    done = await run_in_threadpool(
        layers.complete, call.actor, call.ref, call.target, [digest], OCI_RULES
    )
    return _created(call, str(done.blob.digest))


async def upload_status(call: V2Call) -> Response:
    """GET: 204 with the session's ``Range``."""
    layers = call.services.layers
    upload = await run_in_threadpool(layers.status, call.actor, call.ref, call.target)
    headers = _session_headers(call, upload.upload_id, upload.size)
    del headers["Content-Length"]
    return Response(b"", 204, headers)


async def cancel_upload(call: V2Call) -> Response:
    """DELETE: discard the session; 204."""
    await run_in_threadpool(call.services.layers.cancel, call.actor, call.ref, call.target)
    return Response(b"", 204)
