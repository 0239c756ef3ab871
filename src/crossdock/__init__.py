"""crossdock: a self-hosted, ECR-compatible container registry with AWS's own access logic."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
