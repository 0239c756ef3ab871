"""The ECR Basic handshake (spec §3.2): the 401 challenge and token → principal.

A request's ``Authorization: Basic base64("AWS:<password>")`` is verified against the
registry tokens, then the token's access key is resolved through the credential resolver
on every request, so a deleted key or an ended session stops the token at once.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from crossdock.api.v2.context import RegistryServices
from crossdock.api.v2.errors import API_VERSION_HEADER, EXPIRED_TOKEN, V2Error
from crossdock.auth.principal import Principal
from crossdock.auth.tokens import ExpiredToken, TokenRejection

NOT_AUTHORIZED = "Not Authorized\n"
SERVICE = "ecr.amazonaws.com"
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?")


def registry_host(request: Request, services: RegistryServices) -> str:
    """The registry host the client addressed (a sane ``Host`` header), else the default."""
    host = request.headers.get("host", "")
    if _HOST.fullmatch(host):
        return host
    return services.addressing.registry_host("000000000000", services.region)


def challenge(request: Request, services: RegistryServices) -> Response:
    """ECR's 401: ``WWW-Authenticate: Basic`` and a plain-text ``Not Authorized``."""
    realm = f"https://{registry_host(request, services)}/"
    headers = {
        API_VERSION_HEADER[0]: API_VERSION_HEADER[1],
        "WWW-Authenticate": f'Basic realm="{realm}",service="{SERVICE}"',
    }
    return Response(
        b"" if request.method == "HEAD" else NOT_AUTHORIZED.encode(),
        401,
        headers,
        media_type="text/plain; charset=utf-8",
    )


class TokenExpiredError(V2Error):
    """403 ``DENIED``: a real token (its secret matched) past its expiry."""

    def __init__(self, expired: ExpiredToken) -> None:
        super().__init__(403, "DENIED", EXPIRED_TOKEN)
        self.expired = expired


def authenticate(request: Request, services: RegistryServices) -> Principal | None:
    """The token's principal; None when the credential is missing, garbled or unknown
    (answer with :func:`challenge`). An expired token raises :class:`TokenExpiredError`."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() != "basic" or not credentials:
        return None
    grant = services.tokens.verify_basic(credentials, services.clock())
    if isinstance(grant, ExpiredToken):
        raise TokenExpiredError(grant)
    if isinstance(grant, TokenRejection):
        return None
    credential = services.resolver.credential(grant.access_key_id)
    if credential is None or credential.principal.arn != grant.principal_arn:
        return None
    return credential.principal
