"""Where an S3 blob store lives: ``s3://bucket/prefix?endpoint=...&region=...``, parsed.

Query parameters (all optional):

- ``endpoint``: the S3 API's base URL (MinIO, SeaweedFS, ...); AWS S3 when absent;
- ``region``: the signing region (default ``us-east-1``);
- ``addressing``: ``path`` or ``virtual`` bucket addressing (default: ``path`` with an
  ``endpoint``, else what botocore picks);
- ``part_size``: bytes per stored upload segment, at least 5 MiB (S3's smallest multipart
  part), default 8 MiB: the most an upload session holds in memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from crossdock.storage.errors import StorageError

MIB = 1024 * 1024
MIN_PART = 5 * MIB
"""S3's smallest multipart part (every part but the last)."""
MAX_PART = 512 * MIB
DEFAULT_PART = 8 * MIB
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_PARAMETERS = frozenset({"endpoint", "region", "addressing", "part_size"})


class BlobStoreUrlError(StorageError, ValueError):
    """A ``--blob-store`` URL that does not name a usable S3 location."""


@dataclass(frozen=True, slots=True)
class S3Location:
    """A bucket, a key prefix inside it, and how to reach and use it."""

    bucket: str
    prefix: str
    """Empty, or ends with ``/``: every key of the store starts with it."""
    endpoint: str | None = None
    region: str = "us-east-1"
    addressing: str | None = None
    part_size: int = DEFAULT_PART

    def key(self, *parts: str) -> str:
        """The object key of ``parts`` below the prefix."""
        return self.prefix + "/".join(parts)

    def display(self) -> str:
        """``s3://bucket/prefix`` (for messages; no query)."""
        return f"s3://{self.bucket}/{self.prefix}"


def parse_s3_url(url: str) -> S3Location:
    """Read an ``s3://`` URL; raise BlobStoreUrlError with the reason when it is not usable."""
    parts = urlsplit(url)
    if parts.scheme != "s3":
        raise BlobStoreUrlError(f"`{url}` is not an s3:// URL")
    bucket = parts.netloc
    if _BUCKET.fullmatch(bucket) is None:
        raise BlobStoreUrlError(f"`{bucket}` is not a valid S3 bucket name")
    query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=False)
    unknown = sorted(set(query) - _PARAMETERS)
    if unknown:
        known = ", ".join(sorted(_PARAMETERS))
        raise BlobStoreUrlError(f"unknown parameter `{unknown[0]}` in `{url}` (known: {known})")
    single = {name: values[-1] for name, values in query.items()}
    prefix = parts.path.strip("/")
    endpoint = single.get("endpoint") or None
    if endpoint is not None and urlsplit(endpoint).scheme not in ("http", "https"):
        raise BlobStoreUrlError(f"endpoint `{endpoint}` is not an http(s) URL")
    addressing = single.get("addressing") or ("path" if endpoint else None)
    if addressing not in (None, "path", "virtual"):
        raise BlobStoreUrlError(f"addressing `{addressing}` is neither `path` nor `virtual`")
    return S3Location(
        bucket=bucket,
        prefix=f"{prefix}/" if prefix else "",
        endpoint=endpoint,
        region=single.get("region") or "us-east-1",
        addressing=addressing,
        part_size=_part_size(single.get("part_size")),
    )


def _part_size(text: str | None) -> int:
    if text is None or text == "":
        return DEFAULT_PART
    try:
        size = int(text)
    except ValueError:
        raise BlobStoreUrlError(f"part_size `{text}` is not a number of bytes") from None
    if not MIN_PART <= size <= MAX_PART:
        raise BlobStoreUrlError(
            f"part_size {size} is outside {MIN_PART}..{MAX_PART} bytes (S3's 5 MiB minimum)"
        )
    return size
