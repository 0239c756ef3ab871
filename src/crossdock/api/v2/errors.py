"""The ``/v2/`` error table: every failure → HTTP status + ``{"errors":[{code,message,detail}]}``.

This is the only place that decides the distribution spec's wire form of an error. Service
errors are looked up by their ``code`` (then their base classes' codes), first for the
route's :class:`Concern`, then for any route; errors raised by the ``/v2/`` layer itself
are :class:`V2Error` values and carry their code. HEAD responses carry no body.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType

from starlette.requests import ClientDisconnect
from starlette.responses import Response

from crossdock.api.unavailable import RETRY_AFTER, unavailable_message
from crossdock.oci.errors import OciError
from crossdock.service.ecr.errors import InvalidLayerPartError
from crossdock.service.ecr.images import (
    NOT_FOUND_REASON,
    BlobReferencedError,
    ImageFailure,
    ManifestInvalidError,
)
from crossdock.service.errors import ServiceError
from crossdock.storage.errors import StorageUnavailableError

API_VERSION_HEADER = ("Docker-Distribution-Api-Version", "registry/2.0")
JSON_TYPE = "application/json; charset=utf-8"
EXPIRED_TOKEN = "Your authorization token has expired. Reauthenticate and try again."

_log = logging.getLogger("crossdock.api.v2")


class Concern(Enum):
    """Which kind of route failed: a few codes mean different things per route."""

    ANY = "any"
    MANIFEST = "manifest"
    BLOB = "blob"
    UPLOAD = "upload"
    LISTING = "listing"


@dataclass(frozen=True, slots=True)
class WireCode:
    """An HTTP status and the distribution spec's error code."""

    status: int
    code: str
    message: str | None = None
    """Replaces the service's message (e.g. spec §3.4's ``Requested image not found``)."""


_A, _M, _U = Concern.ANY, Concern.MANIFEST, Concern.UPLOAD

ERROR_TABLE: Mapping[tuple[str, Concern], WireCode] = MappingProxyType(
    {
        ("AccessDenied", _A): WireCode(403, "DENIED"),
        ("RepositoryNotFound", _A): WireCode(404, "NAME_UNKNOWN"),
        ("ImageNotFound", _A): WireCode(404, "MANIFEST_UNKNOWN", NOT_FOUND_REASON),
        ("InvalidImageDigest", _A): WireCode(400, "DIGEST_INVALID"),
        ("InvalidImageTag", _A): WireCode(400, "TAG_INVALID"),
        ("ImageTagDoesNotMatchDigest", _A): WireCode(400, "TAG_INVALID"),
        ("ImageReferencedByManifestList", _A): WireCode(409, "UNSUPPORTED"),
        # 405, not 409: the spec answers a blob DELETE that is not allowed with 400 or 405
        ("BlobReferencedByImages", _A): WireCode(405, "UNSUPPORTED"),
        ("LayersNotFound", _A): WireCode(404, "BLOB_UNKNOWN"),
        ("LayersNotFound", _M): WireCode(400, "MANIFEST_BLOB_UNKNOWN"),
        ("LayerInaccessible", _A): WireCode(404, "BLOB_UNKNOWN"),
        ("ReferencedImagesNotFound", _A): WireCode(400, "MANIFEST_BLOB_UNKNOWN"),
        ("ImageTagAlreadyExists", _A): WireCode(400, "TAG_INVALID"),
        ("ImageDigestDoesNotMatch", _A): WireCode(400, "DIGEST_INVALID"),
        ("UploadNotFound", _A): WireCode(404, "BLOB_UPLOAD_UNKNOWN"),
        ("InvalidLayerPart", _A): WireCode(416, "BLOB_UPLOAD_INVALID"),
        ("InvalidLayer", _A): WireCode(400, "DIGEST_INVALID"),
        ("EmptyUpload", _A): WireCode(400, "BLOB_UPLOAD_INVALID"),
        ("LayerPartTooSmall", _A): WireCode(400, "BLOB_UPLOAD_INVALID"),
        ("InvalidParameter", _M): WireCode(400, "MANIFEST_INVALID"),
        ("InvalidParameter", _U): WireCode(400, "DIGEST_INVALID"),
        ("InvalidParameter", _A): WireCode(400, "UNSUPPORTED"),
        ("NotFound", _A): WireCode(404, "NAME_UNKNOWN"),
        ("AlreadyExists", _A): WireCode(409, "UNSUPPORTED"),
        ("Conflict", _A): WireCode(409, "UNSUPPORTED"),
        # OCI content errors (crossdock.oci), keyed by their spec code
        ("MANIFEST_INVALID", _A): WireCode(400, "MANIFEST_INVALID"),
        ("SIZE_INVALID", _M): WireCode(413, "SIZE_INVALID"),
        ("SIZE_INVALID", _A): WireCode(400, "SIZE_INVALID"),
        ("UNSUPPORTED", _A): WireCode(400, "UNSUPPORTED"),
        ("DIGEST_INVALID", _A): WireCode(400, "DIGEST_INVALID"),
    }
)
"""(service or OCI code, concern) → wire code; :data:`Concern.ANY` rows are the fallback."""

UNKNOWN = WireCode(500, "UNKNOWN")


@dataclass(eq=False)
class V2Error(Exception):
    """A failure found by the ``/v2/`` layer itself (bad URL, header or query)."""

    status: int
    code: str
    message: str
    detail: object = None
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


def _lookup(codes: list[str], concern: Concern) -> WireCode:
    for code in codes:
        found = ERROR_TABLE.get((code, concern)) or ERROR_TABLE.get((code, Concern.ANY))
        if found is not None:
            return found
    return UNKNOWN


def _service_codes(error: ServiceError) -> list[str]:
    codes = [error.code]
    for cls in type(error).__mro__:
        code = getattr(cls, "code", None)
        if isinstance(code, str) and code not in codes:
            codes.append(code)
    return codes


def to_v2_error(error: Exception, concern: Concern) -> V2Error:
    """The wire form of any failure of a ``/v2/`` request."""
    if isinstance(error, V2Error):
        return error
    if isinstance(error, StorageUnavailableError):
        retry = {RETRY_AFTER: str(error.retry_after)}  # docs/deploy.md, api/unavailable.py
        return V2Error(503, "UNAVAILABLE", unavailable_message(error), headers=retry)
    if isinstance(error, ClientDisconnect):
        return V2Error(400, "BLOB_UPLOAD_INVALID", "the client disconnected during the upload")
    if isinstance(error, ManifestInvalidError):
        wire = _lookup([error.oci_code], concern)
        return V2Error(wire.status, wire.code, error.detail)
    if isinstance(error, OciError):
        wire = _lookup([error.code], concern)
        return V2Error(wire.status, wire.code, error.message)
    if isinstance(error, ServiceError):
        wire = _lookup(_service_codes(error), concern)
        headers = {}
        if isinstance(error, InvalidLayerPartError):
            headers["Range"] = f"0-{max(error.last_valid_byte_received, 0)}"
        if isinstance(error, BlobReferencedError):
            headers["Allow"] = "GET, HEAD"  # RFC 9110: a 405 lists what the resource allows
        return V2Error(wire.status, wire.code, wire.message or error.message, headers=headers)
    _log.exception("unexpected failure of a /v2/ request", exc_info=error)
    return V2Error(UNKNOWN.status, UNKNOWN.code, "an internal error occurred in crossdock")


def failure_error(failure: ImageFailure, concern: Concern = Concern.MANIFEST) -> V2Error:
    """The wire form of one failed ``imageId`` of a batch call (BatchDeleteImage)."""
    wire = _lookup([failure.code.value], concern)
    return V2Error(wire.status, wire.code, failure.reason)


def error_response(error: V2Error, head: bool = False) -> Response:
    """The JSON error response (no body for HEAD; the length is still announced)."""
    entry: dict[str, object] = {"code": error.code, "message": error.message}
    if error.detail is not None:
        entry["detail"] = error.detail
    body = json.dumps({"errors": [entry]}, separators=(",", ":")).encode()
    headers = {API_VERSION_HEADER[0]: API_VERSION_HEADER[1], **error.headers}
    if head:
        headers["Content-Length"] = str(len(body))
        return Response(b"", error.status, headers, media_type=JSON_TYPE)
    return Response(body, error.status, headers, media_type=JSON_TYPE)
