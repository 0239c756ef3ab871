"""The cross-account walkthrough scenario, as the real-client tests use it.

``examples/cross-account-walkthrough.yaml`` fixes every access key: the root of
111111111111 (the owner of ``example``), the root of 222222222222 and its user ``puller``
(with the identity policy ``PullExample``), and ``mallory`` of 333333333333 (``ecr:*``).
Registry passwords come from GetAuthorizationToken (boto3) or from ``aws ecr get-login``
(the AWS CLI v1), exactly as a user would get them.
"""

from __future__ import annotations

import base64
import os
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import yaml
from serve_process import RunningServer, aws_cli_v1

WALKTHROUGH = Path(__file__).resolve().parents[2] / "examples" / "cross-account-walkthrough.yaml"
OWNER, CONSUMER, OTHER = "111111111111", "222222222222", "333333333333"
REPO_ARN = f"arn:aws:ecr:us-east-1:{OWNER}:repository/example"
KEY_IDS = {
    "owner": "AKIAOWNER00000000001",
    "consumer": "AKIACONSUMER00000001",
    "puller": "AKIAPULLER0000000001",
    "mallory": "AKIAMALLORY000000001",
}


def scenario() -> dict[str, Any]:
    """The walkthrough scenario file, parsed."""
    loaded: dict[str, Any] = yaml.safe_load(WALKTHROUGH.read_text())
    return loaded


def keys(who: str) -> tuple[str, str]:
    """The access key id and secret of ``who`` (a key of :data:`KEY_IDS`), from the file."""
    found: dict[str, str] = {}

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "id" in node and "secret" in node:
                found[str(node["id"])] = str(node["secret"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(scenario())
    return KEY_IDS[who], found[KEY_IDS[who]]


def puller_policy() -> tuple[str, dict[str, Any]]:
    """The name and document of the puller's inline identity policy in the scenario."""
    account = next(a for a in scenario()["accounts"] if a["id"] == CONSUMER)
    user = next(u for u in account["users"] if u["name"] == "puller")
    policy = user["policies"][0]
    return str(policy["name"]), dict(policy["document"])


def client(server: RunningServer, service: str, who: str) -> Any:
    """A boto3 client of ``service`` signed with the keys of ``who``."""
    key_id, secret = keys(who)
    return boto3.session.Session().client(
        service,
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
    )


def token(server: RunningServer, who: str, registry_id: str = OWNER) -> tuple[str, datetime]:
    """A registry password for ``who`` from GetAuthorizationToken, and when it expires."""
    response = client(server, "ecr", who).get_authorization_token(registryIds=[registry_id])
    data = response["authorizationData"][0]
    assert data["proxyEndpoint"] == server.url
    user, _, secret = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    assert user == "AWS"
    expires: datetime = data["expiresAt"]
    return secret, expires


def password(server: RunningServer, who: str, registry_id: str = OWNER) -> str:
    """A registry password for ``who`` from GetAuthorizationToken (``AWS:`` stripped)."""
    return token(server, who, registry_id)[0]


def aws_v1(server: RunningServer, who: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the AWS CLI v1 as ``who`` against ``server``, with no configuration files."""
    key_id, secret = keys(who)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_ACCESS_KEY_ID": key_id,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PAGER": "",
    }
    return subprocess.run(
        [aws_cli_v1(), *args, "--endpoint-url", server.url],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


def get_login(server: RunningServer, who: str) -> list[str]:
    """The command ``aws ecr get-login --registry-ids 111111111111 --no-include-email`` prints."""
    done = aws_v1(server, who, "ecr", "get-login", "--registry-ids", OWNER, "--no-include-email")
    assert done.returncode == 0, done.stderr
    words = done.stdout.split()
    assert words[:5] == ["docker", "login", "-u", "AWS", "-p"], words[:5]
    assert words[6:] == [server.url]
    return words
