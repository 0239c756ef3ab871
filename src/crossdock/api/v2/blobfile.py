"""A committed blob file as the GET response body, with as few worker-thread hops as possible.

Starlette's ``FileResponse`` stats the file in a worker thread, then opens, reads (64 KiB
per step) and closes it in worker threads, one hop each. On a 2-core machine that held a
1 GiB GET to about 600 MiB/s and cost three hops for every small blob. Here:

* a small blob (up to :data:`INLINE_LIMIT`) is read on the event loop in one call (a page
  cache read of a few microseconds) and sent as a plain response: no hop at all;
* a larger one goes out as a ``FileResponse`` that reads 1 MiB per hop, with the ``stat``
  taken up front (1.8-2.7 GiB/s for 1 GiB; docs/performance.md). With the ASGI
  ``http.response.pathsend`` extension (granian, for one) the server sends the file itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from starlette.responses import FileResponse, Response

CHUNK = 1024 * 1024
INLINE_LIMIT = 256 * 1024
"""Blobs up to this size are read whole on the event loop."""


class BlobFileResponse(FileResponse):
    """``FileResponse`` reading 1 MiB per step (ranges, HEAD and pathsend as Starlette's)."""

    chunk_size = CHUNK


def blob_file_response(path: Path, headers: Mapping[str, str], media_type: str) -> Response:
    """The 200 response carrying the whole file; FileNotFoundError at once if it is gone."""
    info = os.stat(path)
    if info.st_size <= INLINE_LIMIT:
        return Response(path.read_bytes(), 200, headers, media_type=media_type)
    return BlobFileResponse(path, headers=headers, media_type=media_type, stat_result=info)
