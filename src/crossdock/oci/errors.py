"""Errors of the OCI knowledge package.

    CrossdockError
    └── OciError                  (crossdock.oci) content is not what the distribution spec allows
        ├── DigestError           a string is not a digest, or bytes do not match one
        └── ManifestError         manifest bytes are not a manifest crossdock stores

Each carries a ``code`` in the distribution spec's vocabulary (``DIGEST_INVALID``,
``MANIFEST_INVALID``, ``UNSUPPORTED``, ``SIZE_INVALID``); the wire layers map it.
"""

from __future__ import annotations

from crossdock.core.errors import CrossdockError


class OciError(CrossdockError, ValueError):
    """Content that the OCI distribution and image specs do not allow."""

    code = "OCI_INVALID"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class DigestError(OciError):
    """A string is not a valid digest (``<algorithm>:<hex>``) or bytes do not match it."""

    code = "DIGEST_INVALID"


class ManifestError(OciError):
    """Manifest bytes cannot be stored: malformed, too large, or of an unsupported type.

    ``code`` is ``MANIFEST_INVALID`` (malformed), ``UNSUPPORTED`` (schema 1, unknown media
    type) or ``SIZE_INVALID`` (over the 4 MiB limit).
    """

    code = "MANIFEST_INVALID"
