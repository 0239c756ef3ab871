"""``EcrProtocol``: the AWS JSON 1.1 wire protocol of Amazon ECR.

``X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Op>`` names the operation; the body
is JSON; the answer is JSON with ``Content-Type: application/x-amz-json-1.1`` and
``x-amzn-RequestId``. Timestamps are epoch seconds and blobs base64, as botocore expects.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any

from starlette.responses import Response

from crossdock.api.context import CallContext
from crossdock.api.ecr.errors import (
    WireError,
    error_response,
    json_response,
    server_error,
    wire_error,
)
from crossdock.api.ecr.model import EcrModel
from crossdock.api.ecr.operations import OPERATIONS
from crossdock.api.ecr.services import EcrServices
from crossdock.api.ecr.validation import SerializationError, Validator
from crossdock.api.unavailable import unavailable_message, with_retry_after
from crossdock.api.wire import ApiRequest
from crossdock.service.ecr.common import Actor
from crossdock.service.errors import ServiceError
from crossdock.storage.errors import StorageUnavailableError

_log = logging.getLogger(__name__)


class UnknownOperationError(ServiceError):
    """The target names no ECR operation."""

    code = "UnknownOperationException"


class UnsupportedOperationError(ServiceError):
    """A real ECR operation crossdock does not implement (yet)."""

    code = "UnsupportedOperation"


class EcrProtocol:
    """The :class:`crossdock.api.wire.WireProtocol` for ECR."""

    def __init__(self, services: EcrServices, model: EcrModel | None = None) -> None:
        self._services = services
        self._model = model or EcrModel.load()
        self._validator = Validator(self._model)
        self._prefix = self._model.target_prefix + "."

    @property
    def model(self) -> EcrModel:
        """The botocore model the protocol validates against."""
        return self._model

    def handle(self, ctx: CallContext, request: ApiRequest) -> Response:
        """Dispatch on ``X-Amz-Target``, validate, run, render (errors through one table)."""
        try:
            operation = self._operation(request.headers.get("x-amz-target", ""))
            params = self._validator.validate(operation, _decode(request.body))
            handler = OPERATIONS[operation]
            # The operation and its parameters go to the decision trail with the request.
            info = replace(ctx.info, operation=operation, parameters=params)
            result = handler(self._services, Actor(ctx.principal, info), params)
        except ServiceError as error:
            return self.error_response(error, ctx.request_id)
        except StorageUnavailableError as error:
            return self.unavailable_response(error, ctx.request_id)
        except Exception:
            _log.exception("ECR %s failed", request.headers.get("x-amz-target"))
            return error_response(server_error(), ctx.request_id)
        return json_response(200, result, ctx.request_id)

    def error_response(self, error: ServiceError, request_id: str) -> Response:
        """Render ``error`` per the ECR error table."""
        return error_response(wire_error(error), request_id)

    def unavailable_response(self, error: StorageUnavailableError, request_id: str) -> Response:
        """HTTP 500 ``ServerException`` with ``Retry-After`` (``api/unavailable.py``)."""
        wire = WireError(500, "ServerException", unavailable_message(error), {})
        return with_retry_after(error_response(wire, request_id), error)

    def _operation(self, target: str) -> str:
        name = target[len(self._prefix) :] if target.startswith(self._prefix) else None
        if name is None or name not in self._model.operations:
            raise UnknownOperationError(f"Unknown operation: {target or '(no X-Amz-Target)'}")
        if name not in OPERATIONS:
            raise UnsupportedOperationError(
                f"crossdock does not implement the ECR operation {name}; "
                "see docs/ecr-api.md for the supported operations"
            )
        return name


def _decode(body: bytes) -> Any:
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise SerializationError("the request body is not valid JSON") from None
