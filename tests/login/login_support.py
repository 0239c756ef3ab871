"""Helpers shared by the login and credential-helper tests."""

from __future__ import annotations

import base64
import urllib.error
import urllib.request

import pytest

from crossdock.testing import CrossdockServer


def use_keys(monkeypatch: pytest.MonkeyPatch, server: CrossdockServer, principal: str) -> None:
    """Put ``principal``'s access key in the environment (boto3's standard chain)."""
    keys = server.credentials(principal)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys.secret_access_key)
    if keys.session_token:
        monkeypatch.setenv("AWS_SESSION_TOKEN", keys.session_token)


def v2_status(server: CrossdockServer, authorization_token: str) -> int:
    """The status of ``GET /v2/`` with ``Basic <authorization_token>``."""
    request = urllib.request.Request(
        f"{server.url}/v2/", headers={"Authorization": f"Basic {authorization_token}"}
    )
    try:
        with urllib.request.urlopen(request) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def basic(user: str, password: str) -> str:
    """``base64(user:password)``."""
    return base64.b64encode(f"{user}:{password}".encode()).decode()
