"""The AWS Query protocol (IAM and STS): form body in, XML out.

The SigV4 credential scope's service picks the operation table (``iam`` or ``sts``); the
form's ``Action`` picks the operation. Parameters are read and checked against
botocore's model of the operation, results are written in its shapes, and every error
goes through the one table of :mod:`crossdock.api.query.errors`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl

from botocore.loaders import create_loader
from botocore.model import OperationModel, ServiceModel
from starlette.responses import Response

from crossdock.api.context import CallContext
from crossdock.api.query.errors import (
    IAM_NAMESPACE,
    INTERNAL_FAILURE,
    STS_NAMESPACE,
    WireError,
    error_body,
    error_response,
    xml_response,
)
from crossdock.api.query.iam_ops import IAM_OPERATIONS
from crossdock.api.query.shapes import ParsedValue, parse_input, render_output
from crossdock.api.query.sts_ops import STS_OPERATIONS
from crossdock.api.unavailable import unavailable_message, with_retry_after
from crossdock.api.wire import ApiRequest
from crossdock.service.errors import InvalidParameterError, ServiceError
from crossdock.service.identities import IdentityService
from crossdock.service.sts import StsService
from crossdock.storage.errors import StorageUnavailableError

_log = logging.getLogger(__name__)

Operation = Callable[[CallContext, Mapping[str, ParsedValue]], dict[str, Any] | None]


@dataclass(frozen=True, slots=True)
class _QueryService:
    """One Query service: its model, XML namespace and operations."""

    model: ServiceModel
    namespace: str
    operations: Mapping[str, Operation]

    def operation(self, action: str | None, version: str | None) -> OperationModel:
        """The model of ``action``; MissingAction or InvalidAction when there is none."""
        if not action:
            raise InvalidParameterError(
                "The request is missing an action or a required parameter.", code="MissingAction"
            )
        api_version = self.model.api_version
        if action not in self.operations or (version is not None and version != api_version):
            raise InvalidParameterError(
                f"Could not find operation {action} for version {version or api_version}",
                code="InvalidAction",
            )
        return self.model.operation_model(action)


def _form(body: bytes) -> dict[str, str]:
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
    except (UnicodeDecodeError, ValueError) as error:
        raise InvalidParameterError(
            "The request body is not a valid application/x-www-form-urlencoded form.",
            code="MalformedQueryString",
        ) from error
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:
            raise InvalidParameterError(
                f"The parameter {key} appears more than once.", code="MalformedQueryString"
            )
        form[key] = value
    return form


class QueryProtocol:
    """The ``WireProtocol`` for IAM and STS."""

    def __init__(self, iam: IdentityService, sts: StsService) -> None:
        loader = create_loader()

        def model(name: str) -> ServiceModel:
            """botocore's model of the service ``name``."""
            return ServiceModel(loader.load_service_model(name, "service-2"), service_name=name)

        self._services: dict[str, _QueryService] = {
            "iam": _QueryService(
                model("iam"),
                IAM_NAMESPACE,
                {name: functools.partial(op, iam) for name, op in IAM_OPERATIONS.items()},
            ),
            "sts": _QueryService(
                model("sts"),
                STS_NAMESPACE,
                {name: functools.partial(op, sts) for name, op in STS_OPERATIONS.items()},
            ),
        }

    @property
    def operations(self) -> dict[str, tuple[str, ...]]:
        """The served operations, by service (``{"iam": (...), "sts": (...)}``)."""
        return {name: tuple(svc.operations) for name, svc in self._services.items()}

    def handle(self, ctx: CallContext, request: ApiRequest) -> Response:
        """Run the operation the form names and render its XML answer (or error)."""
        service = self._services.get(request.service)
        namespace = service.namespace if service is not None else IAM_NAMESPACE
        try:
            form = _form(request.body)
            if service is None:
                raise InvalidParameterError(
                    f"Could not find operation {form.get('Action', '')} for service"
                    f" {request.service}",
                    code="InvalidAction",
                )
            operation = service.operation(form.get("Action"), form.get("Version"))
            params = parse_input(form, operation.input_shape)
            # The operation and its parameters go to the decision trail with the request.
            info = replace(ctx.info, operation=operation.name, parameters=params)
            call = CallContext(ctx.principal, info, ctx.request_id)
            result = service.operations[operation.name](call, params)
            body = _result_body(operation, result, namespace, ctx.request_id)
            return xml_response(body, 200, ctx.request_id)
        except ServiceError as error:
            return error_response(error, namespace, ctx.request_id)
        except StorageUnavailableError as error:
            return _unavailable(error, namespace, ctx.request_id)
        except Exception:
            _log.exception("internal failure in a Query request (request id %s)", ctx.request_id)
            failure = ServiceError("internal failure", code=INTERNAL_FAILURE)
            return error_response(failure, namespace, ctx.request_id)

    def error_response(self, error: ServiceError, request_id: str) -> Response:
        """Render an error raised before the operation ran (authentication, size, ...)."""
        return error_response(error, IAM_NAMESPACE, request_id)

    def unavailable_response(self, error: StorageUnavailableError, request_id: str) -> Response:
        """HTTP 503 ``ServiceUnavailable`` with ``Retry-After`` (``api/unavailable.py``)."""
        return _unavailable(error, IAM_NAMESPACE, request_id)


def _unavailable(error: StorageUnavailableError, namespace: str, request_id: str) -> Response:
    wire = WireError("ServiceUnavailable", 503, unavailable_message(error))
    body = error_body(wire, namespace, request_id)
    return with_retry_after(xml_response(body, wire.status, request_id), error)


def _result_body(
    operation: OperationModel, result: dict[str, Any] | None, namespace: str, request_id: str
) -> str:
    name = operation.name
    inner = ""
    output = operation.output_shape
    if output is not None:
        wrapper = output.serialization.get("resultWrapper", f"{name}Result")
        inner = f"<{wrapper}>{render_output(output, result or {})}</{wrapper}>"
    return (
        f'<{name}Response xmlns="{namespace}">{inner}'
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        f"</{name}Response>"
    )
