"""GetAuthorizationToken: authorized by identity policy on ``*``, one entry per registry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from crossdock.auth.tokens import RegistryTokens
from crossdock.core.arn import is_account_id
from crossdock.service.authz import Authorizer
from crossdock.service.ecr.addressing import RegistryAddressing
from crossdock.service.ecr.common import Actor, authorize
from crossdock.service.ecr.errors import invalid_parameter

MAX_REGISTRY_IDS = 10


@dataclass(frozen=True, slots=True)
class AuthorizationData:
    """One ``authorizationData`` entry."""

    authorization_token: str
    expires_at: datetime
    proxy_endpoint: str


class TokenService:
    """Issues registry tokens; ``registryIds`` only changes ``proxyEndpoint``."""

    def __init__(
        self, tokens: RegistryTokens, authorizer: Authorizer, addressing: RegistryAddressing
    ) -> None:
        self._tokens = tokens
        self._authorizer = authorizer
        self._addressing = addressing

    def get_authorization_token(
        self, actor: Actor, registry_ids: Sequence[str] | None
    ) -> list[AuthorizationData]:
        """GetAuthorizationToken: one token, listed once per registry id (default: own)."""
        if registry_ids is not None:
            if not 1 <= len(registry_ids) <= MAX_REGISTRY_IDS:
                reason = f"Member must have length between 1 and {MAX_REGISTRY_IDS}"
                raise invalid_parameter("registryIds", reason)
            if not all(isinstance(r, str) and is_account_id(r) for r in registry_ids):
                raise invalid_parameter(
                    "registryIds",
                    "Member must satisfy constraint: [Member must satisfy regular "
                    "expression pattern: [0-9]{12}]",
                )
        authorize(self._authorizer, actor, "ecr:GetAuthorizationToken", "*")
        issued = self._tokens.issue(actor.principal, actor.info.now)
        region = actor.info.region
        ids = list(dict.fromkeys(registry_ids)) if registry_ids else [actor.account_id]
        return [
            AuthorizationData(
                issued.authorization_token,
                issued.expires_at,
                self._addressing.proxy_endpoint(registry_id, region),
            )
            for registry_id in ids
        ]
