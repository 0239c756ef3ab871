"""What every ``/v2/`` handler receives: the wired services and the parsed, authenticated call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request

from crossdock.api.v2.addressing import Addresser, Registry
from crossdock.auth.credentials import CredentialResolver
from crossdock.auth.tokens import RegistryTokens
from crossdock.service.authz import RequestInfo
from crossdock.service.ecr.addressing import RegistryAddressing
from crossdock.service.ecr.common import Actor, RepositoryRef
from crossdock.service.ecr.images import ImageService
from crossdock.service.ecr.layers import LayerService
from crossdock.service.ecr.repositories import RepositoryService
from crossdock.service.trail_record import ExpiredTokenUse
from crossdock.storage.blobs import BlobStore


@dataclass(frozen=True, slots=True)
class RegistryServices:
    """Everything the data plane needs, built once by the composition root.

    The services are the same instances the ECR API uses (one upload engine, one image
    model); each authorizes its own ECR action through ``Authorizer.require``.
    """

    repositories: RepositoryService
    images: ImageService
    layers: LayerService
    blobs: BlobStore
    tokens: RegistryTokens
    resolver: CredentialResolver
    addressing: RegistryAddressing
    region: str
    clock: Callable[[], datetime]
    expired_tokens: Callable[[ExpiredTokenUse, RequestInfo], None] | None = None
    """Where requests refused for an expired token are reported (the decision trail)."""


@dataclass(frozen=True, slots=True)
class V2Call:
    """One authenticated request on a repository route.

    ``path`` is the repository as the URL names it (``<account>/<repo>`` in path style,
    ``<repo>`` in host style): Location and Link headers are built from it.
    """

    request: Request
    services: RegistryServices
    actor: Actor
    ref: RepositoryRef
    path: str
    target: str
    """The rest of the route: a manifest reference, a digest or an upload id (maybe empty)."""
    addresser: Addresser
    registry: Registry
    """The registry the host names (path style: no account)."""

    @property
    def head(self) -> bool:
        """True for a HEAD request (no body in the answer)."""
        return self.request.method == "HEAD"

    def url(self, suffix: str) -> str:
        """``/v2/<path>/<suffix>``: an absolute path on this registry."""
        return f"/v2/{self.path}/{suffix}"
