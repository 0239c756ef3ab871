"""``--blob-store s3://...`` URLs: what they name, and the reasons one is refused."""

from __future__ import annotations

import pytest

from crossdock.storage.s3_location import (
    DEFAULT_PART,
    MIN_PART,
    BlobStoreUrlError,
    S3Location,
    parse_s3_url,
)


def test_full_url() -> None:
    location = parse_s3_url(
        "s3://my-bucket/a/prefix/?endpoint=http://127.0.0.1:8333&region=eu-west-1"
        "&part_size=16777216"
    )
    assert location == S3Location(
        bucket="my-bucket",
        prefix="a/prefix/",
        endpoint="http://127.0.0.1:8333",
        region="eu-west-1",
        addressing="path",
        part_size=16 * 1024 * 1024,
    )
    assert location.key("blobs", "sha256", "ab") == "a/prefix/blobs/sha256/ab"
    assert location.display() == "s3://my-bucket/a/prefix/"


def test_defaults_for_aws() -> None:
    location = parse_s3_url("s3://bucket")
    assert location == S3Location("bucket", "", None, "us-east-1", None, DEFAULT_PART)
    assert location.key("tmp", "x", "") == "tmp/x/"


def test_virtual_addressing_with_an_endpoint() -> None:
    location = parse_s3_url("s3://bucket/p?endpoint=https://minio.example&addressing=virtual")
    assert location.addressing == "virtual"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///tmp/blobs", "`file:///tmp/blobs` is not an s3:// URL"),
        ("s3://Bad_Bucket/x", "`Bad_Bucket` is not a valid S3 bucket name"),
        (
            "s3://bucket/x?endpoint=127.0.0.1:8333",
            "endpoint `127.0.0.1:8333` is not an http(s) URL",
        ),
        (
            "s3://bucket/x?addressing=dns",
            "addressing `dns` is neither `path` nor `virtual`",
        ),
        (
            "s3://bucket/x?part_size=1048576",
            f"part_size 1048576 is outside {MIN_PART}..536870912 bytes (S3's 5 MiB minimum)",
        ),
        ("s3://bucket/x?part_size=big", "part_size `big` is not a number of bytes"),
        (
            "s3://bucket/x?regoin=us-east-1",
            "unknown parameter `regoin` in `s3://bucket/x?regoin=us-east-1`"
            " (known: addressing, endpoint, part_size, region)",
        ),
    ],
)
def test_refused_urls(url: str, message: str) -> None:
    with pytest.raises(BlobStoreUrlError) as error:
        parse_s3_url(url)
    assert str(error.value) == message
