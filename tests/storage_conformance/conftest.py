"""Fixtures of the storage conformance suite (metadata backends: ``metadata_backends.py``;
blob stores: ``blob_backends.py``)."""

from __future__ import annotations

from blob_backends import blob_backend  # noqa: F401  (a fixture)
from metadata_backends import (  # noqa: F401  (fixtures, found by pytest through this module)
    empty_database,
    metadata_backend,
    postgres_template,
    sqlite_template,
)
