"""The Range and Content-Range parsers never crash and stay within the blob."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from crossdock.api.v2.ranges import (
    UNSATISFIABLE,
    ByteRange,
    parse_content_range,
    parse_range,
    received_range,
)

_range_like = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda a, b, unit: f"{unit}{a}-{b}",
        st.one_of(st.just(""), st.integers(0, 2**70).map(str)),
        st.one_of(st.just(""), st.integers(0, 2**70).map(str)),
        st.sampled_from(["bytes=", "bytes ", "", "items="]),
    ),
)


@given(_range_like, st.integers(0, 2**40))
def test_parse_range_never_crashes(header: str, size: int) -> None:
    result = parse_range(header, size)
    if isinstance(result, ByteRange):
        assert 0 <= result.first <= result.last < size


@given(_range_like)
def test_parse_content_range_never_crashes(header: str) -> None:
    result = parse_content_range(header)
    if result is not None:
        assert 0 <= result.first <= result.last
        assert result.length >= 1


def test_examples() -> None:
    assert parse_range("bytes=0-0", 10) == ByteRange(0, 0)
    assert parse_range("bytes=-0", 10) is UNSATISFIABLE
    assert parse_range("bytes=-5", 0) is UNSATISFIABLE
    assert parse_range("bytes=-", 10) is None
    assert parse_range("bytes=5-2", 10) is None
    assert parse_range("bytes=0-1,3-4", 10) is None
    assert parse_content_range("bytes 0-9/10") == ByteRange(0, 9)
    assert parse_content_range("bytes=0-9") == ByteRange(0, 9)
    assert parse_content_range("9-0") is None
    assert received_range(0) == "0-0"
    assert received_range(10) == "0-9"
