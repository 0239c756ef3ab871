"""What every ECR service shares: the caller, repository references, name rules, paging."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from crossdock.auth.principal import Principal
from crossdock.core.arn import is_account_id
from crossdock.policy.variables import ContextValue
from crossdock.service.authz import Authorizer, RequestInfo
from crossdock.service.ecr.errors import invalid_parameter

REPOSITORY_NAME_PATTERN = r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*"
"""The botocore model's repositoryName pattern (spec §5.2)."""
_REPOSITORY_NAME = re.compile(REPOSITORY_NAME_PATTERN)
REGISTRY_ID_PATTERN = "[0-9]{12}"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is calling and the facts of their request (for the policy context)."""

    principal: Principal
    info: RequestInfo

    @property
    def account_id(self) -> str:
        """The caller's account: the default registry."""
        return self.principal.account_id

    @property
    def now(self) -> float:
        """The request time as epoch seconds."""
        return self.info.now.timestamp()


@dataclass(frozen=True, slots=True)
class RepositoryRef:
    """A repository name in one account's registry in one region (it may not exist)."""

    registry_id: str
    region: str
    name: str

    @property
    def arn(self) -> str:
        """``arn:aws:ecr:<region>:<account>:repository/<name>``."""
        return repository_arn(self.region, self.registry_id, self.name)


def repository_arn(region: str, account_id: str, name: str) -> str:
    """The repository's ARN."""
    return f"arn:aws:ecr:{region}:{account_id}:repository/{name}"


def validate_registry_id(registry_id: str, parameter: str = "registryId") -> str:
    """Return a 12-digit account id, else raise ECR's InvalidParameterException."""
    if not is_account_id(registry_id):
        reason = f"must satisfy regular expression '{REGISTRY_ID_PATTERN}'"
        raise invalid_parameter(parameter, reason)
    return registry_id


def validate_repository_name(name: str, parameter: str = "repositoryName") -> str:
    """Return a valid repository name, else raise ECR's InvalidParameterException.

    The rules (2–256 characters and the model's pattern) also stop path tricks: no
    ``..``, no leading, trailing or doubled ``/``, nothing but ``[a-z0-9._/-]``.
    """
    if len(name) < 2:
        raise invalid_parameter(parameter, "must have length greater than or equal to 2")
    if len(name) > 256:
        raise invalid_parameter(parameter, "must have length less than or equal to 256")
    if _REPOSITORY_NAME.fullmatch(name) is None:
        reason = f"must satisfy regular expression '{REPOSITORY_NAME_PATTERN}'"
        raise invalid_parameter(parameter, reason)
    return name


def repository_ref(actor: Actor, registry_id: str | None, name: str) -> RepositoryRef:
    """The repository the request names: ``registryId`` or the caller's own registry."""
    account = validate_registry_id(registry_id) if registry_id is not None else actor.account_id
    return RepositoryRef(account, actor.info.region, validate_repository_name(name))


def authorize(
    authorizer: Authorizer,
    actor: Actor,
    action: str,
    resource: str,
    extra: dict[str, ContextValue] | None = None,
) -> None:
    """``Authorizer.require`` for ``actor`` (raises AccessDeniedError)."""
    authorizer.require(actor.principal, action, resource, actor.info, extra)


def encode_token(state: dict[str, Any]) -> str:
    """An opaque ``nextToken`` for paging state."""
    raw = json.dumps(state, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """Read a ``nextToken``; raise InvalidParameterException when it is not ours."""
    try:
        padded = token + "=" * (-len(token) % 4)
        state = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        state = None
    if not isinstance(state, dict) or set(state) != set(keys):
        raise invalid_parameter("nextToken", "Invalid token")
    return state


def page_size(max_results: int | None, default: int = 100) -> int:
    """``maxResults`` within 1–1000, else ECR's InvalidParameterException."""
    if max_results is None:
        return default
    if not 1 <= max_results <= 1000:
        reason = "must be between 1 and 1000"
        raise invalid_parameter("maxResults", reason)
    return max_results
