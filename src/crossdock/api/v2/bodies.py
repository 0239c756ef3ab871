"""Request bodies: bounded reads for manifests, and streaming into a worker thread for blobs.

A blob body never sits whole in memory: :class:`BodyChunks` is a plain iterator that the
upload engine consumes in a worker thread; each step hops back to the event loop for the
next batch (up to :data:`BATCH` bytes), so memory stays bounded and the hop is paid once
per batch rather than once per network read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from anyio import from_thread
from starlette.requests import Request

from crossdock.api.v2.errors import V2Error

BATCH = 1024 * 1024


async def read_limited(request: Request, limit: int) -> bytes:
    """The whole body, or 413 ``SIZE_INVALID`` as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise V2Error(413, "SIZE_INVALID", f"the body is larger than the limit of {limit} bytes")
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise V2Error(
                413, "SIZE_INVALID", f"the body is larger than the limit of {limit} bytes"
            )
        parts.append(chunk)
    return b"".join(parts)


def has_body(request: Request) -> bool:
    """True when the request announces a non-empty body (or a chunked one)."""
    length = request.headers.get("content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return "chunked" in request.headers.get("transfer-encoding", "").lower()


class BodyChunks:
    """The request body as a synchronous iterator, for code running in a worker thread.

    Iterate it only from a thread started by ``run_in_threadpool`` (anyio's worker
    threads): each batch is fetched on the event loop with ``anyio.from_thread.run``.
    ``received`` counts the bytes handed out.
    """

    def __init__(self, request: Request) -> None:
        self._stream: AsyncIterator[bytes] = request.stream().__aiter__()
        self._finished = False
        self.received = 0

    async def _batch(self) -> list[bytes]:
        parts: list[bytes] = []
        size = 0
        while size < BATCH:
            try:
                chunk = await self._stream.__anext__()
            except StopAsyncIteration:
                self._finished = True
                break
            if chunk:
                parts.append(chunk)
                size += len(chunk)
        return parts

    def __iter__(self) -> Iterator[bytes]:
        while not self._finished:
            for part in from_thread.run(self._batch):
                self.received += len(part)
                yield part
