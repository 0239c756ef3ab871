"""The SQL identity store: transactions, accounts and Organizations, tags, keys, sessions.

Each public method runs in its own transaction. Writes that first read (quotas, conflict
checks) take the identity writer lock up front (``dialect.begin_exclusive``: SQLite's
``BEGIN IMMEDIATE``, an advisory lock on PostgreSQL), so two processes sharing a database
cannot both pass a check and then both write.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    PoolProxiedConnection,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from crossdock.storage.identity_store import (
    AccessKeyRecord,
    AccountRecord,
    EntityExistsError,
    EntityMissingError,
    OrganizationRecord,
    OrgUnitRecord,
    QuotaExceededError,
    ScpRecord,
    SessionRecord,
    Tags,
)
from crossdock.storage.sql.dialect import begin_exclusive, is_sqlite
from crossdock.storage.sql.engine import raw_errors
from crossdock.storage.sql.identity_tables import (
    access_keys,
    accounts,
    iam_tags,
    identity_generation,
    org_units,
    organizations,
    scp_attachments,
    scps,
    sts_sessions,
)


def to_db_time(moment: datetime) -> datetime:
    """A naive UTC datetime, as every identity table stores it."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def from_db_time(moment: datetime) -> datetime:
    """The aware UTC datetime for a stored value."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_GENERATION_SQL = "SELECT generation FROM identity_generation WHERE id = 1"


class SqlBase:
    """Holds the engine and opens transactions."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sqlite = is_sqlite(engine)
        self._generation_lock = threading.Lock()
        self._generation_conn: PoolProxiedConnection | None = None
        self._generation_pid = 0

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _append(self) -> Iterator[Connection]:
        """A write transaction that holds the write lock from its first statement."""
        with self._engine.connect() as conn:
            begin_exclusive(conn)
            yield conn
            conn.commit()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """Like :meth:`_append`, and counts the change in ``identity_generation``."""
        with self._append() as conn:
            yield conn
            bumped = conn.execute(
                update(identity_generation)
                .where(identity_generation.c.id == 1)
                .values(generation=identity_generation.c.generation + 1)
            ).rowcount
            if not bumped:
                conn.execute(insert(identity_generation).values(id=1, generation=1))

    def generation(self) -> int:
        """The number of identity changes committed so far (by any process).

        It runs on every cache lookup, so it skips SQLAlchemy's Connection (a third of the
        cost): a pooled DBAPI connection, one constant statement, and the pool's reset on
        return. On SQLite it uses one long-lived connection of its own instead (see
        :meth:`_sqlite_generation`).
        """
        with raw_errors(self._engine):
            if self._sqlite:
                return self._sqlite_generation()
            raw = self._engine.raw_connection()
            try:
                cursor = raw.cursor()
                cursor.execute(_GENERATION_SQL)
                row = cursor.fetchone()
                cursor.close()
            finally:
                raw.close()
        return int(row[0]) if row else 0

    def _sqlite_generation(self) -> int:
        """The generation through a dedicated connection, outside any transaction.

        A pool checkout and its reset cost about 30 µs, three times the query. A lone SELECT
        on a connection with no open transaction reads the latest commit of every process
        (WAL), so the answer is as fresh as through the pool. One lock serializes the ~5 µs
        read; the connection is reopened after a fork or an error.
        """
        with self._generation_lock:
            conn = self._generation_conn
            if conn is None or self._generation_pid != os.getpid():
                conn = self._engine.raw_connection()
                conn.detach()  # ours for good: the pool neither counts nor resets it
                self._generation_conn, self._generation_pid = conn, os.getpid()
            try:
                if conn.dbapi_connection is not None and conn.dbapi_connection.in_transaction:
                    conn.rollback()  # never read from an old snapshot
                cursor = conn.cursor()
                cursor.execute(_GENERATION_SQL)
                row = cursor.fetchone()
                cursor.close()
            except Exception:
                self._generation_conn = None
                conn.invalidate()
                raise
        return int(row[0]) if row else 0


def read_tags(conn: Connection, owner_ids: Sequence[str]) -> dict[str, Tags]:
    """The tags of each owner, in the order they were added."""
    found: dict[str, list[tuple[str, str]]] = {owner: [] for owner in owner_ids}
    if not owner_ids:
        return {}
    rows = conn.execute(
        select(iam_tags.c.owner_id, iam_tags.c.key, iam_tags.c.value)
        .where(iam_tags.c.owner_id.in_(list(owner_ids)))
        .order_by(iam_tags.c.position)
    )
    for owner, key, value in rows:
        found[owner].append((key, value))
    return {owner: tuple(tags) for owner, tags in found.items()}


def write_tags(conn: Connection, owner_id: str, tags: Tags, limit: int) -> None:
    """Add or overwrite tags inside an open transaction (keys are case-insensitive)."""
    current = conn.execute(
        select(iam_tags.c.key_lower, iam_tags.c.position).where(iam_tags.c.owner_id == owner_id)
    ).all()
    known: dict[str, int] = {row[0]: row[1] for row in current}
    added = {key.lower() for key, _ in tags} - set(known)
    if len(known) + len(added) > limit:
        raise QuotaExceededError("TagsPerEntity", limit)
    position = max(known.values(), default=-1)
    for key, value in tags:
        lower = key.lower()
        if lower in known:
            conn.execute(
                update(iam_tags)
                .where(iam_tags.c.owner_id == owner_id, iam_tags.c.key_lower == lower)
                .values(key=key, value=value)
            )
            continue
        position += 1
        known[lower] = position
        conn.execute(
            insert(iam_tags).values(
                owner_id=owner_id, key=key, key_lower=lower, value=value, position=position
            )
        )


def delete_tags(conn: Connection, owner_id: str) -> None:
    """Remove every tag of an owner inside an open transaction."""
    conn.execute(delete(iam_tags).where(iam_tags.c.owner_id == owner_id))


class SqlTagStore(SqlBase):
    """:class:`~crossdock.storage.identity_store.TagStore` over SQL."""

    def tag(self, owner_id: str, tags: Tags, limit: int) -> None:
        """Add or overwrite tags; QuotaExceededError beyond ``limit`` tags."""
        with self._write() as conn:
            write_tags(conn, owner_id, tags, limit)

    def untag(self, owner_id: str, keys: Sequence[str]) -> None:
        """Remove tags by key (absent keys are ignored)."""
        lowered = [key.lower() for key in keys]
        with self._write() as conn:
            conn.execute(
                delete(iam_tags).where(
                    iam_tags.c.owner_id == owner_id, iam_tags.c.key_lower.in_(lowered)
                )
            )


def _account(row: Sequence[Any]) -> AccountRecord:
    return AccountRecord(row[0], row[1], row[2], from_db_time(row[3]))


class SqlAccountStore(SqlBase):
    """:class:`~crossdock.storage.identity_store.AccountStore` over SQL."""

    _account_columns = (
        accounts.c.account_id,
        accounts.c.org_id,
        accounts.c.parent_id,
        accounts.c.created_at,
    )

    def create_account(self, account: AccountRecord) -> None:
        """Add ``account``; EntityExistsError when the id is taken."""
        try:
            with self._write() as conn:
                conn.execute(
                    insert(accounts).values(
                        account_id=account.account_id,
                        org_id=account.org_id,
                        parent_id=account.parent_id,
                        created_at=to_db_time(account.created_at),
                    )
                )
        except IntegrityError as error:
            raise EntityExistsError("account", account.account_id) from error

    def get_account(self, account_id: str) -> AccountRecord | None:
        """The account, or None."""
        with self._read() as conn:
            row = conn.execute(
                select(*self._account_columns).where(accounts.c.account_id == account_id)
            ).first()
        return None if row is None else _account(row)

    def list_accounts(self) -> list[AccountRecord]:
        """Every account, by id."""
        with self._read() as conn:
            rows = conn.execute(select(*self._account_columns).order_by(accounts.c.account_id))
            return [_account(row) for row in rows]

    def create_organization(self, organization: OrganizationRecord) -> None:
        """Add an organization; EntityExistsError when the id or root id is taken."""
        try:
            with self._write() as conn:
                conn.execute(
                    insert(organizations).values(
                        org_id=organization.org_id,
                        root_id=organization.root_id,
                        management_account_id=organization.management_account_id,
                        created_at=to_db_time(organization.created_at),
                    )
                )
        except IntegrityError as error:
            raise EntityExistsError("organization", organization.org_id) from error

    def get_organization(self, org_id: str) -> OrganizationRecord | None:
        """The organization, or None."""
        with self._read() as conn:
            row = conn.execute(
                select(
                    organizations.c.org_id,
                    organizations.c.root_id,
                    organizations.c.management_account_id,
                    organizations.c.created_at,
                ).where(organizations.c.org_id == org_id)
            ).first()
        if row is None:
            return None
        return OrganizationRecord(row[0], row[1], row[2], from_db_time(row[3]))

    def create_org_unit(self, unit: OrgUnitRecord) -> None:
        """Add an OU; EntityExistsError when the id is taken."""
        try:
            with self._write() as conn:
                conn.execute(
                    insert(org_units).values(
                        ou_id=unit.ou_id,
                        org_id=unit.org_id,
                        parent_id=unit.parent_id,
                        name=unit.name,
                        created_at=to_db_time(datetime.now(UTC)),
                    )
                )
        except IntegrityError as error:
            raise EntityExistsError("organizational unit", unit.ou_id) from error

    def get_org_unit(self, ou_id: str) -> OrgUnitRecord | None:
        """The OU, or None."""
        with self._read() as conn:
            row = conn.execute(
                select(
                    org_units.c.ou_id, org_units.c.org_id, org_units.c.parent_id, org_units.c.name
                ).where(org_units.c.ou_id == ou_id)
            ).first()
        return None if row is None else OrgUnitRecord(row[0], row[1], row[2], row[3])

    def put_scp(self, scp: ScpRecord) -> None:
        """Add or replace an SCP (by policy id)."""
        values = {
            "org_id": scp.org_id,
            "name": scp.name,
            "description": scp.description,
            "document": scp.document,
        }
        try:
            with self._write() as conn:
                found = conn.execute(
                    update(scps).where(scps.c.policy_id == scp.policy_id).values(**values)
                ).rowcount
                if not found:
                    conn.execute(insert(scps).values(policy_id=scp.policy_id, **values))
        except IntegrityError as error:
            raise EntityExistsError("service control policy", scp.name) from error

    def attach_scp(self, policy_id: str, target_id: str) -> None:
        """Attach an SCP to a root, OU or account id (idempotent)."""
        with self._write() as conn:
            if conn.execute(select(scps.c.policy_id).where(scps.c.policy_id == policy_id)).first():
                exists = conn.execute(
                    select(scp_attachments.c.policy_id).where(
                        scp_attachments.c.policy_id == policy_id,
                        scp_attachments.c.target_id == target_id,
                    )
                ).first()
                if exists is None:
                    conn.execute(
                        insert(scp_attachments).values(policy_id=policy_id, target_id=target_id)
                    )
                return
        raise EntityMissingError("service control policy", policy_id)

    def detach_scp(self, policy_id: str, target_id: str) -> None:
        """Detach an SCP; EntityMissingError when it is not attached."""
        with self._write() as conn:
            removed = conn.execute(
                delete(scp_attachments).where(
                    scp_attachments.c.policy_id == policy_id,
                    scp_attachments.c.target_id == target_id,
                )
            ).rowcount
        if not removed:
            raise EntityMissingError("service control policy attachment", policy_id)

    def scps_for(self, target_ids: Sequence[str]) -> dict[str, list[ScpRecord]]:
        """The SCPs attached to each of ``target_ids`` (every id is a key)."""
        found: dict[str, list[ScpRecord]] = {target: [] for target in target_ids}
        if not target_ids:
            return found
        with self._read() as conn:
            rows = conn.execute(
                select(
                    scp_attachments.c.target_id,
                    scps.c.policy_id,
                    scps.c.org_id,
                    scps.c.name,
                    scps.c.document,
                    scps.c.description,
                )
                .join(scps, scps.c.policy_id == scp_attachments.c.policy_id)
                .where(scp_attachments.c.target_id.in_(list(target_ids)))
                .order_by(scps.c.policy_id)
            )
            for target, policy_id, org_id, name, document, description in rows:
                found[target].append(ScpRecord(policy_id, org_id, name, document, description))
        return found


def _key(row: Sequence[Any]) -> AccessKeyRecord:
    return AccessKeyRecord(row[0], row[1], row[2], row[3], row[4], from_db_time(row[5]))


class SqlKeyStore(SqlBase):
    """:class:`~crossdock.storage.identity_store.KeyStore` over SQL."""

    _key_columns = (
        access_keys.c.access_key_id,
        access_keys.c.account_id,
        access_keys.c.user_id,
        access_keys.c.secret_sealed,
        access_keys.c.status,
        access_keys.c.created_at,
    )

    def add_access_key(self, key: AccessKeyRecord, limit: int) -> None:
        """Add a key; QuotaExceededError when the owner has ``limit`` keys already."""
        with self._write() as conn:
            count = conn.execute(
                select(func.count())
                .select_from(access_keys)
                .where(access_keys.c.account_id == key.account_id, self._owner(key.user_id))
            ).scalar_one()
            if count >= limit:
                raise QuotaExceededError("AccessKeysPerUser", limit)
            conn.execute(
                insert(access_keys).values(
                    access_key_id=key.access_key_id,
                    account_id=key.account_id,
                    user_id=key.user_id,
                    secret_sealed=key.secret_sealed,
                    status=key.status,
                    created_at=to_db_time(key.created_at),
                )
            )

    @staticmethod
    def _owner(user_id: str | None) -> ColumnElement[bool]:
        if user_id is None:
            return access_keys.c.user_id.is_(None)
        return access_keys.c.user_id == user_id

    def get_access_key(self, access_key_id: str) -> AccessKeyRecord | None:
        """The key, or None."""
        with self._read() as conn:
            row = conn.execute(
                select(*self._key_columns).where(access_keys.c.access_key_id == access_key_id)
            ).first()
        return None if row is None else _key(row)

    def list_access_keys(self, account_id: str, user_id: str | None) -> list[AccessKeyRecord]:
        """The keys of a user (or of the root user when ``user_id`` is None)."""
        with self._read() as conn:
            rows = conn.execute(
                select(*self._key_columns)
                .where(access_keys.c.account_id == account_id, self._owner(user_id))
                .order_by(access_keys.c.created_at, access_keys.c.access_key_id)
            )
            return [_key(row) for row in rows]

    def set_access_key_status(self, access_key_id: str, status: str) -> None:
        """Set ``Active`` or ``Inactive``."""
        with self._write() as conn:
            conn.execute(
                update(access_keys)
                .where(access_keys.c.access_key_id == access_key_id)
                .values(status=status)
            )

    def delete_access_key(self, access_key_id: str) -> bool:
        """Delete a key; False when it did not exist."""
        with self._write() as conn:
            removed = conn.execute(
                delete(access_keys).where(access_keys.c.access_key_id == access_key_id)
            ).rowcount
        return bool(removed)

    def add_session(self, session: SessionRecord) -> None:
        """Record a new role session."""
        with self._append() as conn:
            conn.execute(
                insert(sts_sessions).values(
                    access_key_id=session.access_key_id,
                    secret_sealed=session.secret_sealed,
                    token_hash=session.token_hash,
                    account_id=session.account_id,
                    role_id=session.role_id,
                    role_arn=session.role_arn,
                    session_name=session.session_name,
                    session_policy=session.session_policy,
                    session_tags=json.dumps([list(tag) for tag in session.session_tags]),
                    source_arn=session.source_arn,
                    issued_at=to_db_time(session.issued_at),
                    expires_at=to_db_time(session.expires_at),
                )
            )

    def get_session(self, access_key_id: str) -> SessionRecord | None:
        """The session of an ``ASIA...`` key (expired or not), or None."""
        with self._read() as conn:
            row = conn.execute(
                select(sts_sessions).where(sts_sessions.c.access_key_id == access_key_id)
            ).first()
        if row is None:
            return None
        tags = tuple((str(key), str(value)) for key, value in json.loads(row.session_tags))
        return SessionRecord(
            access_key_id=row.access_key_id,
            secret_sealed=row.secret_sealed,
            token_hash=row.token_hash,
            account_id=row.account_id,
            role_id=row.role_id,
            role_arn=row.role_arn,
            session_name=row.session_name,
            source_arn=row.source_arn,
            issued_at=from_db_time(row.issued_at),
            expires_at=from_db_time(row.expires_at),
            session_policy=row.session_policy,
            session_tags=tags,
        )

    def delete_sessions_expired_before(self, moment: datetime) -> int:
        """Forget sessions that expired before ``moment``; the number removed."""
        with self._append() as conn:
            return conn.execute(
                delete(sts_sessions).where(sts_sessions.c.expires_at < to_db_time(moment))
            ).rowcount
