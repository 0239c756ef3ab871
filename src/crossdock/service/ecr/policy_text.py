"""Repository policy text as ECR stores and returns it, and its principal rewriting.

ECR does not echo ``policyText``: it re-serializes the document with Jackson's default
pretty printer (spec §5.1)::

    {
      "Version" : "2008-10-17",
      "Statement" : [ {
        "Sid" : "x",
        "Effect" : "Allow",
        "Principal" : "*",
        "Action" : [ "ecr:A", "ecr:B" ]
      } ]
    }

Objects break lines and indent two spaces per object level; arrays stay on one line
(``[ a, b ]``) and do not add a level; keys are separated by `` : ``; empty containers are
``{ }`` and ``[ ]``. Key order and value shapes are kept as given.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any


def jackson_dumps(value: Any) -> str:
    """Serialize decoded JSON the way Jackson's ``DefaultPrettyPrinter`` does."""
    return "".join(_emit(value, 0))


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _emit(value: Any, nesting: int) -> Iterator[str]:
    if isinstance(value, dict):
        if not value:
            yield "{ }"
            return
        inner = "\n" + "  " * (nesting + 1)
        yield "{"
        for position, (key, item) in enumerate(value.items()):
            yield ("," if position else "") + inner + json.dumps(key, ensure_ascii=False) + " : "
            yield from _emit(item, nesting + 1)
        yield "\n" + "  " * nesting + "}"
    elif isinstance(value, list):
        if not value:
            yield "[ ]"
            return
        yield "[ "
        for position, item in enumerate(value):
            if position:
                yield ", "
            yield from _emit(item, nesting)
        yield " ]"
    else:
        yield _scalar(value)


PrincipalMap = Callable[[str], str]


def rewrite_principals(raw: Any, convert: PrincipalMap, *, include_not_principal: bool) -> Any:
    """A copy of a decoded policy with every ``AWS`` principal value passed through ``convert``.

    ``NotPrincipal`` values are converted only when ``include_not_principal`` is true.
    """
    if not isinstance(raw, dict):
        return raw
    out = dict(raw)
    body = raw.get("Statement")
    statements = body if isinstance(body, list) else [body]
    converted = [
        _statement(s, convert, include_not_principal) if isinstance(s, dict) else s
        for s in statements
    ]
    out["Statement"] = converted if isinstance(body, list) else converted[0]
    return out


def _statement(statement: dict[str, Any], convert: PrincipalMap, with_not: bool) -> dict[str, Any]:
    out = dict(statement)
    elements = ("Principal", "NotPrincipal") if with_not else ("Principal",)
    for element in elements:
        spec = statement.get(element)
        if isinstance(spec, dict) and "AWS" in spec:
            values = spec["AWS"]
            new = dict(spec)
            if isinstance(values, list):
                new["AWS"] = [convert(v) if isinstance(v, str) else v for v in values]
            elif isinstance(values, str):
                new["AWS"] = convert(values)
            out[element] = new
    return out


def aws_principal_values(raw: Any) -> list[str]:
    """Every ``AWS`` value of every ``Principal`` and ``NotPrincipal`` of a decoded policy."""
    found: list[str] = []

    def collect(value: str) -> str:
        found.append(value)
        return value

    rewrite_principals(raw, collect, include_not_principal=True)
    return found
