"""``GET /v2/_catalog`` (``ecr:DescribeRepositories``): the repositories the caller may list.

Path style lists the caller's own account (names as ``<account>/<repo>``, the names the
caller pushes to); host style lists the account the host names. Either way the listing is
authorized as DescribeRepositories on ``arn:aws:ecr:<region>:<account>:repository/*``, so
another account's registry is listed only when its policies allow it.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crossdock.api.v2.addressing import Registry
from crossdock.api.v2.context import RegistryServices
from crossdock.api.v2.paging import Paging
from crossdock.service.ecr.common import Actor


def _names(services: RegistryServices, actor: Actor, registry: Registry) -> list[str]:
    account = registry.account_id or actor.account_id
    prefix = "" if registry.account_id is not None else f"{account}/"
    names: list[str] = []
    token: str | None = None
    while True:
        page = services.repositories.describe(actor, account, None, token, 1000)
        names.extend(prefix + record.name for record in page.repositories)
        token = page.next_token
        if token is None:
            return names


async def catalog(
    request: Request, services: RegistryServices, actor: Actor, registry: Registry
) -> Response:
    """200 ``{"repositories": [...]}``, paged with ``n``/``last`` and ``Link``."""
    paging = Paging.from_query(request.query_params)
    names = await run_in_threadpool(_names, services, actor, registry)
    page, more = paging.page(names)
    headers = {"Link": paging.link("/v2/_catalog", page)} if more else None
    return JSONResponse({"repositories": page}, headers=headers)
