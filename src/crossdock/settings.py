"""Server settings, resolved once from the command line (no environment reads elsewhere)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/crossdock``, or ``~/.local/share/crossdock``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "crossdock"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything ``crossdock serve`` is configured with."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 5000
    region: str = "us-east-1"
    registry_domain: str | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    token_ttl: int = 43_200
    """Seconds a GetAuthorizationToken token stays valid (ECR: 12 hours)."""
    trail: bool = True
    """Record every authorization decision in ``<data_dir>/trail`` (docs/trail.md)."""
    trail_retention_days: int = 30
    """Days of decision trail kept (today included); older day files are deleted."""
    database_url: str | None = None
    """``postgresql://...`` or ``sqlite:///...``; None: ``<data_dir>/crossdock.db``."""
    key_file: Path | None = None
    """The secret key file (every node sharing a database needs the same); None:
    ``<data_dir>/secret.key``."""
    blob_store: str | None = None
    """``s3://bucket/prefix?endpoint=...&region=...``; None: ``<data_dir>/blobs``."""
    blob_proxy: bool = False
    """Serve blobs of an S3 store through crossdock instead of redirecting to presigned URLs."""
    lifecycle_interval: float = 3600.0
    """Seconds between lifecycle policy runs while serving (docs/lifecycle.md); 0: never."""
    gc_interval: float | None = None
    """Seconds between garbage collections while serving (docs/gc.md); None: never."""
    gc_grace: float = 3600.0
    """Seconds an unused blob, link or upload is kept by garbage collection (docs/gc.md)."""

    @property
    def scheme(self) -> str:
        """``https`` when a certificate is configured."""
        return "https" if self.tls_cert is not None else "http"
