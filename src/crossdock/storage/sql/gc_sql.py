""":class:`crossdock.storage.gc_store.GcStore` over SQL (SQLite and PostgreSQL).

Every delete re-checks its condition inside the transaction that deletes, after taking
the same lock the writers take: the repository's lock for links (as ``link_blob`` and
``put_image`` do), the blob row's lock for blobs (as ``pin_blobs`` does). docs/gc.md has
the protocol and the races it closes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    and_,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from crossdock.storage.gc_store import BlobDeletion, BlobUsage, StaleUpload, UnreferencedLink
from crossdock.storage.integrity import RepositoryKey
from crossdock.storage.sql.registry_tables import (
    blob_pins,
    blobs,
    image_blobs,
    images,
    repositories,
    repository_blobs,
    upload_sessions,
)
from crossdock.storage.sql.repositories_sql import lock_repository

_IN_BATCH = 500
"""Digests per ``IN (...)`` list (SQLite caps bound parameters)."""


def _blob_last_used() -> ColumnElement[float]:
    return func.coalesce(blobs.c.last_used_at, blobs.c.created_at)


def _link_last_used() -> ColumnElement[float]:
    return func.coalesce(repository_blobs.c.last_used_at, repository_blobs.c.created_at)


def _key(row: Any) -> RepositoryKey:
    return RepositoryKey(row.account_id, row.region, row.name)


def _referenced_in_repository() -> ColumnElement[bool]:
    """An image of the link's own repository references the linked blob."""
    return exists().where(
        images.c.id == image_blobs.c.image_id,
        images.c.repository_id == repository_blobs.c.repository_id,
        image_blobs.c.digest == repository_blobs.c.digest,
    )


def _usage_columns(now: float) -> list[Any]:
    def count(table: Any, *where: ColumnElement[bool]) -> Any:
        return select(func.count()).select_from(table).where(*where).scalar_subquery()

    return [
        count(repository_blobs, repository_blobs.c.digest == blobs.c.digest).label("links"),
        count(image_blobs, image_blobs.c.digest == blobs.c.digest).label("images"),
        count(blob_pins, blob_pins.c.digest == blobs.c.digest, blob_pins.c.expires_at >= now).label(
            "pins"
        ),
    ]


class SqlGcStore:
    """The garbage collector's store over an Engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def count_blobs(self) -> int:
        """COUNT(*) of ``ecr_blobs``."""
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(blobs)).scalar_one())

    def blob_usage(self, after: str | None, limit: int, now: float) -> list[BlobUsage]:
        """A page of blob rows with their link, reference and pin counts."""
        query = select(
            blobs.c.digest, blobs.c.size, _blob_last_used().label("last_used"), *_usage_columns(now)
        )
        if after is not None:
            query = query.where(blobs.c.digest > after)
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(blobs.c.digest).limit(limit))
            return [
                BlobUsage(
                    str(row.digest),
                    int(row.size),
                    float(row.last_used),
                    int(row.links),
                    int(row.images),
                    int(row.pins),
                )
                for row in rows
            ]

    def unreferenced_links(
        self, after: tuple[int, str] | None, limit: int
    ) -> list[UnreferencedLink]:
        """A page of links that no image of their repository references."""
        query = (
            select(
                repository_blobs.c.repository_id,
                repository_blobs.c.digest,
                _link_last_used().label("last_used"),
                repositories.c.account_id,
                repositories.c.region,
                repositories.c.name,
            )
            .join(repositories, repositories.c.id == repository_blobs.c.repository_id)
            .where(~_referenced_in_repository())
        )
        if after is not None:
            repository_id, digest = after
            query = query.where(
                or_(
                    repository_blobs.c.repository_id > repository_id,
                    and_(
                        repository_blobs.c.repository_id == repository_id,
                        repository_blobs.c.digest > digest,
                    ),
                )
            )
        query = query.order_by(repository_blobs.c.repository_id, repository_blobs.c.digest)
        with self._engine.connect() as conn:
            return [
                UnreferencedLink(
                    int(row.repository_id), _key(row), str(row.digest), float(row.last_used)
                )
                for row in conn.execute(query.limit(limit))
            ]

    def drop_link(self, repository_id: int, digest: str, cutoff: float) -> bool:
        """Under the repository lock (as ``put_image``): delete the link if still unused."""
        with self._engine.begin() as conn:
            if not lock_repository(conn, repository_id):
                return False
            result = conn.execute(
                delete(repository_blobs).where(
                    repository_blobs.c.repository_id == repository_id,
                    repository_blobs.c.digest == digest,
                    _link_last_used() < cutoff,
                    ~_referenced_in_repository(),
                )
            )
            return bool(result.rowcount)

    def delete_blob(
        self, digest: str, cutoff: float, now: float, remove_bytes: Callable[[], object]
    ) -> BlobDeletion:
        """Lock the row, re-check it, delete it and the bytes, then commit."""
        with self._engine.begin() as conn:
            # A write first: on SQLite it takes the database's write lock, so the checks
            # below and the deletes run with no writer in between. On PostgreSQL FOR
            # UPDATE locks the row against pin_blobs (which updates it) and against links
            # being inserted (their foreign key check locks it too).
            touched = conn.execute(
                update(blobs).where(blobs.c.digest == digest).values(size=blobs.c.size)
            )
            if not touched.rowcount:
                return BlobDeletion.GONE
            this_blob = blobs.c.digest == digest
            conn.execute(select(blobs.c.digest).where(this_blob).with_for_update())
            # A statement of its own, after the lock: on PostgreSQL it sees every pin and
            # link committed while we waited for the row.
            row = conn.execute(
                select(_blob_last_used().label("last_used"), *_usage_columns(now)).where(this_blob)
            ).one()
            if row.links or row.images or row.pins or row.last_used >= cutoff:
                return BlobDeletion.IN_USE
            conn.execute(delete(blobs).where(blobs.c.digest == digest))
            remove_bytes()  # inside the transaction: the row stays locked until the bytes go
            return BlobDeletion.DELETED

    def stale_uploads(self, cutoff: float, after: str | None, limit: int) -> list[StaleUpload]:
        """Sessions idle since before ``cutoff``, by id after ``after``."""
        query = (
            select(
                upload_sessions.c.id,
                upload_sessions.c.bytes_received,
                upload_sessions.c.updated_at,
                repositories.c.account_id,
                repositories.c.region,
                repositories.c.name,
            )
            .join(repositories, repositories.c.id == upload_sessions.c.repository_id)
            .where(upload_sessions.c.updated_at < cutoff)
            .order_by(upload_sessions.c.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(upload_sessions.c.id > after)
        with self._engine.connect() as conn:
            return [
                StaleUpload(str(row.id), _key(row), int(row.bytes_received), float(row.updated_at))
                for row in conn.execute(query)
            ]

    def drop_upload(self, upload_id: str, cutoff: float) -> bool:
        """DELETE the session row unless a part arrived since ``cutoff``."""
        with self._engine.begin() as conn:
            result = conn.execute(
                delete(upload_sessions).where(
                    upload_sessions.c.id == upload_id, upload_sessions.c.updated_at < cutoff
                )
            )
            return bool(result.rowcount)

    def expire_pins(self, now: float) -> int:
        """DELETE the expired pins."""
        with self._engine.begin() as conn:
            result = conn.execute(delete(blob_pins).where(blob_pins.c.expires_at < now))
            return int(result.rowcount)

    def recorded(self, digests: Sequence[str]) -> set[str]:
        """The digests among ``digests`` with an ``ecr_blobs`` row."""
        wanted = sorted(set(digests))
        found: set[str] = set()
        with self._engine.connect() as conn:
            for start in range(0, len(wanted), _IN_BATCH):
                batch = wanted[start : start + _IN_BATCH]
                rows = conn.execute(select(blobs.c.digest).where(blobs.c.digest.in_(batch)))
                found.update(str(digest) for digest in rows.scalars())
        return found

    def adopt_blob(self, digest: str, size: int, now: float) -> bool:
        """INSERT the row (as used ``now``); False when one exists."""
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(blobs).values(digest=digest, size=size, created_at=now, last_used_at=now)
                )
        except IntegrityError:
            return False
        return True
