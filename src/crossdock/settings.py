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

    @property
    def scheme(self) -> str:
        """``https`` when a certificate is configured."""
        return "https" if self.tls_cert is not None else "http"
