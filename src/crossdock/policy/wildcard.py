"""IAM ``*`` / ``?`` globbing, compiled once.

``*`` matches any run of characters (including none), ``?`` exactly one; every other
character is literal. Case-insensitive patterns are matched by lower-casing both
sides, so pattern and subject are folded the same way.

ARN patterns are matched segment by segment (the six colon-separated parts):

* in ``Resource``, a wildcard stays inside its segment, except that a ``*`` that ends
  a segment may run on across colons (IAM UG, "Using wildcards in resource ARNs");
* in the ``Arn*`` condition operators, each of the first five segments is matched on
  its own and a ``*`` never crosses a colon there.

The sixth segment (the resource id) may itself hold colons; wildcards there match them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from enum import Enum
from functools import lru_cache

Matcher = Callable[[str], bool]
Chunk = tuple[str, bool]
"""Text plus whether its ``*`` and ``?`` are wildcards (False for substituted values)."""


class GlobStyle(Enum):
    """How wildcards relate to the colons of an ARN."""

    PLAIN = "plain"
    ARN_RESOURCE = "arn-resource"
    ARN_CONDITION = "arn-condition"


def has_wildcard(pattern: str) -> bool:
    """True when ``pattern`` contains ``*`` or ``?``."""
    return "*" in pattern or "?" in pattern


def chunks_to_regex(chunks: Iterable[Chunk], style: GlobStyle) -> str:
    """Translate glob chunks into a regular expression for ``re.fullmatch``."""
    text: list[tuple[str, bool]] = [(char, glob) for chunk, glob in chunks for char in chunk]
    out: list[str] = []
    colons = 0
    for position, (char, glob) in enumerate(text):
        in_id = style is GlobStyle.PLAIN or colons >= 5
        if char == ":":
            colons += 1
        if not glob or char not in "*?":
            out.append(re.escape(char))
        elif char == "?":
            out.append("." if in_id else "[^:]")
        elif in_id:
            out.append(".*")
        else:
            following = text[position + 1][0] if position + 1 < len(text) else None
            ends_segment = following is None or following == ":"
            crosses = style is GlobStyle.ARN_RESOURCE and ends_segment
            out.append(".*" if crosses else "[^:]*")
    return "".join(out)


def glob_to_regex(pattern: str, style: GlobStyle = GlobStyle.PLAIN) -> str:
    """Translate one IAM glob into a regular expression for ``re.fullmatch``."""
    return chunks_to_regex([(pattern, True)], style)


@lru_cache(maxsize=8192)
def compiled_regex(pattern: str, style: GlobStyle = GlobStyle.PLAIN) -> re.Pattern[str]:
    """The compiled, cached regular expression for an IAM glob."""
    return re.compile(glob_to_regex(pattern, style), re.DOTALL)


def compile_glob(
    pattern: str, *, ignore_case: bool = False, style: GlobStyle = GlobStyle.PLAIN
) -> Matcher:
    """Return a predicate that tells whether a string matches ``pattern``."""
    if ignore_case:
        pattern = pattern.lower()
    if not has_wildcard(pattern):
        if ignore_case:
            return lambda subject: subject.lower() == pattern
        return lambda subject: subject == pattern
    if pattern == "*" and style is GlobStyle.PLAIN:
        return lambda subject: True
    regex = compiled_regex(pattern, style)
    if ignore_case:
        return lambda subject: regex.fullmatch(subject.lower()) is not None
    return lambda subject: regex.fullmatch(subject) is not None


def glob_match(
    pattern: str, subject: str, *, ignore_case: bool = False, style: GlobStyle = GlobStyle.PLAIN
) -> bool:
    """One-off match of ``subject`` against ``pattern`` (the regex is cached)."""
    return compile_glob(pattern, ignore_case=ignore_case, style=style)(subject)
