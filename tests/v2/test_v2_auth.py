"""The ECR Basic handshake on /v2/ (spec §3.2, §3.4)."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from v2_world import HOST, OWNER_KEY, PULLER_KEY, V2World

pytestmark = pytest.mark.anyio

CHALLENGE = f'Basic realm="https://{HOST}/",service="ecr.amazonaws.com"'


def _basic(text: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(text.encode()).decode()}


async def test_base_without_credentials_is_the_ecr_challenge(v2: V2World) -> None:
    async with v2.client(None) as client:
        response = await client.get("/v2/")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == CHALLENGE
    assert response.headers["docker-distribution-api-version"] == "registry/2.0"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == "Not Authorized\n"


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "Bearer abc"},
        {"Authorization": "Basic"},
        _basic("someone:password"),
        _basic("AWS:not-a-token"),
        _basic("AWS:" + "0" * 32 + "." + "A" * 43),
    ],
    ids=["garbled", "bearer", "empty", "not-aws", "malformed", "unknown"],
)
async def test_unacceptable_credentials_get_401(v2: V2World, headers: dict[str, str]) -> None:
    async with v2.client(None) as client:
        response = await client.get("/v2/", headers=headers)
        manifest = await client.get("/v2/111111111111/example/manifests/latest", headers=headers)
        head = await client.head("/v2/111111111111/example/manifests/latest", headers=headers)
    for answer in (response, manifest):
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == CHALLENGE
        assert answer.text == "Not Authorized\n"
    assert head.status_code == 401
    assert head.content == b""


async def test_valid_token_gets_200(v2: V2World) -> None:
    async with v2.client(OWNER_KEY) as client:
        response = await client.get("/v2/")
    assert response.status_code == 200
    assert response.json() == {}
    assert response.headers["docker-distribution-api-version"] == "registry/2.0"


async def test_realm_follows_the_host(v2: V2World) -> None:
    async with v2.client(None, host="registry.local:8443") as client:
        response = await client.get("/v2/")
    expected = 'Basic realm="https://registry.local:8443/",service="ecr.amazonaws.com"'
    assert response.headers["www-authenticate"] == expected


async def test_expired_token_is_403_denied(fresh: V2World) -> None:
    client = fresh.client(PULLER_KEY)
    fresh.clock.offset += timedelta(hours=12, seconds=1)
    async with client:
        response = await client.get("/v2/111111111111/example/manifests/latest")
    assert response.status_code == 403
    assert response.json() == {
        "errors": [
            {
                "code": "DENIED",
                "message": "Your authorization token has expired. Reauthenticate and try again.",
            }
        ]
    }


async def test_a_deactivated_key_stops_its_token(fresh: V2World) -> None:
    client = fresh.client(PULLER_KEY)
    async with client:
        assert (await client.get("/v2/")).status_code == 200
        consumer = fresh.actor("AKIACONSUMER00000001")
        fresh.server.identity.iam.users.update_access_key(
            consumer.principal, consumer.info, PULLER_KEY, "Inactive", name="puller"
        )
        response = await client.get("/v2/")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == CHALLENGE
