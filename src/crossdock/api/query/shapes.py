"""The Query protocol's shapes, driven by botocore's own service models.

:func:`parse_input` reads a form (``Tags.member.1.Key=...``) into a dict shaped like the
operation's input, and checks what IAM and STS check before anything else: required
members, lengths, value ranges, enums and patterns, reported as one ``ValidationError``
in AWS's words (``1 validation error detected: Value 'x' at 'userName' failed to
satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+``).

:func:`render_output` writes a result dict as the XML botocore's query parser reads:
members in model order, lists as ``<member>`` elements, ISO-8601 timestamps.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from botocore.model import ListShape, MapShape, Shape, StructureShape

from crossdock.service.errors import InvalidParameterError

ParsedValue = Any
"""What a form value becomes: str, int, bool, list or dict (shaped by the model)."""


class _Errors:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, value: object, path: str, constraint: str) -> None:
        """Record that ``value`` at ``path`` fails ``constraint``."""
        shown = "null" if value is None else f"'{value}'"
        self.messages.append(
            f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}"
        )

    def raise_if_any(self) -> None:
        """Raise one ValidationError listing every recorded problem."""
        count = len(self.messages)
        if count:
            plural = "s" if count > 1 else ""
            raise InvalidParameterError(
                f"{count} validation error{plural} detected: " + "; ".join(self.messages),
                code="ValidationError",
            )


def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


@functools.lru_cache(maxsize=512)
def _pattern(java: str) -> re.Pattern[str] | None:
    """A Python regex for a model pattern; None when it uses Java-only syntax (``\\p{L}``)."""
    if "\\p{" in java:
        return None
    python = re.sub(r"\\u([0-9A-Fa-f]{5,6})", lambda m: "\\U" + m.group(1).rjust(8, "0"), java)
    try:
        return re.compile(python, re.ASCII)
    except re.error:
        return None


def parse_input(form: Mapping[str, str], shape: StructureShape | None) -> dict[str, ParsedValue]:
    """The operation's parameters from ``form``; ValidationError when they do not conform."""
    if shape is None:
        return {}
    errors = _Errors()
    result = _structure(form, "", shape, errors, "")
    errors.raise_if_any()
    return result


def _key(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _structure(
    form: Mapping[str, str], prefix: str, shape: StructureShape, errors: _Errors, path: str
) -> dict[str, ParsedValue]:
    result: dict[str, ParsedValue] = {}
    for name, member in shape.members.items():
        key = _key(prefix, member.serialization.get("name", name))
        where = _key(path, _lower_camel(name))
        value = _value(form, key, member, errors, where)
        if value is None:
            if name in shape.required_members:
                errors.add(None, where, "Member must not be null")
            continue
        result[name] = value
    return result


def _present(form: Mapping[str, str], key: str) -> bool:
    if key in form:
        return True
    dotted = key + "."
    return any(name.startswith(dotted) for name in form)


def _value(
    form: Mapping[str, str], key: str, shape: Shape, errors: _Errors, path: str
) -> ParsedValue | None:
    kind = shape.type_name
    if kind == "structure":
        if not _present(form, key):
            return None
        return _structure(form, key, shape, errors, path)
    if kind == "list":
        return _list(form, key, shape, errors, path)
    if kind == "map":
        return _map(form, key, shape, errors, path)
    raw = form.get(key)
    if raw is None:
        return None
    return _scalar(raw, shape, errors, path)


def _list(
    form: Mapping[str, str], key: str, shape: ListShape, errors: _Errors, path: str
) -> list[ParsedValue] | None:
    member_name = shape.member.serialization.get("name")
    if shape.serialization.get("flattened"):
        base = key if member_name is None else ".".join([*key.split(".")[:-1], member_name])
    else:
        base = f"{key}.{member_name or 'member'}"
    if not _present(form, base):
        return [] if form.get(key) == "" else None  # botocore sends an empty list as `Key=`
    items: list[ParsedValue] = []
    index = 1
    while _present(form, f"{base}.{index}"):
        where = f"{path}.{index}.member"
        item = _value(form, f"{base}.{index}", shape.member, errors, where)
        if item is not None:
            items.append(item)
        index += 1
    _check_length(items, len(items), shape, errors, path)
    return items


def _map(
    form: Mapping[str, str], key: str, shape: MapShape, errors: _Errors, path: str
) -> dict[str, ParsedValue] | None:
    if not _present(form, key):
        return None
    base = key if shape.serialization.get("flattened") else f"{key}.entry"
    result: dict[str, ParsedValue] = {}
    index = 1
    while _present(form, f"{base}.{index}"):
        name = form.get(f"{base}.{index}.key")
        value = _value(form, f"{base}.{index}.value", shape.value, errors, f"{path}.{index}")
        if name is not None:
            result[name] = value
        index += 1
    return result


def _scalar(raw: str, shape: Shape, errors: _Errors, path: str) -> ParsedValue | None:
    kind = shape.type_name
    if kind in ("integer", "long"):
        try:
            number = int(raw)
        except ValueError:
            errors.add(raw, path, "Member must be an integer")
            return None
        _check_range(number, shape, errors, path)
        return number
    if kind == "boolean":
        if raw not in ("true", "false"):
            errors.add(raw, path, "Member must be a boolean (true or false)")
            return None
        return raw == "true"
    if kind == "timestamp":
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            errors.add(raw, path, "Member must be an ISO-8601 timestamp")
            return None
    _check_string(raw, shape, errors, path)
    return raw


def _check_length(value: object, length: int, shape: Shape, errors: _Errors, path: str) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and length < low:
        errors.add(value, path, f"Member must have length greater than or equal to {low}")
    elif high is not None and length > high:
        errors.add(value, path, f"Member must have length less than or equal to {high}")


def _check_range(number: int, shape: Shape, errors: _Errors, path: str) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and number < low:
        errors.add(number, path, f"Member must have value greater than or equal to {low}")
    elif high is not None and number > high:
        errors.add(number, path, f"Member must have value less than or equal to {high}")


def _check_string(raw: str, shape: Shape, errors: _Errors, path: str) -> None:
    before = len(errors.messages)
    _check_length(raw, len(raw), shape, errors, path)
    if len(errors.messages) > before:
        return
    enum = shape.metadata.get("enum")
    if enum and raw not in enum:
        errors.add(raw, path, f"Member must satisfy enum value set: [{', '.join(enum)}]")
        return
    pattern = shape.metadata.get("pattern")
    compiled = _pattern(pattern) if pattern else None
    if compiled is not None and not compiled.fullmatch(raw):
        errors.add(raw, path, f"Member must satisfy regular expression pattern: {pattern}")


# --- rendering ----------------------------------------------------------------------------


def iso_timestamp(moment: datetime) -> str:
    """``2024-01-02T03:04:05Z``: how IAM and STS write timestamps."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_output(shape: StructureShape, value: Mapping[str, ParsedValue]) -> str:
    """The members of a result structure as XML elements (no wrapper)."""
    return "".join(_render_members(shape, value))


def _render_members(shape: StructureShape, value: Mapping[str, ParsedValue]) -> list[str]:
    unknown = set(value) - set(shape.members)
    if unknown:
        raise ValueError(f"`{shape.name}` has no member {sorted(unknown)}")
    parts: list[str] = []
    for name, member in shape.members.items():
        if name in value and value[name] is not None:
            tag = member.serialization.get("name", name)
            parts.append(_render(tag, member, value[name]))
    return parts


def _render(tag: str, shape: Shape, value: ParsedValue) -> str:
    kind = shape.type_name
    if kind == "structure":
        return f"<{tag}>{''.join(_render_members(shape, value))}</{tag}>"
    if kind == "list":
        member_tag = shape.member.serialization.get("name")
        if shape.serialization.get("flattened"):
            return "".join(_render(member_tag or tag, shape.member, item) for item in value)
        items = "".join(_render(member_tag or "member", shape.member, item) for item in value)
        return f"<{tag}>{items}</{tag}>"
    if kind == "map":
        entries = "".join(
            f"<entry>{_render('key', shape.key, k)}{_render('value', shape.value, v)}</entry>"
            for k, v in value.items()
        )
        return f"<{tag}>{entries}</{tag}>"
    if kind == "boolean":
        text = "true" if value else "false"
    elif kind == "timestamp":
        text = iso_timestamp(value)
    else:
        text = escape(str(value))
    return f"<{tag}>{text}</{tag}>"
