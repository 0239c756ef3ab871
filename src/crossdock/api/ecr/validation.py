"""Request validation from the model: what botocore does not check reaches the server.

botocore checks required members, types and minimums client-side; maximum lengths, enums,
patterns and numeric maximums are checked here, with ECR's ``InvalidParameterException``
text (spec §1.4). A value of the wrong JSON type is a ``SerializationException``, as AWS
JSON services answer.
"""

from __future__ import annotations

import base64
import binascii
import re
from functools import lru_cache
from typing import Any

from crossdock.api.ecr.model import EcrModel
from crossdock.service.ecr.errors import invalid_parameter
from crossdock.service.errors import ServiceError


class SerializationError(ServiceError):
    """The body is not JSON, or a value has the wrong JSON type."""

    code = "SerializationException"


@lru_cache(maxsize=256)
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text)


def _length_reason(shape: dict[str, Any], length: int) -> str | None:
    if "min" in shape and length < shape["min"]:
        return f"must have length greater than or equal to {shape['min']}"
    if "max" in shape and length > shape["max"]:
        return f"must have length less than or equal to {shape['max']}"
    return None


def _member_reason(reason: str) -> str:
    """A list member's reason, as AWS words it (``Member must satisfy ...``)."""
    if reason.startswith("must satisfy regular expression"):
        pattern = reason.split("'", 2)[1]
        return f"Member must satisfy regular expression pattern: {pattern}"
    return "Member " + reason


class Validator:
    """Validates (and decodes blobs of) a request body against an input shape."""

    def __init__(self, model: EcrModel) -> None:
        self._model = model

    def validate(self, operation: str, body: Any) -> dict[str, Any]:
        """The body with blobs decoded; raise SerializationError / InvalidParameterError."""
        if not isinstance(body, dict):
            raise SerializationError("the request body must be a JSON object")
        name = self._model.input_shape(operation)
        if name is None:
            return {}
        checked = self._value(name, body, "")
        assert isinstance(checked, dict)
        return checked

    def _value(self, shape_name: str, value: Any, path: str) -> Any:
        shape = self._model.shape(shape_name)
        kind = shape["type"]
        if value is None:
            return None
        checker = getattr(self, f"_{kind}", None)
        if checker is None:
            return value
        return checker(shape, value, path)

    def _structure(self, shape: dict[str, Any], value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise SerializationError(f"`{path or 'body'}` must be a JSON object")
        for required in shape.get("required", ()):
            if value.get(required) is None:
                raise invalid_parameter(_join(path, required), "Member must not be null")
        out: dict[str, Any] = {}
        for member, item in value.items():
            spec = shape["members"].get(member)
            if spec is None:
                continue  # AWS JSON services ignore members they do not know
            out[member] = self._value(spec["shape"], item, _join(path, member))
        return out

    def _list(self, shape: dict[str, Any], value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise SerializationError(f"`{path}` must be a JSON array")
        reason = _length_reason(shape, len(value))
        if reason is not None:
            raise invalid_parameter(path, reason)
        member = shape["member"]["shape"]
        member_shape = self._model.shape(member)
        out = []
        for item in value:
            if member_shape["type"] == "string":
                problem = self._string_problem(member_shape, item, path)
                if problem is not None:
                    reason = f"Member must satisfy constraint: [{_member_reason(problem)}]"
                    raise invalid_parameter(path, reason)
                out.append(item)
            else:
                out.append(self._value(member, item, path))
        return out

    def _map(self, shape: dict[str, Any], value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise SerializationError(f"`{path}` must be a JSON object")
        return {k: self._value(shape["value"]["shape"], v, path) for k, v in value.items()}

    def _string_problem(self, shape: dict[str, Any], value: Any, path: str) -> str | None:
        if not isinstance(value, str):
            raise SerializationError(f"`{path}` must be a string")
        reason = _length_reason(shape, len(value))
        if reason is not None:
            return reason
        if "enum" in shape and value not in shape["enum"]:
            return f"must satisfy enum value set: [{', '.join(shape['enum'])}]"
        pattern = shape.get("pattern")
        if pattern is not None and _pattern(pattern).fullmatch(value) is None:
            return f"must satisfy regular expression '{pattern}'"
        return None

    def _string(self, shape: dict[str, Any], value: Any, path: str) -> str:
        problem = self._string_problem(shape, value, path)
        if problem is not None:
            raise invalid_parameter(path, problem)
        assert isinstance(value, str)
        return value

    def _number(self, shape: dict[str, Any], value: Any, path: str) -> int:
        if type(value) is not int:
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise SerializationError(f"`{path}` must be an integer")
        if "min" in shape and value < shape["min"]:
            raise invalid_parameter(path, f"must be greater than or equal to {shape['min']}")
        if "max" in shape and value > shape["max"]:
            raise invalid_parameter(path, f"must be less than or equal to {shape['max']}")
        return int(value)

    _integer = _number
    _long = _number

    def _boolean(self, shape: dict[str, Any], value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise SerializationError(f"`{path}` must be a boolean")
        return value

    def _blob(self, shape: dict[str, Any], value: Any, path: str) -> bytes:
        if not isinstance(value, str):
            raise SerializationError(f"`{path}` must be a base64 string")
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise SerializationError(f"`{path}` is not valid base64") from None
        reason = _length_reason(shape, len(data))
        if reason is not None:
            raise invalid_parameter(path, reason)
        return data


def _join(path: str, member: str) -> str:
    return f"{path}.{member}" if path else member
