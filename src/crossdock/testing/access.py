"""Access decisions for the testing kit: ``crossdock explain`` over the server's data dir.

Every check is :func:`crossdock.service.access.explain_live.explain_live`: each action of
the verb decided through the Authorizer with the policies the server holds at that
moment, the trace, the AWS error and the smallest fix. A role stands for any session of
it; an ``assumed-role`` ARN for that session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crossdock.service.access.context import AccessContext
from crossdock.service.access.effective import Access
from crossdock.service.access.explain_live import LiveExplanation, explain_live
from crossdock.service.ecr.common import RepositoryRef


@dataclass(frozen=True, slots=True)
class AccessResult:
    """``principal`` doing ``action`` (``pull``, ``push`` or one ECR action) on a repository."""

    principal: str
    action: str
    repository_arn: str
    live: LiveExplanation

    @property
    def allowed(self) -> bool:
        """True when every action the verb needs is allowed, whatever the request."""
        return self.live.access is Access.ALLOWED

    @property
    def outcome(self) -> str:
        """``Allowed``, ``Conditional`` (an allow that hinges on request facts such as the
        source IP), ``ExplicitlyDenied`` when any action is, else ``ImplicitlyDenied``."""
        if self.live.access is Access.CONDITIONAL:
            return "Conditional"
        outcomes = {a.result.decision.outcome.value for a in self.live.actions}
        for value in ("ExplicitlyDenied", "ImplicitlyDenied"):
            if value in outcomes:
                return value
        return "Allowed"

    def explanation(self) -> str:
        """What ``crossdock explain`` prints for this request."""
        return self.live.to_text()


class DataDirAccess:
    """Reads a running server's data dir: decisions, explanations and root keys."""

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self._engine: Any = None

    def _open(self) -> Any:
        if self._engine is None:
            from crossdock.storage.data_dir import open_existing_data_dir

            self._engine = open_existing_data_dir(self._data_dir)
        return self._engine

    def check(self, principal_arn: str, action: str, repository: RepositoryRef) -> AccessResult:
        """Explain ``principal_arn`` doing ``action`` on ``repository``, live.

        Raises ``crossdock.service.access.errors.AccessInputError`` for an unknown
        principal, repository or action.
        """
        from crossdock.api.ecr.services import ecr_lookup, ecr_stores
        from crossdock.storage.data_dir import BLOB_DIR_NAME
        from crossdock.storage.sql.identity_stores import sql_identity_stores

        engine = self._open()
        registry = ecr_stores(engine, self._data_dir / BLOB_DIR_NAME)
        context = AccessContext.create(
            sql_identity_stores(engine),
            registry.repositories,
            ecr_lookup(registry),
            datetime.now(UTC),
        )
        live = explain_live(context, principal_arn, repository, action)
        return AccessResult(principal_arn, action, repository.arn, live)

    def root_key(self, account_id: str) -> tuple[str, str]:
        """The account's first active root key (created when it has none)."""
        from crossdock.service.identities import build_identity
        from crossdock.storage.data_dir import open_data_dir
        from crossdock.storage.sql.identity_stores import sql_identity_stores

        engine, box = open_data_dir(self._data_dir)
        try:
            identity = build_identity(sql_identity_stores(engine), box, lambda: datetime.now(UTC))
            key = identity.accounts.create_account(account_id, None, None, exist_ok=True)
        finally:
            engine.dispose()
        return key.access_key_id, key.secret_access_key

    def close(self) -> None:
        """Release the database connections."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
