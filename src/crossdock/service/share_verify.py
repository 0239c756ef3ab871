"""``share --verify``: a real, authenticated pull of the repository's manifest.

As a registry client does it: GetAuthorizationToken as the consumer (``registryIds`` =
the owner), then ``GET /v2/<repository>/manifests/<reference>`` at the token's
``proxyEndpoint`` with ``Authorization: Basic <token>``. The path is ``<repository>`` on
an ECR-style host (``<owner>.dkr.ecr...``) and ``<owner>/<repository>`` on a path-style
crossdock endpoint.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from crossdock.service.share_aws import describe
from crossdock.service.share_policy import RepositoryRef

MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    )
)


@dataclass(frozen=True, slots=True)
class PullCheck:
    """The outcome of the real pull."""

    ok: bool
    url: str
    status: int | None
    detail: str
    """The manifest digest when it worked; the registry's or the API's error text if not."""


def manifest_url(endpoint: str, repository: RepositoryRef, reference: str) -> str:
    """The manifest URL below ``proxyEndpoint`` for ``repository`` and ``reference``."""
    host = urlsplit(endpoint).hostname or ""
    host_style = host.startswith(f"{repository.account}.dkr.")
    path = repository.name if host_style else f"{repository.account}/{repository.name}"
    return f"{endpoint.rstrip('/')}/v2/{path}/manifests/{reference}"


def _registry_error(body: bytes) -> str:
    try:
        errors = json.loads(body.decode("utf-8"))["errors"]
        first = errors[0]
        return f"{first['code']}: {first['message']}"
    except (ValueError, KeyError, IndexError, TypeError):
        return body.decode("utf-8", "replace").strip()


def verify_pull(
    ecr: Any, repository: RepositoryRef, reference: str, timeout: float = 30
) -> PullCheck:
    """Log in as the consumer (``ecr`` is its boto3 ECR client) and fetch the manifest."""
    try:
        data = ecr.get_authorization_token(registryIds=[repository.account])
    except (ClientError, BotoCoreError) as error:
        return PullCheck(False, "", None, f"GetAuthorizationToken: {describe(error)}")
    found = data["authorizationData"][0]
    url = manifest_url(str(found["proxyEndpoint"]), repository, reference)
    if urlsplit(url).scheme not in ("http", "https"):
        return PullCheck(False, url, None, "the proxyEndpoint is not an http(s) URL")
    pull = urllib.request.Request(
        url,
        headers={"Authorization": f"Basic {found['authorizationToken']}", "Accept": MANIFEST_TYPES},
    )
    try:
        with urllib.request.urlopen(pull, timeout=timeout) as response:
            digest = response.headers.get("Docker-Content-Digest") or "(no digest header)"
            return PullCheck(True, url, response.status, digest)
    except urllib.error.HTTPError as error:
        return PullCheck(False, url, error.code, _registry_error(error.read()))
    except (urllib.error.URLError, OSError) as error:
        return PullCheck(False, url, None, f"cannot reach {url}: {error}")
