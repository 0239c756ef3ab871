"""The ``Range`` (blob GET) and ``Content-Range`` (chunked PATCH) headers: parse, never crash.

Both parsers take the raw header text and return a value or None for anything they do not
accept; neither raises, whatever the input (a Hypothesis test holds them to that).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BYTES_RANGE = re.compile(r"bytes=([0-9]{0,19})-([0-9]{0,19})")
_CHUNK_RANGE = re.compile(r"(?:bytes[ =])?([0-9]{1,19})-([0-9]{1,19})(?:/(?:[0-9]{1,19}|\*))?")


@dataclass(frozen=True, slots=True)
class ByteRange:
    """An inclusive byte range ``first``..``last``."""

    first: int
    last: int

    @property
    def length(self) -> int:
        """How many bytes the range covers."""
        return self.last - self.first + 1


class Unsatisfiable:
    """A well-formed ``Range`` that selects no byte of the blob (answer 416)."""

    __slots__ = ()


UNSATISFIABLE = Unsatisfiable()


def parse_range(header: str, size: int) -> ByteRange | Unsatisfiable | None:
    """Read a single ``bytes=`` range of a blob of ``size`` bytes.

    Returns the range clamped to the blob, :data:`UNSATISFIABLE` when it starts past the
    end (or asks for the last 0 bytes), or None when the header is not a single byte range
    (then the whole blob is served, as RFC 9110 allows).
    """
    match = _BYTES_RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            return UNSATISFIABLE
        return ByteRange(max(size - suffix, 0), size - 1)
    first = int(first_text)
    last = int(last_text) if last_text else max(size - 1, first)
    if last < first:
        return None
    if first >= size:
        return UNSATISFIABLE
    return ByteRange(first, min(last, size - 1))


def parse_content_range(header: str) -> ByteRange | None:
    """Read a chunk's ``Content-Range`` (``<first>-<last>``, as the OCI spec writes it).

    ``bytes <first>-<last>/<total>`` (RFC 9110's form) is accepted too. None when it is
    not a range or ``last`` comes before ``first``.
    """
    match = _CHUNK_RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = int(match.group(1)), int(match.group(2))
    if last < first:
        return None
    return ByteRange(first, last)


def received_range(size: int) -> str:
    """The ``Range`` header of an upload holding ``size`` bytes: ``0-<last byte>``."""
    return f"0-{max(size - 1, 0)}"
