"""Registry tokens: format, expiry, session bound, verification by any node."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from ecr_world import NOW, World, allow

from crossdock.auth.principal import Principal, SessionInfo
from crossdock.auth.tokens import ExpiredToken, RegistryTokens, TokenGrant, TokenRejection
from crossdock.policy.context import PrincipalKind
from crossdock.service.ecr.addressing import RegistryAddressing


def test_token_format_and_verification(world: World) -> None:
    puller = world.user("222222222222", "puller", allow("ecr:GetAuthorizationToken"))
    (entry,) = world.services.tokens.get_authorization_token(world.actor(puller), None)
    decoded = base64.b64decode(entry.authorization_token).decode()
    user, password = decoded.split(":")  # AWS CLI v1 splits exactly once
    assert user == "AWS"
    assert password
    assert not any(c.isspace() for c in password)
    assert entry.expires_at == NOW + timedelta(hours=12)
    assert entry.proxy_endpoint == "http://127.0.0.1:5000"
    # another node sharing the database verifies it
    other_node = RegistryTokens(world.stores.tokens)
    grant = other_node.verify_registry_password(password, NOW + timedelta(hours=1))
    assert grant == TokenGrant(puller.access_key_id, puller.arn, NOW + timedelta(hours=12))
    assert other_node.verify_basic(entry.authorization_token, NOW) == grant
    expired = other_node.verify_registry_password(password, NOW + timedelta(hours=12))
    assert expired == ExpiredToken(grant, NOW)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("", TokenRejection.MALFORMED),
        ("no-dot", TokenRejection.MALFORMED),
        ("0" * 32 + "." + "A" * 43, TokenRejection.UNKNOWN),
    ],
)
def test_rejections(world: World, password: str, reason: TokenRejection) -> None:
    assert world.services.registry_tokens.verify_registry_password(password, NOW) is reason


def test_wrong_secret_is_unknown(world: World) -> None:
    tokens = world.services.registry_tokens
    issued = tokens.issue(world.account("111111111111"), NOW)
    token_id, secret = issued.password.split(".")
    forged = token_id + "." + ("B" if secret[0] != "B" else "C") + secret[1:]
    assert tokens.verify_registry_password(forged, NOW) is TokenRejection.UNKNOWN
    assert tokens.verify_basic(base64.b64encode(b"bob:x").decode(), NOW) is (
        TokenRejection.MALFORMED
    )
    assert tokens.verify_basic("%%%", NOW) is TokenRejection.MALFORMED


def test_session_tokens_expire_with_the_session(world: World) -> None:
    role = "arn:aws:iam::222222222222:role/r"
    world.loader.identity[role] = [
        '{"Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*"}}'
    ]
    session = Principal(
        account_id="222222222222",
        kind=PrincipalKind.ASSUMED_ROLE,
        arn="arn:aws:sts::222222222222:assumed-role/r/s",
        unique_id="AROAEXAMPLE:s",
        access_key_id="ASIAEXAMPLE",
        session=SessionInfo(role, "AROAEXAMPLE", "s", NOW, NOW + timedelta(minutes=15)),
    )
    (entry,) = world.services.tokens.get_authorization_token(world.actor(session), None)
    assert entry.expires_at == NOW + timedelta(minutes=15)


def test_registry_ids_only_change_the_endpoint(tmp_path: object) -> None:
    addressing = RegistryAddressing("localhost", 8443, "https", "example.test")
    assert addressing.proxy_endpoint("111111111111", "eu-west-1") == (
        "https://111111111111.dkr.ecr.eu-west-1.example.test:8443"
    )
    assert addressing.repository_uri("111111111111", "eu-west-1", "a/b") == (
        "111111111111.dkr.ecr.eu-west-1.example.test:8443/a/b"
    )
    assert addressing.blob_url("111111111111", "eu-west-1", "a", "sha256:x") == (
        "https://111111111111.dkr.ecr.eu-west-1.example.test:8443/v2/a/blobs/sha256:x"
    )
    path_style = RegistryAddressing("127.0.0.1", 80)
    assert path_style.repository_uri("111111111111", "us-east-1", "a") == "127.0.0.1/111111111111/a"


def test_several_registry_ids(world: World) -> None:
    root = world.account("111111111111")
    entries = world.services.tokens.get_authorization_token(
        world.actor(root), ["111111111111", "222222222222"]
    )
    assert [e.proxy_endpoint for e in entries] == ["http://127.0.0.1:5000"] * 2
    assert entries[0].authorization_token == entries[1].authorization_token
