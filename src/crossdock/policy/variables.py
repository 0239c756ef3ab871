"""Policy variables: ``${aws:username}``, ``${key, 'default'}``, ``${*}``, ``${?}``, ``${$}``.

A string that may hold variables is parsed once into a :class:`Template`. At request
time :func:`resolve` turns it into pieces of text, each marked as glob text (where
``*`` and ``?`` are wildcards) or literal text (substituted values and the escapes
``${*}``, ``${?}``, ``${$}``, which never act as wildcards).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

ContextValue = str | tuple[str, ...]
Context = Mapping[str, ContextValue]
"""Request context keyed by lower-cased condition key."""

_ESCAPES = {"*": "*", "?": "?", "$": "$"}
_WITH_DEFAULT = re.compile(r"^\s*([^,\s]+)\s*,\s*'([^']*)'\s*$")
_PLAIN = re.compile(r"^\s*([^,\s'{}$]+)\s*$")


@dataclass(frozen=True, slots=True)
class Variable:
    """A ``${key}`` or ``${key, 'default'}`` reference; ``key`` is lower-cased."""

    key: str
    default: str | None


@dataclass(frozen=True, slots=True)
class Literal:
    """Text that is compared literally even inside a glob (``${*}`` and friends)."""

    text: str


Piece = str | Literal | Variable
"""A template piece: plain ``str`` is glob text; Literal and Variable are not."""


@dataclass(frozen=True, slots=True)
class Template:
    """A string split into glob text, literal escapes and variable references."""

    source: str
    pieces: tuple[Piece, ...]

    @property
    def is_plain(self) -> bool:
        """True when the whole string is glob text: no variables and no ``${*}``-style escapes."""
        return all(isinstance(piece, str) for piece in self.pieces)

    @property
    def has_variables(self) -> bool:
        """True when resolving needs the request context."""
        return any(isinstance(piece, Variable) for piece in self.pieces)


def parse_template(text: str, *, variables_enabled: bool) -> Template:
    """Split ``text`` into pieces; with variables disabled (Version 2008) it is all glob text."""
    if not variables_enabled or "${" not in text:
        return Template(text, (text,) if text else ())
    pieces: list[Piece] = []
    plain: list[str] = []
    position = 0
    while position < len(text):
        start = text.find("${", position)
        end = text.find("}", start + 2) if start >= 0 else -1
        if start < 0 or end < 0:
            plain.append(text[position:])
            break
        plain.append(text[position:start])
        piece = _parse_reference(text[start + 2 : end])
        if piece is None:
            plain.append(text[start : end + 1])
        else:
            if plain:
                pieces.append("".join(plain))
                plain = []
            pieces.append(piece)
        position = end + 1
    if "".join(plain):
        pieces.append("".join(plain))
    return Template(text, tuple(pieces))


def _parse_reference(inner: str) -> Literal | Variable | None:
    if inner in _ESCAPES:
        return Literal(_ESCAPES[inner])
    with_default = _WITH_DEFAULT.match(inner)
    if with_default:
        return Variable(with_default.group(1).lower(), with_default.group(2))
    plain = _PLAIN.match(inner)
    if plain:
        return Variable(plain.group(1).lower(), None)
    return None


def resolve(template: Template, context: Context) -> tuple[Piece, ...] | None:
    """Substitute variables from ``context``; None when one is unresolved and has no default.

    Substituted values come back as :class:`Literal` pieces. A multivalued key cannot
    be substituted and counts as unresolved.
    """
    if not template.has_variables:
        return template.pieces
    resolved: list[Piece] = []
    for piece in template.pieces:
        if isinstance(piece, Variable):
            value = context.get(piece.key)
            if isinstance(value, str):
                resolved.append(Literal(value))
            elif piece.default is not None:
                resolved.append(Literal(piece.default))
            else:
                return None
        else:
            resolved.append(piece)
    return tuple(resolved)


def flatten(pieces: tuple[Piece, ...]) -> str:
    """Join resolved pieces into the plain string they stand for."""
    return "".join(piece if isinstance(piece, str) else _text(piece) for piece in pieces)


def _text(piece: Literal | Variable) -> str:
    return piece.text if isinstance(piece, Literal) else ""


def to_chunks(pieces: tuple[Piece, ...]) -> list[tuple[str, bool]]:
    """Resolved pieces as (text, is_glob) chunks for the wildcard compiler."""
    return [(p, True) if isinstance(p, str) else (_text(p), False) for p in pieces]
