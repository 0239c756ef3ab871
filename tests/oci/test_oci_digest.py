"""Digests: parse, compute, verify (sha256 and sha512)."""

from __future__ import annotations

import contextlib
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crossdock.oci.digest import Digest, Hasher, is_digest
from crossdock.oci.errors import DigestError

EMPTY_SHA256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_parse_and_format_round_trip() -> None:
    digest = Digest.parse(EMPTY_SHA256)
    assert digest.algorithm == "sha256"
    assert str(digest) == EMPTY_SHA256
    assert Digest.of(b"") == digest
    assert is_digest(EMPTY_SHA256)


def test_sha512() -> None:
    data = b"hello"
    digest = Digest.of(data, "sha512")
    assert str(digest) == "sha512:" + hashlib.sha512(data).hexdigest()
    assert Digest.parse(str(digest)) == digest
    assert digest.matches(data)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "sha256",
        "sha256:",
        "sha256:abc",
        "sha256:" + "A" * 64,
        "sha256:" + "g" * 64,
        "md5:" + "a" * 32,
        "sha512:" + "a" * 64,
        ":" + "a" * 64,
        "sha256:" + "a" * 65,
    ],
)
def test_invalid_digests_are_rejected(text: str) -> None:
    with pytest.raises(DigestError):
        Digest.parse(text)
    assert not is_digest(text)


def test_unsupported_algorithm_has_its_code() -> None:
    with pytest.raises(DigestError) as error:
        Digest.parse("md5:" + "a" * 32)
    assert error.value.code == "UNSUPPORTED"
    with pytest.raises(DigestError):
        Hasher("md5")


def test_hasher_is_incremental_and_copyable() -> None:
    hasher = Hasher()
    hasher.update(b"hello ")
    twin = hasher.copy()
    hasher.update(b"world")
    assert hasher.size == 11
    assert hasher.digest() == Digest.of(b"hello world")
    assert twin.digest() == Digest.of(b"hello ")


@given(st.binary(), st.binary())
def test_a_digest_verifies_only_its_own_bytes(data: bytes, other: bytes) -> None:
    digest = Digest.of(data)
    assert digest.matches(data)
    assert digest.matches(other) == (other == data)


@given(st.text())
def test_parse_raises_only_digest_errors(text: str) -> None:
    with contextlib.suppress(DigestError):
        Digest.parse(text)
