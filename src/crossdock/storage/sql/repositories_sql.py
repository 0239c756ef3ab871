"""RepositoryStore and TokenStore over SQL (SQLite now, PostgreSQL later)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from crossdock.storage.errors import IntegrityConflictError
from crossdock.storage.registry_store import (
    PolicyBinding,
    RepositoryRecord,
    RepositorySettings,
    Tags,
    TokenRecord,
)
from crossdock.storage.sql.raw import RawStatement
from crossdock.storage.sql.registry_tables import (
    auth_tokens,
    images,
    policy_bindings,
    repositories,
)


def lock_repository(conn: Connection, repository_id: int) -> bool:
    """Take the write lock first (SQLite) / lock the row (PostgreSQL); False if it is gone.

    A no-op UPDATE as the first statement makes the transaction a writer from the start,
    so a read-then-write transaction never fails to upgrade its lock.
    """
    result = conn.execute(
        update(repositories).where(repositories.c.id == repository_id).values(id=repositories.c.id)
    )
    return bool(result.rowcount)


def _settings(row: Any) -> RepositorySettings:
    return RepositorySettings(
        tag_mutability=row.tag_mutability,
        mutability_filters=tuple(json.loads(row.mutability_filters or "[]")),
        scan_on_push=bool(row.scan_on_push),
        encryption_type=row.encryption_type,
        kms_key=row.kms_key,
    )


def _record(row: Any) -> RepositoryRecord:
    return RepositoryRecord(
        id=row.id,
        account_id=row.account_id,
        region=row.region,
        name=row.name,
        created_at=row.created_at,
        settings=_settings(row),
        tags=_tags(row),
        policy_text=row.policy_text,
        policy_eval=row.policy_eval,
    )


def _tags(row: Any) -> Tags:
    return tuple((str(k), str(v)) for k, v in json.loads(row.tags or "[]"))


def _dump_tags(tags: Tags) -> str:
    return json.dumps([list(pair) for pair in tags])


class SqlRepositoryStore:
    """:class:`crossdock.storage.registry_store.RepositoryStore` over an Engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        # The repository lookup (every repository-scoped call) and DescribeRepositories'
        # pages are compiled once and run without Core's per-call machinery (see raw.py).
        in_registry = select(repositories).where(
            repositories.c.account_id == bindparam("account_id"),
            repositories.c.region == bindparam("region"),
        )
        by_name, limit = repositories.c.name, bindparam("limit", type_=Integer)
        self._get = RawStatement.compile(engine, in_registry.where(by_name == bindparam("name")))
        self._first_page = RawStatement.compile(engine, in_registry.order_by(by_name).limit(limit))
        self._next_page = RawStatement.compile(
            engine, in_registry.where(by_name > bindparam("after")).order_by(by_name).limit(limit)
        )

    def create_repository(
        self,
        account_id: str,
        region: str,
        name: str,
        settings: RepositorySettings,
        tags: Tags,
        now: float,
    ) -> RepositoryRecord:
        """Insert the repository and its tags in one transaction."""
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(repositories).values(
                        account_id=account_id,
                        region=region,
                        name=name,
                        created_at=now,
                        tag_mutability=settings.tag_mutability,
                        mutability_filters=json.dumps(list(settings.mutability_filters)),
                        scan_on_push=settings.scan_on_push,
                        encryption_type=settings.encryption_type,
                        kms_key=settings.kms_key,
                        tags=_dump_tags(tags),
                    )
                )
        except IntegrityError as error:
            raise IntegrityConflictError(f"repository `{name}` exists already") from error
        record = self.get_repository(account_id, region, name)
        assert record is not None
        return record

    def get_repository(self, account_id: str, region: str, name: str) -> RepositoryRecord | None:
        """One indexed lookup with a prebuilt statement (this runs on every request)."""
        params = {"account_id": account_id, "region": region, "name": name}
        rows = self._get.rows(self._engine, params)
        return _record(rows[0]) if rows else None

    def list_repositories(
        self, account_id: str, region: str, after: str | None, limit: int
    ) -> list[RepositoryRecord]:
        """A page of repositories in name order."""
        params: dict[str, str | int] = {"account_id": account_id, "region": region, "limit": limit}
        query = self._first_page
        if after is not None:
            query, params["after"] = self._next_page, after
        return [_record(row) for row in query.rows(self._engine, params)]

    def account_repositories(self, account_id: str) -> list[RepositoryRecord]:
        """Every repository of ``account_id``, by (region, name) (operator tools)."""
        query = (
            select(repositories)
            .where(repositories.c.account_id == account_id)
            .order_by(repositories.c.region, repositories.c.name)
        )
        with self._engine.connect() as conn:
            return [_record(row) for row in conn.execute(query)]

    def delete_repository(self, repository_id: int, force: bool) -> bool:
        """Delete (cascading to images, tags, links, uploads) unless it has images."""
        with self._engine.begin() as conn:
            if not lock_repository(conn, repository_id):
                return False
            if not force:
                count = conn.execute(
                    select(func.count())
                    .select_from(images)
                    .where(images.c.repository_id == repository_id)
                ).scalar_one()
                if count:
                    return False
            conn.execute(delete(repositories).where(repositories.c.id == repository_id))
        return True

    def set_tag_mutability(
        self, repository_id: int, mutability: str, filters: tuple[str, ...]
    ) -> None:
        """Update the setting."""
        with self._engine.begin() as conn:
            conn.execute(
                update(repositories)
                .where(repositories.c.id == repository_id)
                .values(tag_mutability=mutability, mutability_filters=json.dumps(list(filters)))
            )

    def tag_repository(self, repository_id: int, tags: Tags, limit: int) -> bool:
        """Merge tags (new keys appended, existing ones overwritten); refuse past ``limit``."""
        with self._engine.begin() as conn:
            if not lock_repository(conn, repository_id):
                return False
            merged = dict(self._current_tags(conn, repository_id))
            merged.update(tags)
            if len(merged) > limit:
                return False
            self._write_tags(conn, repository_id, tuple(merged.items()))
        return True

    def untag_repository(self, repository_id: int, keys: Sequence[str]) -> None:
        """Delete tags by key."""
        with self._engine.begin() as conn:
            if not lock_repository(conn, repository_id):
                return
            current = self._current_tags(conn, repository_id)
            kept = tuple((k, v) for k, v in current if k not in set(keys))
            self._write_tags(conn, repository_id, kept)

    @staticmethod
    def _current_tags(conn: Connection, repository_id: int) -> Tags:
        text = conn.execute(
            select(repositories.c.tags).where(repositories.c.id == repository_id)
        ).scalar_one()
        return tuple((str(k), str(v)) for k, v in json.loads(text or "[]"))

    @staticmethod
    def _write_tags(conn: Connection, repository_id: int, tags: Tags) -> None:
        conn.execute(
            update(repositories)
            .where(repositories.c.id == repository_id)
            .values(tags=_dump_tags(tags))
        )

    def set_policy(
        self, repository_id: int, text: str, evaluated: str, bindings: Sequence[PolicyBinding]
    ) -> None:
        """Replace the policy and its bindings together."""
        with self._engine.begin() as conn:
            conn.execute(
                update(repositories)
                .where(repositories.c.id == repository_id)
                .values(policy_text=text, policy_eval=evaluated)
            )
            conn.execute(
                delete(policy_bindings).where(policy_bindings.c.repository_id == repository_id)
            )
            if bindings:
                conn.execute(
                    insert(policy_bindings),
                    [
                        {"repository_id": repository_id, "arn": b.arn, "unique_id": b.unique_id}
                        for b in bindings
                    ],
                )

    def delete_policy(self, repository_id: int) -> str | None:
        """Clear the policy and its bindings; return the old text."""
        with self._engine.begin() as conn:
            if not lock_repository(conn, repository_id):
                return None
            old = conn.execute(
                select(repositories.c.policy_text).where(repositories.c.id == repository_id)
            ).scalar_one_or_none()
            if old is None:
                return None
            conn.execute(
                update(repositories)
                .where(repositories.c.id == repository_id)
                .values(policy_text=None, policy_eval=None)
            )
            conn.execute(
                delete(policy_bindings).where(policy_bindings.c.repository_id == repository_id)
            )
        return str(old)

    def policy_bindings(self, repository_id: int) -> tuple[PolicyBinding, ...]:
        """The stored bindings."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(policy_bindings.c.arn, policy_bindings.c.unique_id).where(
                    policy_bindings.c.repository_id == repository_id
                )
            )
            return tuple(PolicyBinding(arn, unique_id) for arn, unique_id in rows)


class SqlTokenStore:
    """:class:`crossdock.storage.registry_store.TokenStore` over an Engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._insert = RawStatement.compile(engine, insert(auth_tokens))

    def save_token(self, token: TokenRecord) -> None:
        """Insert the token row (one prebuilt statement: GetAuthorizationToken's hot path)."""
        row = {
            "token_id": token.token_id,
            "secret_hash": token.secret_hash,
            "access_key_id": token.access_key_id,
            "principal_arn": token.principal_arn,
            "issued_at": token.issued_at,
            "expires_at": token.expires_at,
        }
        self._insert.commit(self._engine, row)

    def get_token(self, token_id: str) -> TokenRecord | None:
        """Primary-key lookup."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(auth_tokens).where(auth_tokens.c.token_id == token_id)
            ).first()
        if row is None:
            return None
        return TokenRecord(
            token_id=row.token_id,
            secret_hash=row.secret_hash,
            access_key_id=row.access_key_id,
            principal_arn=row.principal_arn,
            issued_at=row.issued_at,
            expires_at=row.expires_at,
        )

    def purge_tokens(self, now: float) -> int:
        """Delete expired rows."""
        with self._engine.begin() as conn:
            result = conn.execute(delete(auth_tokens).where(auth_tokens.c.expires_at <= now))
            return int(result.rowcount)
