"""The few S3 calls the blob store makes, typed, over one boto3 client.

boto3 finds credentials through the standard AWS chain (environment, shared files, web
identity, container and instance metadata). Every call translates failures: an endpoint
that cannot be reached, a timeout or a 5xx/throttling answer becomes
:class:`~crossdock.storage.errors.BlobStoreUnavailableError` (the API answers 503 with
``Retry-After``; the client reconnects by itself on the next call), a failed precondition
:class:`S3PreconditionFailed`. Request checksums are sent only where S3 requires them (and
``Content-MD5`` on every upload), which every S3-compatible store accepts.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from crossdock.storage.errors import BlobStoreUnavailableError
from crossdock.storage.s3_location import S3Location

CHUNK = 1024 * 1024
RETRY_AFTER_SECONDS = 5
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 60.0
MAX_CONNECTIONS = 64
"""Pooled connections per client: the server's worker threads share it."""
_UNAVAILABLE_CODES = frozenset(
    {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "Throttling", "503"}
)


class S3PreconditionFailed(Exception):
    """An ``If-Match``/``If-None-Match`` condition did not hold: the object changed."""


class S3Missing(Exception):
    """The object (or the bucket) does not exist."""


class S3InvalidRange(Exception):
    """The requested byte range starts past the object's end."""


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """An object's key, size and ETag (quoted, as S3 sends it)."""

    key: str
    size: int
    etag: str
    modified: float = field(default=0.0, compare=False)
    """When the object was last written (epoch seconds), from :meth:`S3Bucket.list`; not
    part of equality (segment chains compare by key, size and ETag)."""


def _md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


def _exceptions() -> tuple[type[Exception], type[Exception], type[Exception]]:
    from botocore.exceptions import (
        ClientError,
        ConnectionError,
        HTTPClientError,
    )

    return ClientError, ConnectionError, HTTPClientError


@contextmanager
def translated(what: str) -> Iterator[None]:
    """Around an S3 call: its failures as the exceptions the module docstring names."""
    client_error, connection_error, http_error = _exceptions()
    try:
        yield
    except client_error as error:
        response: Any = getattr(error, "response", {})
        code = str(response.get("Error", {}).get("Code", ""))
        status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code in ("PreconditionFailed", "412") or status == 412:
            raise S3PreconditionFailed(what) from error
        if code in ("NoSuchKey", "NoSuchBucket", "NotFound", "404") or status == 404:
            raise S3Missing(what) from error
        if code == "InvalidRange" or status == 416:
            raise S3InvalidRange(what) from error
        if status >= 500 or code in _UNAVAILABLE_CODES:
            reason = f"{what}: {code or status}"
            raise BlobStoreUnavailableError(reason, RETRY_AFTER_SECONDS) from error
        raise
    except (connection_error, http_error) as error:
        raise BlobStoreUnavailableError(f"{what}: {error}", RETRY_AFTER_SECONDS) from error


def s3_client(location: S3Location) -> Any:
    """A boto3 S3 client for ``location`` (credentials from the standard AWS chain)."""
    import boto3
    from botocore.config import Config

    s3_options = {"addressing_style": location.addressing} if location.addressing else {}
    config = Config(
        signature_version="s3v4",
        s3=s3_options,
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"mode": "standard", "max_attempts": 2},
        max_pool_connections=MAX_CONNECTIONS,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    session = boto3.session.Session()
    return session.client(
        "s3", endpoint_url=location.endpoint, region_name=location.region, config=config
    )


class S3Bucket:
    """One bucket, through one client (boto3 clients are safe to share between threads)."""

    def __init__(self, location: S3Location, client: Any = None) -> None:
        self.location = location
        self.name = location.bucket
        self._client = client if client is not None else s3_client(location)

    def head(self, key: str) -> ObjectInfo | None:
        """The object's size and ETag, or None when it does not exist."""
        try:
            with translated(f"HEAD {key}"):
                answer = self._client.head_object(Bucket=self.name, Key=key)
        except S3Missing:
            return None
        return ObjectInfo(key, int(answer["ContentLength"]), str(answer["ETag"]))

    def get(
        self, key: str, first: int = 0, last: int | None = None, etag: str | None = None
    ) -> Iterator[bytes]:
        """Stream bytes ``first..last`` (inclusive; to the end when ``last`` is None).

        The request is made now (S3Missing, S3InvalidRange, S3PreconditionFailed when
        ``etag`` no longer matches); the body streams as the iterator is consumed.
        """
        arguments: dict[str, Any] = {"Bucket": self.name, "Key": key}
        if first or last is not None:
            arguments["Range"] = f"bytes={first}-{'' if last is None else last}"
        if etag is not None:
            arguments["IfMatch"] = etag
        with translated(f"GET {key}"):
            body = self._client.get_object(**arguments)["Body"]
        return self._stream(key, body)

    @staticmethod
    def _stream(key: str, body: Any) -> Iterator[bytes]:
        try:
            while True:
                with translated(f"GET {key}"):
                    chunk = body.read(CHUNK)
                if not chunk:
                    return
                yield chunk
        finally:
            body.close()

    def put(
        self, key: str, data: bytes, if_match: str | None = None, if_absent: bool = False
    ) -> str:
        """Store ``data`` at ``key`` (S3 verifies it against its MD5); return the new ETag.

        ``if_match`` replaces only that version of the object, ``if_absent`` writes only
        when there is none; otherwise S3PreconditionFailed.
        """
        arguments: dict[str, Any] = {
            "Bucket": self.name,
            "Key": key,
            "Body": data,
            "ContentMD5": _md5(data),
        }
        if if_match is not None:
            arguments["IfMatch"] = if_match
        elif if_absent:
            arguments["IfNoneMatch"] = "*"
        with translated(f"PUT {key}"):
            return str(self._client.put_object(**arguments)["ETag"])

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """Every object whose key starts with ``prefix``, in key order."""
        paginator = self._client.get_paginator("list_objects_v2")
        with translated(f"LIST {prefix}"):
            for page in paginator.paginate(Bucket=self.name, Prefix=prefix):
                for item in page.get("Contents", ()):
                    modified = float(item["LastModified"].timestamp())
                    yield ObjectInfo(
                        str(item["Key"]), int(item["Size"]), str(item["ETag"]), modified
                    )

    def delete(self, keys: Sequence[str]) -> None:
        """Remove ``keys`` (absent ones are fine), up to 1000 per request."""
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            with translated(f"DELETE {batch[0]['Key']}"):
                if len(batch) == 1:
                    self._client.delete_object(Bucket=self.name, Key=batch[0]["Key"])
                else:
                    self._client.delete_objects(
                        Bucket=self.name, Delete={"Objects": batch, "Quiet": True}
                    )

    def concatenate(self, sources: Sequence[ObjectInfo], target: str) -> None:
        """Make ``target`` the concatenation of ``sources``, server-side.

        Each source is copied only while it still has its ETag (else S3PreconditionFailed
        and ``target`` is untouched). One source is a CopyObject; several are the parts of a
        multipart upload (every part but the last at least 5 MiB), which the object appears
        from, whole, when it completes.
        """
        if len(sources) == 1:
            source = sources[0]
            with translated(f"COPY {source.key}"):
                self._client.copy_object(
                    Bucket=self.name,
                    Key=target,
                    CopySource={"Bucket": self.name, "Key": source.key},
                    CopySourceIfMatch=source.etag,
                )
            return
        with translated(f"CREATE MULTIPART {target}"):
            upload_id = self._client.create_multipart_upload(Bucket=self.name, Key=target)[
                "UploadId"
            ]
        try:
            parts = []
            for number, source in enumerate(sources, start=1):
                with translated(f"COPY PART {source.key}"):
                    answer = self._client.upload_part_copy(
                        Bucket=self.name,
                        Key=target,
                        UploadId=upload_id,
                        PartNumber=number,
                        CopySource={"Bucket": self.name, "Key": source.key},
                        CopySourceIfMatch=source.etag,
                    )
                parts.append({"PartNumber": number, "ETag": answer["CopyPartResult"]["ETag"]})
            with translated(f"COMPLETE MULTIPART {target}"):
                self._client.complete_multipart_upload(
                    Bucket=self.name,
                    Key=target,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
        except BaseException:
            self._abort(target, upload_id)
            raise

    def _abort(self, key: str, upload_id: str) -> None:
        try:
            with translated(f"ABORT MULTIPART {key}"):
                self._client.abort_multipart_upload(Bucket=self.name, Key=key, UploadId=upload_id)
        except Exception:  # best effort: a bucket lifecycle rule removes what is left
            return

    def presigned_get(self, key: str, expires_in: int) -> str:
        """A URL anyone may GET the object with (``Range`` too) for ``expires_in`` seconds."""
        return str(
            self._client.generate_presigned_url(
                "get_object", Params={"Bucket": self.name, "Key": key}, ExpiresIn=expires_in
            )
        )
