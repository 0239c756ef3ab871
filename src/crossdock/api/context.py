"""What every operation handler receives."""

from __future__ import annotations

from dataclasses import dataclass

from crossdock.auth.principal import Principal
from crossdock.service.authz import RequestInfo


@dataclass(frozen=True, slots=True)
class CallContext:
    """The authenticated caller and the facts of the HTTP request."""

    principal: Principal
    info: RequestInfo
    request_id: str
