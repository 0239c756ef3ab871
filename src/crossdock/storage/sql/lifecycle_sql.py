"""LifecycleStore over SQL: lifecycle policies and previews (portable Core statements)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update

from crossdock.storage.registry_store import (
    LifecyclePolicyRecord,
    LifecyclePreviewEntry,
    LifecyclePreviewRecord,
    LifecycleTarget,
)
from crossdock.storage.sql.registry_tables import (
    lifecycle_policies,
    lifecycle_previews,
    repositories,
)
from crossdock.storage.sql.repositories_sql import lock_repository

IN_PROGRESS = "IN_PROGRESS"


def _policy(row: Any) -> LifecyclePolicyRecord:
    return LifecyclePolicyRecord(
        repository_id=row.repository_id,
        text=row.policy_text,
        updated_at=row.updated_at,
        last_evaluated_at=row.last_evaluated_at,
    )


def _dump_entries(entries: Sequence[LifecyclePreviewEntry]) -> str:
    rows = [[e.digest, list(e.tags), e.pushed_at, e.rule_priority] for e in entries]
    return json.dumps(rows, separators=(",", ":"))


def _load_entries(text: str) -> tuple[LifecyclePreviewEntry, ...]:
    return tuple(
        LifecyclePreviewEntry(str(d), tuple(str(t) for t in tags), float(at), int(priority))
        for d, tags, at, priority in json.loads(text)
    )


class SqlLifecycleStore:
    """:class:`crossdock.storage.registry_store.LifecycleStore` over an Engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @staticmethod
    def _read_policy(conn: Connection, repository_id: int) -> LifecyclePolicyRecord | None:
        row = conn.execute(
            select(lifecycle_policies).where(lifecycle_policies.c.repository_id == repository_id)
        ).first()
        return None if row is None else _policy(row)

    def get_lifecycle_policy(self, repository_id: int) -> LifecyclePolicyRecord | None:
        """Primary-key lookup."""
        with self._engine.connect() as conn:
            return self._read_policy(conn, repository_id)

    def put_lifecycle_policy(self, repository_id: int, text: str, now: float) -> None:
        """Upsert under the repository's lock; a new text resets ``last_evaluated_at``."""
        with self._engine.begin() as conn:
            if not lock_repository(conn, repository_id):
                return
            values = {"policy_text": text, "updated_at": now, "last_evaluated_at": None}
            changed = conn.execute(
                update(lifecycle_policies)
                .where(lifecycle_policies.c.repository_id == repository_id)
                .values(**values)
            ).rowcount
            if not changed:
                conn.execute(
                    insert(lifecycle_policies).values(repository_id=repository_id, **values)
                )

    def delete_lifecycle_policy(self, repository_id: int) -> LifecyclePolicyRecord | None:
        """Read and delete in one transaction."""
        with self._engine.begin() as conn:
            if not lock_repository(conn, repository_id):
                return None
            old = self._read_policy(conn, repository_id)
            if old is not None:
                conn.execute(
                    delete(lifecycle_policies).where(
                        lifecycle_policies.c.repository_id == repository_id
                    )
                )
            return old

    def lifecycle_evaluated(self, repository_id: int, text: str, now: float) -> bool:
        """Set ``last_evaluated_at`` when the stored text is still ``text``."""
        with self._engine.begin() as conn:
            result = conn.execute(
                update(lifecycle_policies)
                .where(
                    lifecycle_policies.c.repository_id == repository_id,
                    lifecycle_policies.c.policy_text == text,
                )
                .values(last_evaluated_at=now)
            )
            return bool(result.rowcount)

    def lifecycle_targets(self, after: int | None, limit: int) -> list[LifecycleTarget]:
        """Repositories joined with their policies, by repository id."""
        query = (
            select(
                lifecycle_policies,
                repositories.c.account_id,
                repositories.c.region,
                repositories.c.name,
            )
            .join(repositories, repositories.c.id == lifecycle_policies.c.repository_id)
            .order_by(lifecycle_policies.c.repository_id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(lifecycle_policies.c.repository_id > after)
        with self._engine.connect() as conn:
            return [
                LifecycleTarget(
                    row.repository_id, row.account_id, row.region, row.name, _policy(row)
                )
                for row in conn.execute(query)
            ]

    def begin_lifecycle_preview(
        self, repository_id: int, text: str, now: float, stale_before: float
    ) -> bool:
        """Check for a running preview and replace it, under the repository's lock."""
        with self._engine.begin() as conn:
            if not lock_repository(conn, repository_id):
                return False
            current = conn.execute(
                select(lifecycle_previews.c.status, lifecycle_previews.c.started_at).where(
                    lifecycle_previews.c.repository_id == repository_id
                )
            ).first()
            if (
                current is not None
                and current.status == IN_PROGRESS
                and current.started_at >= stale_before
            ):
                return False
            conn.execute(
                delete(lifecycle_previews).where(
                    lifecycle_previews.c.repository_id == repository_id
                )
            )
            conn.execute(
                insert(lifecycle_previews).values(
                    repository_id=repository_id,
                    policy_text=text,
                    status=IN_PROGRESS,
                    started_at=now,
                    results="[]",
                )
            )
        return True

    def finish_lifecycle_preview(
        self,
        repository_id: int,
        started_at: float,
        status: str,
        entries: Sequence[LifecyclePreviewEntry],
    ) -> None:
        """Update the preview row begun at ``started_at`` (a newer one is left alone)."""
        with self._engine.begin() as conn:
            conn.execute(
                update(lifecycle_previews)
                .where(
                    lifecycle_previews.c.repository_id == repository_id,
                    lifecycle_previews.c.started_at == started_at,
                )
                .values(status=status, results=_dump_entries(entries))
            )

    def get_lifecycle_preview(self, repository_id: int) -> LifecyclePreviewRecord | None:
        """Primary-key lookup."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(lifecycle_previews).where(
                    lifecycle_previews.c.repository_id == repository_id
                )
            ).first()
        if row is None:
            return None
        return LifecyclePreviewRecord(
            repository_id=row.repository_id,
            text=row.policy_text,
            status=row.status,
            started_at=row.started_at,
            entries=_load_entries(row.results),
        )
