"""Reading what the operator typed: repository ARNs, image URIs, names and principal ARNs.

Image URIs come in the two forms :class:`~crossdock.service.ecr.addressing.RegistryAddressing`
hands out as ``repositoryUri``: host style ``<account>.dkr.ecr.<region>.<domain>[:port]/<repo>``
and path style ``HOST[:PORT]/<account>/<repo>``, each optionally with ``:tag`` or
``@digest``. Path style carries no region: the caller's default region applies.
"""

from __future__ import annotations

import re

from crossdock.core.arn import is_account_id
from crossdock.service.access.errors import AccessInputError
from crossdock.service.ecr.common import RepositoryRef, validate_repository_name
from crossdock.service.errors import InvalidParameterError

_HOST_STYLE = re.compile(r"([0-9]{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]{1,32})\.[^/]+")
_REPOSITORY_ARN = re.compile(r"arn:aws[a-z-]*:ecr:([a-z0-9-]+):([0-9]{12}):repository/(.+)")


def _checked_name(name: str, where: str) -> str:
    try:
        return validate_repository_name(name)
    except InvalidParameterError:
        raise AccessInputError(
            f"`{name}` in `{where}` is not a valid repository name",
            "use lowercase letters, digits and . _ - / (2 to 256 characters)",
        ) from None


def parse_repository_arn(value: str) -> RepositoryRef:
    """``arn:aws:ecr:<region>:<account>:repository/<name>`` → its reference."""
    match = _REPOSITORY_ARN.fullmatch(value)
    if match is None:
        raise AccessInputError(
            f"`{value}` is not a repository ARN",
            "use arn:aws:ecr:REGION:ACCOUNT:repository/NAME",
        )
    region, account, name = match.groups()
    return RepositoryRef(account, region, _checked_name(name, value))


def _strip_reference(path: str) -> str:
    """Drop ``@digest`` or a trailing ``:tag`` (a colon after the last slash)."""
    path = path.partition("@")[0]
    head, slash, last = path.rpartition("/")
    return f"{head}{slash}{last.partition(':')[0]}"


def looks_like_image_uri(value: str) -> bool:
    """True when the first path segment is a registry host (docker's rule: it holds a
    ``.`` or a ``:``, or is ``localhost``)."""
    host, slash, _ = value.partition("/")
    return bool(slash) and ("." in host or ":" in host or host == "localhost")


def parse_image_uri(value: str, default_region: str) -> RepositoryRef:
    """The repository an image URI (host or path style, with tag or digest) names."""
    host, slash, path = value.removeprefix("https://").removeprefix("http://").partition("/")
    if not slash or not path:
        raise AccessInputError(
            f"`{value}` is not an image URI",
            "use ACCOUNT.dkr.ecr.REGION.DOMAIN/REPO[:TAG] or HOST:PORT/ACCOUNT/REPO[:TAG]",
        )
    path = _strip_reference(path)
    match = _HOST_STYLE.fullmatch(host.lower())
    if match is not None:
        account, region = match.groups()
        return RepositoryRef(account, region, _checked_name(path, value))
    account, _, name = path.partition("/")
    if not is_account_id(account) or not name:
        raise AccessInputError(
            f"the image URI `{value}` names no account",
            "path-style URIs are HOST:PORT/ACCOUNT/REPO[:TAG] with a 12-digit ACCOUNT",
        )
    return RepositoryRef(account, default_region, _checked_name(name, value))


def parse_repository(value: str, registry_id: str | None, default_region: str) -> RepositoryRef:
    """A repository given as an ARN, an image URI, or a name with ``registry_id``."""
    if value.startswith("arn:"):
        return parse_repository_arn(value)
    if registry_id is not None:
        if not is_account_id(registry_id):
            raise AccessInputError(
                f"`{registry_id}` is not an account id", "use the 12-digit registry id"
            )
        return RepositoryRef(registry_id, default_region, _checked_name(value, value))
    if looks_like_image_uri(value):
        return parse_image_uri(value, default_region)
    raise AccessInputError(
        f"`{value}` names no account",
        "add --registry-id ACCOUNT, or give the repository ARN or an image URI",
    )
