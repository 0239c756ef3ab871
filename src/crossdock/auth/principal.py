"""The authenticated caller of a request, as every service sees it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crossdock.policy.context import Caller, PrincipalKind


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """What an STS role session adds to its principal."""

    role_arn: str
    """The role, with its path (``arn:aws:iam::A:role/path/name``)."""
    role_id: str
    """The role's unique id (``AROA...``)."""
    session_name: str
    issued_at: datetime
    expires_at: datetime
    session_policy: str | None = None
    """The inline session policy passed to AssumeRole, as JSON text."""


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated AWS principal: an account root user, an IAM user or a role session.

    ``unique_id`` is the value of ``aws:userid`` (the account id for root, ``AIDA...`` for a
    user, ``AROA...:<session>`` for a role session). ``tags`` are the principal's tags
    (user or role tags, then session tags, which win).
    """

    account_id: str
    kind: PrincipalKind
    arn: str
    unique_id: str
    access_key_id: str
    user_name: str | None = None
    session: SessionInfo | None = None
    tags: tuple[tuple[str, str], ...] = ()
    permissions_boundary_arn: str | None = None

    @property
    def principal_arn(self) -> str:
        """The value of ``aws:PrincipalArn``: the role ARN for a session, else :attr:`arn`."""
        return self.session.role_arn if self.session is not None else self.arn

    def caller(self) -> Caller:
        """The policy engine's view of this principal."""
        session = self.session
        user_ids = frozenset({self.unique_id}) if self.kind is PrincipalKind.USER else frozenset()
        return Caller(
            arn=self.arn,
            kind=self.kind,
            account=self.account_id,
            role_arn=session.role_arn if session is not None else None,
            unique_ids=user_ids,
            permissions_boundary=self.permissions_boundary_arn is not None,
            role_id=session.role_id if session is not None else None,
        )
