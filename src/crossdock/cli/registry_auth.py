"""Registry passwords from ``GetAuthorizationToken`` (boto3), for ``crossdock login`` and
``docker-credential-crossdock``.

Both talk to the ECR API exactly as the AWS CLI does, so they work against crossdock and
against real AWS. The endpoint is ``--endpoint-url``, else ``$CROSSDOCK_ENDPOINT_URL``,
else boto3's own resolution (``$AWS_ENDPOINT_URL``, then AWS). Credentials come from
``--profile`` or boto3's standard chain. Every failure becomes one :class:`LoginError`
line that says what is wrong and what to do.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

ENDPOINT_ENV = "CROSSDOCK_ENDPOINT_URL"
CROSSDOCK_DEFAULT_REGION = "us-east-1"
"""The region used with an explicit endpoint when none is configured (``crossdock serve``'s
default ``--region``)."""

_HOST_STYLE = re.compile(
    r"^(?P<account>[0-9]{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.(?P<domain>[^/:]+)$"
)


class LoginError(Exception):
    """A failure to obtain a registry password, as one line for the user."""


@dataclass(frozen=True, slots=True)
class ApiTarget:
    """Which ECR API to ask, and as whom."""

    endpoint_url: str | None = None
    profile: str | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class RegistryToken:
    """One ``authorizationData`` entry, decoded."""

    registry_host: str
    """``host[:port]`` of ``proxyEndpoint``: the key Docker and Podman look credentials up by."""
    proxy_endpoint: str
    authorization_token: str
    """``base64("AWS:" + password)``, the ``auth`` value of a Docker auth file."""
    expires_at: datetime

    @property
    def username(self) -> str:
        """The user name of the Basic credential (``AWS``)."""
        return self._decoded()[0]

    @property
    def password(self) -> str:
        """The password of the Basic credential."""
        return self._decoded()[1]

    def _decoded(self) -> tuple[str, str]:
        user, _, password = base64.b64decode(self.authorization_token).decode().partition(":")
        return user, password


def server_host(server_url: str) -> str:
    """``host[:port]`` of a server URL as Docker passes it (``https://h:p/v1/`` or ``h:p``),
    lower-cased."""
    text = server_url.strip()
    if "://" not in text:
        text = "//" + text
    parts = urlsplit(text)
    return (parts.netloc or parts.path).split("@")[-1].lower().rstrip("/")


@dataclass(frozen=True, slots=True)
class HostStyleRegistry:
    """What an ECR-style host name ``<account>.dkr.ecr.<region>.<domain>`` says."""

    account_id: str
    region: str
    domain: str


def parse_host_style(host: str) -> HostStyleRegistry | None:
    """The account and region a host-style registry host names, or None for other hosts."""
    match = _HOST_STYLE.match(host.split(":", 1)[0])
    if match is None:
        return None
    return HostStyleRegistry(match["account"], match["region"], match["domain"])


def endpoint_from_env(explicit: str | None) -> str | None:
    """``--endpoint-url`` if given, else ``$CROSSDOCK_ENDPOINT_URL`` (None: boto3 decides)."""
    return explicit or os.environ.get(ENDPOINT_ENV) or None


def _session(target: ApiTarget) -> Any:
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        return boto3.session.Session(profile_name=target.profile)
    except ProfileNotFound:
        raise LoginError(
            f"the AWS profile `{target.profile}` does not exist: list profiles with "
            "`aws configure list-profiles` or pass another --profile"
        ) from None


def _region(target: ApiTarget, session: Any) -> str:
    region = target.region or session.region_name
    if region:
        return str(region)
    if target.endpoint_url:
        return CROSSDOCK_DEFAULT_REGION
    raise LoginError("no AWS region is configured: pass --region or set AWS_REGION")


def fetch_tokens(target: ApiTarget, registry_ids: Sequence[str] = ()) -> list[RegistryToken]:
    """Call ``GetAuthorizationToken`` and decode every entry it returns."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
    )

    session = _session(target)
    region = _region(target, session)
    where = target.endpoint_url or f"the ECR API in {region}"
    try:
        client = session.client("ecr", region_name=region, endpoint_url=target.endpoint_url)
        params: dict[str, Any] = {"registryIds": list(registry_ids)} if registry_ids else {}
        response = client.get_authorization_token(**params)
    except ValueError as error:  # botocore rejects a malformed endpoint URL this way
        raise LoginError(f"invalid endpoint URL `{target.endpoint_url}`: {error}") from None
    except EndpointConnectionError:
        raise LoginError(
            f"cannot reach {where}: is the server running, and is the endpoint URL right?"
        ) from None
    except (NoCredentialsError, PartialCredentialsError):
        raise LoginError(
            "no AWS credentials found: pass --profile, set AWS_PROFILE, or set "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        ) from None
    except ClientError as error:
        details = error.response.get("Error", {})
        code = details.get("Code", "Error")
        message = details.get("Message", str(error))
        raise LoginError(f"GetAuthorizationToken failed ({code}): {message}") from None
    except BotoCoreError as error:
        raise LoginError(f"GetAuthorizationToken failed: {error}") from None
    return [_token(entry) for entry in response.get("authorizationData", [])]


def _token(entry: dict[str, Any]) -> RegistryToken:
    endpoint = str(entry["proxyEndpoint"]).rstrip("/")
    expires = entry["expiresAt"]
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    return RegistryToken(
        registry_host=server_host(endpoint),
        proxy_endpoint=endpoint,
        authorization_token=str(entry["authorizationToken"]),
        expires_at=expires,
    )
