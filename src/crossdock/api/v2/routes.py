"""The ``/v2/`` router: authenticate, find the repository, dispatch, render failures.

Repository names contain ``/``, so one Starlette route takes everything below ``/v2/`` and
this module splits it: ``<name>/manifests/<ref>``, ``<name>/blobs/uploads/[<id>]``,
``<name>/blobs/<digest>``, ``<name>/tags/list``, ``<name>/referrers/<digest>``,
``_catalog`` and the base ``/v2/``. Every request is authenticated first (401 challenge),
then each handler calls a service that authorizes the route's ECR action (spec §3.3).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from crossdock.api.v2 import blobs, manifests, referrers, tags, uploads
from crossdock.api.v2.addressing import Addresser
from crossdock.api.v2.auth import TokenExpiredError, authenticate, challenge, registry_host
from crossdock.api.v2.catalog import catalog
from crossdock.api.v2.context import RegistryServices, V2Call
from crossdock.api.v2.errors import (
    API_VERSION_HEADER,
    Concern,
    V2Error,
    error_response,
    to_v2_error,
)
from crossdock.auth.tokens import ExpiredToken
from crossdock.service.authz import RequestInfo
from crossdock.service.ecr.common import Actor, repository_arn
from crossdock.service.trail_record import ExpiredTokenUse

_log = logging.getLogger("crossdock.api.v2")

Handler = Callable[[V2Call], Awaitable[Response]]
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


@dataclass(frozen=True, slots=True)
class _Kind:
    """One family of repository routes: its URL shape and a handler per method."""

    pattern: re.Pattern[str]
    concern: Concern
    handlers: dict[str, Handler]
    actions: dict[str, str]
    """The ECR action each method needs (what its handler authorizes)."""


def _kinds() -> tuple[_Kind, ...]:
    upload_handlers: dict[str, Handler] = {
        "PATCH": uploads.patch_upload,
        "PUT": uploads.finish_upload,
        "GET": uploads.upload_status,
        "DELETE": uploads.cancel_upload,
    }
    return (
        _Kind(
            re.compile(r"(.+)/manifests/([^/]+)"),
            Concern.MANIFEST,
            {
                "GET": manifests.get_manifest,
                "HEAD": manifests.get_manifest,
                "PUT": manifests.put_manifest,
                "DELETE": manifests.delete_manifest,
            },
            {
                "GET": "ecr:BatchGetImage",
                "HEAD": "ecr:BatchGetImage",
                "PUT": "ecr:PutImage",
                "DELETE": "ecr:BatchDeleteImage",
            },
        ),
        _Kind(
            re.compile(r"(.+)/blobs/uploads/?()"),
            Concern.UPLOAD,
            {"POST": uploads.start_upload},
            {"POST": "ecr:InitiateLayerUpload"},
        ),
        _Kind(
            re.compile(r"(.+)/blobs/uploads/([^/]+)"),
            Concern.UPLOAD,
            upload_handlers,
            dict.fromkeys(upload_handlers, "ecr:UploadLayerPart")
            | {"PUT": "ecr:CompleteLayerUpload"},
        ),
        _Kind(
            re.compile(r"(.+)/blobs/([^/]+)"),
            Concern.BLOB,
            {"GET": blobs.get_blob, "HEAD": blobs.get_blob, "DELETE": blobs.delete_blob},
            {
                "GET": "ecr:GetDownloadUrlForLayer",
                "HEAD": "ecr:BatchCheckLayerAvailability",
                "DELETE": "ecr:BatchDeleteImage",
            },
        ),
        _Kind(
            re.compile(r"(.+)/tags/list()"),
            Concern.LISTING,
            {"GET": tags.list_tags},
            {"GET": "ecr:ListImages"},
        ),
        _Kind(
            re.compile(r"(.+)/referrers/([^/]+)"),
            Concern.LISTING,
            {"GET": referrers.list_referrers},
            {"GET": "ecr:BatchGetImage"},
        ),
    )


def _base_ok() -> Response:
    return JSONResponse({}, headers={API_VERSION_HEADER[0]: API_VERSION_HEADER[1]})


class V2Router:
    """The endpoint behind ``/v2/{rest:path}``."""

    def __init__(self, services: RegistryServices) -> None:
        self._services = services
        self._addresser = Addresser(services.addressing, services.region)
        self._kinds = _kinds()

    def _info(
        self, request: Request, region: str, parameters: dict[str, object] | None = None
    ) -> RequestInfo:
        client = request.client
        return RequestInfo(
            source_ip=client.host if client else "127.0.0.1",
            secure_transport=request.url.scheme == "https",
            user_agent=request.headers.get("user-agent", ""),
            now=self._services.clock(),
            region=region,
            parameters=parameters,
            protocol="v2",
        )

    async def endpoint(self, request: Request) -> Response:
        """Answer one ``/v2/`` request."""
        concern = Concern.ANY
        try:
            # On the event loop: a cached hash check and generation-checked cache reads
            # (a worker-thread hop would cost more than the check; docs/performance.md).
            principal = authenticate(request, self._services)
            if principal is None:
                return challenge(request, self._services)
            rest = request.path_params.get("rest", "")
            registry = self._addresser.registry(request.headers.get("host", ""))
            if rest == "":
                return _base_ok()
            if rest == "_catalog":
                if request.method not in ("GET", "HEAD"):
                    raise V2Error(405, "UNSUPPORTED", f"{request.method} is not allowed here")
                actor = Actor(principal, self._info(request, registry.region))
                response = await catalog(request, self._services, actor, registry)
            else:
                kind, name, target = self._match(rest)
                concern = kind.concern
                handler = kind.handlers.get(request.method)
                if handler is None:
                    allow = {"Allow": ", ".join(kind.handlers)}
                    message = f"{request.method} is not allowed here"
                    raise V2Error(405, "UNSUPPORTED", message, headers=allow)
                ref = self._addresser.repository(registry, name)
                info = self._info(request, registry.region, _trail_parameters(concern, target))
                actor = Actor(principal, info)
                call = V2Call(
                    request, self._services, actor, ref, name, target, self._addresser, registry
                )
                response = await handler(call)
        except Exception as error:  # every failure becomes the spec's JSON error
            if isinstance(error, TokenExpiredError):
                try:
                    self._record_expired(request, error.expired)
                except Exception:  # the trail must not change the client's answer
                    _log.exception("decision trail: cannot record an expired token; skipped")
            wire = to_v2_error(error, concern)
            return error_response(wire, head=request.method == "HEAD")
        response.headers[API_VERSION_HEADER[0]] = API_VERSION_HEADER[1]
        return response

    def _record_expired(self, request: Request, expired: ExpiredToken) -> None:
        """Report a request refused for its expired token, as the route's ECR action
        (``GetAuthorizationToken`` on ``*`` for the base ``/v2/`` and unknown routes)."""
        record = self._services.expired_tokens
        if record is None:
            return
        host = request.headers.get("host", "")
        registry = self._addresser.registry(host)
        rest = request.path_params.get("rest", "")
        action, resource, parameters = "ecr:GetAuthorizationToken", "*", None
        if rest == "_catalog":
            action = "ecr:DescribeRepositories"
            account = registry.account_id or expired.grant.principal_arn.split(":")[4]
            resource = repository_arn(registry.region, account, "*")
        elif rest:
            try:
                kind, name, target = self._match(rest)
                ref = self._addresser.repository(registry, name)
            except V2Error:
                pass
            else:
                if request.method in kind.actions:
                    action, resource = kind.actions[request.method], ref.arn
                    parameters = _trail_parameters(kind.concern, target)
        grant = expired.grant
        credential = self._services.resolver.credential(grant.access_key_id)
        principal = credential.principal if credential is not None else None
        use = ExpiredTokenUse(
            principal_arn=grant.principal_arn,
            access_key_id=grant.access_key_id,
            expired_at=grant.expires_at,
            issued_at=expired.issued_at,
            action=action,
            resource=resource,
            registry_host=registry_host(request, self._services),
            secure=request.url.scheme == "https",
            principal=principal
            if principal is not None and principal.arn == grant.principal_arn
            else None,
        )
        record(use, self._info(request, registry.region, parameters))

    def _match(self, rest: str) -> tuple[_Kind, str, str]:
        for kind in self._kinds:
            match = kind.pattern.fullmatch(rest)
            if match is not None:
                return kind, match.group(1), match.group(2)
        raise V2Error(404, "NAME_UNKNOWN", "no such /v2/ route")


def _trail_parameters(concern: Concern, target: str) -> dict[str, object] | None:
    """What the decision trail records of the route's target (a tag, a digest, an upload)."""
    if not target or concern is Concern.LISTING:
        return None
    if concern is Concern.MANIFEST:
        return {"imageDigest" if ":" in target else "imageTag": target}
    return {"layerDigest" if concern is Concern.BLOB else "uploadId": target}


def v2_routes(services: RegistryServices) -> list[BaseRoute]:
    """The Starlette routes of the data plane (add them to the app)."""
    router = V2Router(services)
    return [
        Route("/v2", router.endpoint, methods=["GET", "HEAD"]),
        Route("/v2/{rest:path}", router.endpoint, methods=METHODS),
    ]
