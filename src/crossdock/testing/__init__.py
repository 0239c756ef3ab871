"""``crossdock.testing``: test your cross-account sharing offline, in CI.

The pytest plugin (:mod:`crossdock.testing.plugin`, loaded through the ``pytest11`` entry
point) gives tests a ``crossdock_server`` fixture; :func:`start_server` starts one by hand.
See docs/testing-your-setup.md. Names are imported on first use, so that loading the
plugin costs nothing for test runs that do not use it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crossdock.testing.access import AccessResult
    from crossdock.testing.principals import Credentials, PrincipalLookupError
    from crossdock.testing.server import CrossdockServer, RegistryCredentials, start_server

_EXPORTS = {
    "AccessResult": "crossdock.testing.access",
    "Credentials": "crossdock.testing.principals",
    "PrincipalLookupError": "crossdock.testing.principals",
    "CrossdockServer": "crossdock.testing.server",
    "RegistryCredentials": "crossdock.testing.server",
    "start_server": "crossdock.testing.server",
}

__all__ = [
    "AccessResult",
    "Credentials",
    "CrossdockServer",
    "PrincipalLookupError",
    "RegistryCredentials",
    "start_server",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'crossdock.testing' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
