"""The credential resolver over the identity store: access key id → secret and Principal.

``AKIA...`` keys belong to IAM users or to an account's root user; ``ASIA...`` keys to
role sessions. An inactive or unknown key resolves to None. An expired session still
resolves (with its expiry), so the verifier can answer ExpiredToken rather than
InvalidClientTokenId.
"""

from __future__ import annotations

from crossdock.auth.credentials import Credential
from crossdock.auth.principal import Principal, SessionInfo
from crossdock.policy.context import PrincipalKind
from crossdock.service.identity_cache import GenerationCache
from crossdock.service.identity_ids import TEMPORARY_KEY_PREFIX
from crossdock.storage.identity_store import IdentityStores, SessionRecord, Tags
from crossdock.storage.secrets import SecretBox


def root_principal(account_id: str, access_key_id: str) -> Principal:
    """The account root user."""
    return Principal(
        account_id=account_id,
        kind=PrincipalKind.ROOT,
        arn=f"arn:aws:iam::{account_id}:root",
        unique_id=account_id,
        access_key_id=access_key_id,
    )


def session_arn(account_id: str, role_name: str, session_name: str) -> str:
    """``arn:aws:sts::<account>:assumed-role/<role name>/<session name>`` (no role path)."""
    return f"arn:aws:sts::{account_id}:assumed-role/{role_name}/{session_name}"


def merged_tags(base: Tags, override: Tags) -> Tags:
    """``base`` tags with ``override`` winning (keys compared case-insensitively)."""
    keys = {key.lower() for key, _ in override}
    return tuple(tag for tag in base if tag[0].lower() not in keys) + tuple(override)


class StoreCredentialResolver:
    """A ``CredentialResolver`` over the identity store and the secret box, cached for as
    long as the store's generation holds (see :mod:`crossdock.service.identity_cache`)."""

    def __init__(self, stores: IdentityStores, box: SecretBox) -> None:
        self.stores = stores
        self.box = box
        self._cache: GenerationCache[str, Credential | None] = GenerationCache(stores.generations)

    def credential(self, access_key_id: str) -> Credential | None:
        """The credential of ``access_key_id``, or None when unknown or inactive."""
        return self._cache.get(access_key_id, lambda: self._load(access_key_id))

    def _load(self, access_key_id: str) -> Credential | None:
        if access_key_id.startswith(TEMPORARY_KEY_PREFIX):
            return self._session(access_key_id)
        key = self.stores.keys.get_access_key(access_key_id)
        if key is None or key.status != "Active":
            return None
        secret = self.box.open(key.secret_sealed)
        if key.user_id is None:
            return Credential(access_key_id, secret, root_principal(key.account_id, access_key_id))
        user = self.stores.users.get_user_by_id(key.user_id)
        if user is None:  # pragma: no cover - keys block user deletion
            return None
        principal = Principal(
            account_id=user.account_id,
            kind=PrincipalKind.USER,
            arn=user.arn,
            unique_id=user.user_id,
            access_key_id=access_key_id,
            user_name=user.name,
            tags=user.tags,
            permissions_boundary_arn=user.boundary_arn,
        )
        return Credential(access_key_id, secret, principal)

    def _session(self, access_key_id: str) -> Credential | None:
        session = self.stores.keys.get_session(access_key_id)
        if session is None:
            return None
        return Credential(
            access_key_id=access_key_id,
            secret_access_key=self.box.open(session.secret_sealed),
            principal=self.session_principal(session),
            expires_at=session.expires_at,
            session_token_sha256=session.token_hash,
        )

    def session_principal(self, session: SessionRecord) -> Principal:
        """The principal of a role session: the role's current tags and boundary apply."""
        role = self.stores.roles.get_role_by_id(session.role_id)
        role_name = session.role_arn.rsplit("/", 1)[-1]
        role_tags: Tags = () if role is None else role.tags
        return Principal(
            account_id=session.account_id,
            kind=PrincipalKind.ASSUMED_ROLE,
            arn=session_arn(session.account_id, role_name, session.session_name),
            unique_id=f"{session.role_id}:{session.session_name}",
            access_key_id=session.access_key_id,
            session=SessionInfo(
                role_arn=session.role_arn,
                role_id=session.role_id,
                session_name=session.session_name,
                issued_at=session.issued_at,
                expires_at=session.expires_at,
                session_policy=session.session_policy,
            ),
            tags=merged_tags(role_tags, session.session_tags),
            permissions_boundary_arn=None if role is None else role.boundary_arn,
        )
