"""``GET /v2/<name>/tags/list`` (``ecr:ListImages``): sorted tags, ``n``/``last`` paging."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from crossdock.api.v2.context import V2Call
from crossdock.api.v2.paging import Paging
from crossdock.service.ecr.common import Actor, RepositoryRef
from crossdock.service.ecr.images import ImageService, TagStatus


def _all_tags(images: ImageService, actor: Actor, ref: RepositoryRef) -> list[str]:
    tags: list[str] = []
    token: str | None = None
    while True:
        page = images.list_images(actor, ref, TagStatus.TAGGED, token, 1000)
        tags.extend(entry.tag for entry in page.image_ids if entry.tag is not None)
        token = page.next_token
        if token is None:
            return tags


async def list_tags(call: V2Call) -> Response:
    """200 ``{"name", "tags"}`` with a ``Link`` header when more tags follow."""
    paging = Paging.from_query(call.request.query_params)
    tags = await run_in_threadpool(_all_tags, call.services.images, call.actor, call.ref)
    page, more = paging.page(tags)
    headers = {"Link": paging.link(call.url("tags/list"), page)} if more else None
    return JSONResponse({"name": call.path, "tags": page}, headers=headers)
