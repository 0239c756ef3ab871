"""What every protocol says when a backing service is unreachable, and the retry hint.

A :class:`~crossdock.storage.errors.StorageUnavailableError` (the metadata database or the
object store cannot be reached) is a temporary server fault. Each protocol answers it in
its own form, always with ``Retry-After`` (seconds), and the server keeps serving:

* ECR (JSON 1.1, ``api/ecr/protocol.py``): HTTP 500 ``ServerException``, ECR's only server
  fault;
* IAM and STS (Query, ``api/query/protocol.py``): HTTP 503 ``ServiceUnavailable``, as AWS's
  Query APIs answer;
* ``/v2/`` (``api/v2/errors.py``): HTTP 503 ``UNAVAILABLE``: not among the OCI distribution
  spec's codes, but the one CNCF distribution (the spec's reference implementation)
  registers for exactly this (``errcode.ErrorCodeUnavailable``).

The message names the service, never the driver's text (it may carry host names).
"""

from __future__ import annotations

from starlette.responses import Response

from crossdock.storage.errors import StorageUnavailableError

RETRY_AFTER = "Retry-After"


def unavailable_message(error: StorageUnavailableError) -> str:
    """What the client is told: which service, and to retry."""
    return f"The {error.service} is temporarily unavailable. Retry the request."


def with_retry_after(response: Response, error: StorageUnavailableError) -> Response:
    """``response`` with ``Retry-After: <seconds>``."""
    response.headers[RETRY_AFTER] = str(error.retry_after)
    return response
