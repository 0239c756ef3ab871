"""Every /v2/ route is authorized as the token's principal: denials, revocation, listings,
addressing (path and host style) and GetDownloadUrlForLayer's URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from v2_world import (
    CONSUMER_KEY,
    MALLORY_KEY,
    OWNER_KEY,
    PULLER_KEY,
    V2World,
    build_v2_world,
    digest_of,
    push_blob,
    push_image,
)

pytestmark = pytest.mark.anyio
REPO_ARN = "arn:aws:ecr:us-east-1:111111111111:repository/example"


def _denied(action: str, who: str, policy: str = "resource-based policy") -> dict[str, object]:
    message = (
        f"User: {who} is not authorized to perform: {action} on resource: {REPO_ARN} "
        f"because no {policy} allows the {action} action"
    )
    return {"errors": [{"code": "DENIED", "message": message}]}


async def test_the_walkthrough_pull_and_its_denials(fresh: V2World) -> None:
    async with fresh.client(OWNER_KEY) as owner:
        manifest = await push_image(owner, "111111111111/example", "latest", b"walk")
    layer = digest_of(b"layer-walk")
    mallory_arn = "arn:aws:iam::333333333333:user/mallory"
    puller_arn = "arn:aws:iam::222222222222:user/puller"
    async with fresh.client(PULLER_KEY) as puller, fresh.client(MALLORY_KEY) as mallory:
        pulled = await puller.get("/v2/111111111111/example/manifests/latest")
        blob = await puller.get(f"/v2/111111111111/example/blobs/{layer}")
        head = await puller.head(f"/v2/111111111111/example/blobs/{layer}")
        denied = await mallory.get("/v2/111111111111/example/manifests/latest")
        denied_blob = await mallory.get(f"/v2/111111111111/example/blobs/{layer}")
        push = await puller.post("/v2/111111111111/example/blobs/uploads/")
        put = await puller.put("/v2/111111111111/example/manifests/evil", content=manifest)
        tags = await puller.get("/v2/111111111111/example/tags/list")
        delete = await puller.delete(f"/v2/111111111111/example/manifests/{digest_of(manifest)}")
    assert pulled.content == manifest
    assert blob.content == b"layer-walk"
    assert head.status_code == 200
    assert denied.status_code == 403
    assert denied.json() == _denied("ecr:BatchGetImage", mallory_arn)
    assert denied_blob.json() == _denied("ecr:GetDownloadUrlForLayer", mallory_arn)
    assert push.json() == _denied("ecr:InitiateLayerUpload", puller_arn)
    assert push.status_code == 403
    assert put.json() == _denied("ecr:PutImage", puller_arn)
    assert tags.json() == _denied("ecr:ListImages", puller_arn)
    assert delete.json() == _denied("ecr:BatchDeleteImage", puller_arn)


async def test_removing_the_repository_policy_stops_the_next_pull(fresh: V2World) -> None:
    async with fresh.client(OWNER_KEY) as owner:
        await push_image(owner, "111111111111/example", "latest", b"revoke")
    async with fresh.client(PULLER_KEY) as puller:
        before = await puller.get("/v2/111111111111/example/manifests/latest")
        fresh.server.ecr.policies.delete_policy(fresh.actor(OWNER_KEY), None, "example")
        after = await puller.get("/v2/111111111111/example/manifests/latest")
    assert before.status_code == 200
    assert after.status_code == 403
    assert after.json()["errors"][0]["code"] == "DENIED"
    assert "ecr:BatchGetImage" in after.json()["errors"][0]["message"]


async def test_names_that_do_not_resolve(v2: V2World) -> None:
    async with v2.client() as client:
        missing = await client.get("/v2/111111111111/nothing-here/tags/list")
        no_account = await client.get("/v2/example/tags/list")
        invalid = await client.get("/v2/111111111111/Upper/tags/list")
        traversal = await client.get("/v2/111111111111/a/../b/tags/list")
        no_route = await client.get("/v2/111111111111/example/whatever")
        wrong_method = await client.post("/v2/111111111111/example/tags/list")
    assert missing.status_code == 404
    assert missing.json()["errors"][0] == {
        "code": "NAME_UNKNOWN",
        "message": "The repository with name 'nothing-here' does not exist in the registry "
        "with id '111111111111'",
    }
    assert no_account.json()["errors"][0]["code"] == "NAME_UNKNOWN"
    assert invalid.status_code == 400
    assert invalid.json()["errors"][0]["code"] == "NAME_INVALID"
    assert traversal.status_code in (400, 404)
    assert no_route.status_code == 404
    assert wrong_method.status_code == 405


async def test_tags_list_paging(v2: V2World) -> None:
    path = v2.new_repository()
    async with v2.client() as client:
        manifest = await push_image(client, path, "c", b"tags")
        for tag in ("a", "b", "d"):
            await client.put(f"/v2/{path}/manifests/{tag}", content=manifest)
        everything = await client.get(f"/v2/{path}/tags/list")
        first = await client.get(f"/v2/{path}/tags/list", params={"n": "2"})
        rest = await client.get(f"/v2/{path}/tags/list", params={"n": "2", "last": "b"})
        zero = await client.get(f"/v2/{path}/tags/list", params={"n": "0"})
        bad = await client.get(f"/v2/{path}/tags/list", params={"n": "-1"})
    assert everything.json() == {"name": path, "tags": ["a", "b", "c", "d"]}
    assert "link" not in everything.headers
    assert first.json()["tags"] == ["a", "b"]
    assert first.headers["link"] == f'</v2/{path}/tags/list?n=2&last=b>; rel="next"'
    assert rest.json()["tags"] == ["c", "d"]
    assert "link" not in rest.headers
    assert zero.json()["tags"] == []
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["code"] == "PAGINATION_NUMBER_INVALID"


async def test_catalog_lists_what_the_caller_may_see(fresh: V2World) -> None:
    extra = fresh.new_repository()
    async with fresh.client(OWNER_KEY) as owner, fresh.client(MALLORY_KEY) as mallory:
        listed = await owner.get("/v2/_catalog")
        paged = await owner.get("/v2/_catalog", params={"n": "1"})
        theirs = await mallory.get("/v2/_catalog")
    assert listed.json() == {"repositories": sorted(["111111111111/example", extra])}
    assert paged.json() == {"repositories": ["111111111111/example"]}
    assert paged.headers["link"] == '</v2/_catalog?n=1&last=111111111111%2Fexample>; rel="next"'
    assert theirs.json() == {"repositories": []}


async def test_catalog_denied_without_describe_repositories(fresh: V2World) -> None:
    async with fresh.client(PULLER_KEY) as puller:
        response = await puller.get("/v2/_catalog")
    assert response.status_code == 403
    entry = response.json()["errors"][0]
    assert entry["code"] == "DENIED"
    assert "ecr:DescribeRepositories" in entry["message"]


async def test_download_url_downloads_the_layer(v2: V2World) -> None:
    async with v2.client() as client:
        await push_image(client, "111111111111/example", "dl", b"download")
        layer = digest_of(b"layer-download")
        url = v2.server.ecr.addressing.blob_url("111111111111", "us-east-1", "example", layer)
        response = await client.get(url)
    assert url == f"http://127.0.0.1:5000/v2/111111111111/example/blobs/{layer}"
    assert response.content == b"layer-download"


async def test_host_style_addressing(tmp_path: Path) -> None:
    world = build_v2_world(tmp_path, domain="registry.test")
    host = "111111111111.dkr.ecr.us-east-1.registry.test:5000"
    async with world.client(OWNER_KEY, host=host) as owner:
        manifest = await push_image(owner, "example", "latest", b"host")
        pulled = await owner.get("/v2/example/manifests/latest")
        catalog = await owner.get("/v2/_catalog")
        upload = await owner.post("/v2/example/blobs/uploads/")
    async with world.client(PULLER_KEY, host=host) as puller:
        cross = await puller.get("/v2/example/manifests/latest")
    async with world.client(CONSUMER_KEY, host="127.0.0.1:5000") as consumer:
        path_style = await consumer.get("/v2/111111111111/example/manifests/latest")
    assert pulled.content == manifest
    assert catalog.json() == {"repositories": ["example"]}
    assert upload.headers["location"].startswith("/v2/example/blobs/uploads/")
    assert cross.content == manifest
    assert path_style.content == manifest
    uri = world.server.ecr.addressing.repository_uri("111111111111", "us-east-1", "example")
    assert uri == f"{host}/example"


async def test_push_into_a_missing_repository_is_name_unknown(v2: V2World) -> None:
    async with v2.client() as client:
        response = await client.post("/v2/111111111111/not-created/blobs/uploads/")
        blob = await client.post(
            "/v2/111111111111/not-created/blobs/uploads/",
            params={"digest": digest_of(b"x")},
            content=b"x",
        )
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NAME_UNKNOWN"
    assert blob.json()["errors"][0]["code"] == "NAME_UNKNOWN"


async def test_monolithic_push_leaves_no_session_behind(v2: V2World) -> None:
    path = v2.new_repository()
    async with v2.client() as client:
        await push_blob(client, path, b"clean")
        wrong = await client.post(
            f"/v2/{path}/blobs/uploads/", params={"digest": digest_of(b"a")}, content=b"b"
        )
    assert wrong.status_code == 400
    stale = v2.server.registry_stores.uploads.stale_uploads(float("inf"), 100)
    assert stale == []
