"""Content digests (``sha256:<64 hex>``, ``sha512:<128 hex>``): parse, compute, verify.

A :class:`Digest` is validated when it is built; :class:`Hasher` computes one
incrementally while bytes stream past, so a blob is never held whole in memory.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from types import MappingProxyType

from crossdock.oci.errors import DigestError

HEX_LENGTHS = MappingProxyType({"sha256": 64, "sha512": 128})
"""The algorithms crossdock accepts, with the length of their lower-case hex encoding."""

_GRAMMAR = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")
_LOWER_HEX = re.compile(r"[a-f0-9]+")


@dataclass(frozen=True, slots=True, order=True)
class Digest:
    """A validated content digest; ``str(digest)`` is ``<algorithm>:<hex>``."""

    algorithm: str
    hex: str

    def __post_init__(self) -> None:
        expected = HEX_LENGTHS.get(self.algorithm)
        if expected is None:
            shown = ", ".join(HEX_LENGTHS)
            raise DigestError(
                f"unsupported digest algorithm `{self.algorithm}`: use {shown}", code="UNSUPPORTED"
            )
        if len(self.hex) != expected or _LOWER_HEX.fullmatch(self.hex) is None:
            raise DigestError(
                f"`{self.algorithm}:{self.hex}` is not a valid digest: "
                f"{self.algorithm} needs {expected} lower-case hex digits"
            )

    @classmethod
    def parse(cls, value: str) -> Digest:
        """Read ``<algorithm>:<hex>``; raise DigestError when it is not a supported digest."""
        if not isinstance(value, str) or _GRAMMAR.fullmatch(value) is None:
            raise DigestError(f"`{value}` is not a digest: use `sha256:<64 hex digits>`")
        algorithm, _, encoded = value.partition(":")
        return cls(algorithm, encoded)

    @classmethod
    def of(cls, data: bytes, algorithm: str = "sha256") -> Digest:
        """The digest of ``data`` under ``algorithm``."""
        hasher = Hasher(algorithm)
        hasher.update(data)
        return hasher.digest()

    def matches(self, data: bytes) -> bool:
        """True when ``data`` hashes to this digest."""
        return hmac.compare_digest(Digest.of(data, self.algorithm).hex, self.hex)

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"


def is_digest(value: str) -> bool:
    """True when ``value`` parses as a supported digest."""
    try:
        Digest.parse(value)
    except DigestError:
        return False
    return True


class Hasher:
    """An incremental digest: feed bytes with :meth:`update`, read :meth:`digest` any time."""

    __slots__ = ("_hash", "algorithm", "size")

    def __init__(self, algorithm: str = "sha256") -> None:
        if algorithm not in HEX_LENGTHS:
            shown = ", ".join(HEX_LENGTHS)
            raise DigestError(
                f"unsupported digest algorithm `{algorithm}`: use {shown}", code="UNSUPPORTED"
            )
        self.algorithm = algorithm
        self.size = 0
        self._hash = hashlib.new(algorithm)

    def update(self, data: bytes | bytearray | memoryview) -> None:
        """Hash more bytes."""
        self._hash.update(data)
        self.size += len(data)

    def copy(self) -> Hasher:
        """An independent hasher in the same state."""
        twin = Hasher.__new__(Hasher)
        twin.algorithm = self.algorithm
        twin.size = self.size
        twin._hash = self._hash.copy()
        return twin

    def digest(self) -> Digest:
        """The digest of every byte fed so far."""
        return Digest(self.algorithm, self._hash.hexdigest())
