"""STS: GetCallerIdentity and AssumeRole.

AssumeRole always evaluates the role's trust policy: the authorizer reads it through the
``iam`` resource lookup and the engine requires an explicit allow from it (plus, across
accounts, an identity allow of the caller). ``ExternalId`` and ``RoleSessionName`` become
the ``sts:ExternalId`` and ``sts:RoleSessionName`` context keys; session tags also need
``sts:TagSession``. The session's secret is sealed and its token only hashed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from crossdock.auth.principal import Principal
from crossdock.policy.context import PrincipalKind
from crossdock.policy.lint import PolicyKind
from crossdock.policy.variables import ContextValue
from crossdock.service.authz import RequestInfo
from crossdock.service.credentials import session_arn
from crossdock.service.iam_common import (
    IamContext,
    check_policy_document,
    check_tags,
    tag_extra,
    validation_error,
)
from crossdock.service.identity_ids import (
    TEMPORARY_KEY_PREFIX,
    new_access_key_id,
    new_secret_access_key,
    new_session_token,
)
from crossdock.storage.identity_store import RoleRecord, SessionRecord, policy_size
from crossdock.storage.secrets import SecretBox, token_hash

DEFAULT_DURATION = 3600
CHAINED_MAX_DURATION = 3600
SESSION_POLICY_LIMIT = 2048


@dataclass(frozen=True, slots=True)
class CallerIdentity:
    """GetCallerIdentity's answer."""

    user_id: str
    account: str
    arn: str


@dataclass(frozen=True, slots=True)
class AssumedRole:
    """AssumeRole's answer: the temporary credentials and the session's identity."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime
    assumed_role_id: str
    arn: str


@dataclass(frozen=True, slots=True)
class StsService:
    """The STS operations."""

    ctx: IamContext
    box: SecretBox

    def get_caller_identity(self, principal: Principal) -> CallerIdentity:
        """Who is calling; never denied."""
        return CallerIdentity(principal.unique_id, principal.account_id, principal.arn)

    def assume_role(
        self,
        principal: Principal,
        info: RequestInfo,
        role_arn: str,
        session_name: str,
        duration: int | None = None,
        external_id: str | None = None,
        policy: str | None = None,
        tags: Sequence[tuple[str, str]] = (),
    ) -> AssumedRole:
        """AssumeRole: trust policy (and, across accounts, identity policy) must allow."""
        seconds = DEFAULT_DURATION if duration is None else duration
        chained = principal.kind is PrincipalKind.ASSUMED_ROLE
        if chained and seconds > CHAINED_MAX_DURATION:
            raise validation_error(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles"
                " assumed by role chaining."
            )
        if policy is not None:
            if policy_size(policy) > SESSION_POLICY_LIMIT:
                raise validation_error(
                    "1 validation error detected: Value at 'policy' failed to satisfy"
                    f" constraint: Member must have length less than or equal to"
                    f" {SESSION_POLICY_LIMIT}"
                )
            check_policy_document(policy, PolicyKind.IDENTITY)
        checked = check_tags(tags)
        extra: dict[str, ContextValue] = {"sts:RoleSessionName": session_name}
        if external_id is not None:
            extra["sts:ExternalId"] = external_id
        self.ctx.require(principal, "sts:AssumeRole", role_arn, info, extra)
        if checked:
            tag_keys = {**extra, **tag_extra(checked)}
            self.ctx.require(principal, "sts:TagSession", role_arn, info, tag_keys)
        role_account, role_name = role_arn.split(":", 5)[4], role_arn.rsplit("/", 1)[-1]
        role = self.ctx.stores.roles.get_role(role_account, role_name)
        if role is None:  # pragma: no cover - deleted since the decision
            raise validation_error(f"The role {role_arn} cannot be assumed.")
        if seconds > role.max_session_duration:
            raise validation_error(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
            )
        return self._issue(principal, role, session_name, seconds, policy, checked)

    def _issue(
        self,
        principal: Principal,
        role: RoleRecord,
        session_name: str,
        seconds: int,
        policy: str | None,
        tags: tuple[tuple[str, str], ...],
    ) -> AssumedRole:
        issued = self.ctx.clock()
        expires = issued + timedelta(seconds=seconds)
        secret, token = new_secret_access_key(), new_session_token()
        account = role.account_id
        session = SessionRecord(
            access_key_id=new_access_key_id(TEMPORARY_KEY_PREFIX),
            secret_sealed=self.box.seal(secret),
            token_hash=token_hash(token),
            account_id=account,
            role_id=role.role_id,
            role_arn=role.arn,
            session_name=session_name,
            source_arn=principal.arn,
            issued_at=issued,
            expires_at=expires,
            session_policy=policy,
            session_tags=tags,
        )
        self.ctx.stores.keys.add_session(session)
        return AssumedRole(
            access_key_id=session.access_key_id,
            secret_access_key=secret,
            session_token=token,
            expiration=expires,
            assumed_role_id=f"{role.role_id}:{session_name}",
            arn=session_arn(account, role.name, session_name),
        )
