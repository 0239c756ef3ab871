"""ImageStore, BlobLinkStore and UploadStore over SQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from crossdock.storage.errors import BlobNotFoundError, ImageInUseError
from crossdock.storage.registry_store import (
    DeletedImage,
    ImageRecord,
    NewImage,
    PutOutcome,
    TagRule,
    UploadRecord,
)
from crossdock.storage.sql.raw import RawStatement
from crossdock.storage.sql.registry_tables import (
    blob_pins,
    blobs,
    image_blobs,
    image_children,
    image_tags,
    images,
    repository_blobs,
    upload_sessions,
)
from crossdock.storage.sql.repositories_sql import lock_repository


def _image_tags(conn: Connection, image_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    found: dict[int, list[str]] = {i: [] for i in image_ids}
    if image_ids:
        rows = conn.execute(
            select(image_tags.c.image_id, image_tags.c.tag)
            .where(image_tags.c.image_id.in_(list(image_ids)))
            .order_by(image_tags.c.image_id, image_tags.c.tagged_at.desc(), image_tags.c.tag)
        )
        for image_id, tag in rows:
            found[image_id].append(tag)
    return {i: tuple(tags) for i, tags in found.items()}


def _record(row: Row[Any], tags: tuple[str, ...]) -> ImageRecord:
    return ImageRecord(
        id=row.id,
        repository_id=row.repository_id,
        digest=row.digest,
        manifest=bytes(row.manifest),
        media_type=row.media_type,
        artifact_type=row.artifact_type,
        size=row.size,
        pushed_at=row.pushed_at,
        subject_digest=row.subject_digest,
        tags=tags,
    )


def _records(conn: Connection, rows: Sequence[Row[Any]]) -> list[ImageRecord]:
    tags = _image_tags(conn, [row.id for row in rows])
    return [_record(row, tags[row.id]) for row in rows]


class SqlImageStore:
    """:class:`crossdock.storage.registry_store.ImageStore` over an Engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        # The manifest lookups of every pull run as prebuilt statements (see raw.py).
        in_repository = images.c.repository_id == bindparam("repository_id")
        self._by_digest = RawStatement.compile(
            engine, select(images).where(in_repository, images.c.digest == bindparam("digest"))
        )
        self._by_tag = RawStatement.compile(
            engine,
            select(images)
            .join(image_tags, image_tags.c.image_id == images.c.id)
            .where(
                image_tags.c.repository_id == bindparam("repository_id"),
                image_tags.c.tag == bindparam("tag"),
            ),
        )
        self._tags_of = RawStatement.compile(
            engine,
            select(image_tags.c.tag)
            .where(image_tags.c.image_id == bindparam("image_id"))
            .order_by(image_tags.c.tagged_at.desc(), image_tags.c.tag),
        )

    def _one(self, rows: list[Any]) -> ImageRecord | None:
        if not rows:
            return None
        tags = self._tags_of.rows(self._engine, {"image_id": rows[0].id})
        return _record(rows[0], tuple(row.tag for row in tags))

    def put_image(
        self, repository_id: int, image: NewImage, tag: str | None, rule: TagRule, now: float
    ) -> PutOutcome:
        """Insert the image (with its references) if new, then apply the tag, atomically."""
        with self._engine.begin() as conn:
            lock_repository(conn, repository_id)
            image_id = conn.execute(
                select(images.c.id).where(
                    images.c.repository_id == repository_id, images.c.digest == image.digest
                )
            ).scalar_one_or_none()
            created = image_id is None
            if image_id is None:
                _require_links(conn, repository_id, [d for d, _ in image.blobs])
                image_id = self._insert(conn, repository_id, image, now)
            if tag is None:
                return PutOutcome.CREATED if created else PutOutcome.UNCHANGED
            current = conn.execute(
                select(image_tags.c.image_id).where(
                    image_tags.c.repository_id == repository_id, image_tags.c.tag == tag
                )
            ).scalar_one_or_none()
            if current == image_id:
                return PutOutcome.CREATED if created else PutOutcome.UNCHANGED
            if current is not None and rule is TagRule.KEEP:
                conn.rollback()
                return PutOutcome.TAG_CONFLICT
            if current is None:
                conn.execute(
                    insert(image_tags).values(
                        repository_id=repository_id, tag=tag, image_id=image_id, tagged_at=now
                    )
                )
            else:
                conn.execute(
                    update(image_tags)
                    .where(image_tags.c.repository_id == repository_id, image_tags.c.tag == tag)
                    .values(image_id=image_id, tagged_at=now)
                )
        return PutOutcome.CREATED if created else PutOutcome.TAGGED

    @staticmethod
    def _insert(conn: Connection, repository_id: int, image: NewImage, now: float) -> int:
        result = conn.execute(
            insert(images).values(
                repository_id=repository_id,
                digest=image.digest,
                manifest=image.manifest,
                media_type=image.media_type,
                artifact_type=image.artifact_type,
                size=image.size,
                pushed_at=now,
                subject_digest=image.subject_digest,
            )
        )
        (image_id,) = result.inserted_primary_key or (None,)
        assert isinstance(image_id, int)
        unique_blobs = dict(image.blobs)
        if unique_blobs:
            conn.execute(
                insert(image_blobs),
                [
                    {"image_id": image_id, "digest": d, "media_type": m}
                    for d, m in unique_blobs.items()
                ],
            )
        children = sorted(set(image.children))
        if children:
            conn.execute(
                insert(image_children),
                [{"image_id": image_id, "child_digest": d} for d in children],
            )
        return image_id

    def get_image(self, repository_id: int, digest: str) -> ImageRecord | None:
        """Lookup by (repository, digest)."""
        values = {"repository_id": repository_id, "digest": digest}
        return self._one(self._by_digest.rows(self._engine, values))

    def resolve_tag(self, repository_id: int, tag: str) -> ImageRecord | None:
        """Lookup through the tag table."""
        values = {"repository_id": repository_id, "tag": tag}
        return self._one(self._by_tag.rows(self._engine, values))

    def list_images(self, repository_id: int, after: int | None, limit: int) -> list[ImageRecord]:
        """A page of images in push (id) order."""
        query = select(images).where(images.c.repository_id == repository_id)
        if after is not None:
            query = query.where(images.c.id > after)
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(images.c.id).limit(limit)).all()
            return _records(conn, rows)

    def count_images(self, repository_id: int) -> int:
        """COUNT(*) of the repository's images."""
        with self._engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(images)
                    .where(images.c.repository_id == repository_id)
                ).scalar_one()
            )

    def delete_tag(self, repository_id: int, tag: str) -> DeletedImage | None:
        """Drop the tag, and the image when it was the last one (unless an index needs it)."""
        with self._engine.begin() as conn:
            lock_repository(conn, repository_id)
            row = conn.execute(
                select(images.c.id, images.c.digest)
                .join(image_tags, image_tags.c.image_id == images.c.id)
                .where(image_tags.c.repository_id == repository_id, image_tags.c.tag == tag)
            ).first()
            if row is None:
                return None
            conn.execute(
                delete(image_tags).where(
                    image_tags.c.repository_id == repository_id, image_tags.c.tag == tag
                )
            )
            remaining = _image_tags(conn, [row.id])[row.id]
            removed = not remaining and not _parents(conn, repository_id, row.digest)
            if removed:
                conn.execute(delete(images).where(images.c.id == row.id))
            return DeletedImage(row.digest, (tag,), removed)

    def delete_image(self, repository_id: int, digest: str) -> DeletedImage | None:
        """Drop the image with all its tags."""
        with self._engine.begin() as conn:
            lock_repository(conn, repository_id)
            row = conn.execute(
                select(images.c.id).where(
                    images.c.repository_id == repository_id, images.c.digest == digest
                )
            ).first()
            if row is None:
                return None
            parents = _parents(conn, repository_id, digest)
            if parents:
                raise ImageInUseError(digest, parents)
            tags = _image_tags(conn, [row.id])[row.id]
            conn.execute(delete(images).where(images.c.id == row.id))
            return DeletedImage(digest, tags, True)

    def referrers(self, repository_id: int, subject_digest: str) -> list[ImageRecord]:
        """Images whose subject is ``subject_digest``, in push order."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(images)
                .where(
                    images.c.repository_id == repository_id,
                    images.c.subject_digest == subject_digest,
                )
                .order_by(images.c.id)
            ).all()
            return _records(conn, rows)


def _require_links(conn: Connection, repository_id: int, digests: Sequence[str]) -> None:
    """Under the repository lock: every blob is still linked (a blob DELETE may have won)."""
    if not digests:
        return
    held = set(
        conn.execute(
            select(repository_blobs.c.digest).where(
                repository_blobs.c.repository_id == repository_id,
                repository_blobs.c.digest.in_(list(set(digests))),
            )
        ).scalars()
    )
    for digest in digests:
        if digest not in held:
            raise BlobNotFoundError(digest)


def _parents(conn: Connection, repository_id: int, digest: str) -> tuple[str, ...]:
    rows = conn.execute(
        select(images.c.digest)
        .join(image_children, image_children.c.image_id == images.c.id)
        .where(images.c.repository_id == repository_id, image_children.c.child_digest == digest)
    )
    return tuple(row.digest for row in rows)


class SqlBlobLinkStore:
    """:class:`crossdock.storage.registry_store.BlobLinkStore` over an Engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def link_blob(self, repository_id: int, digest: str, size: int, now: float) -> bool:
        """Record the blob globally (once) and in the repository.

        The repository's write lock is taken first, so two uploads of the same blob into
        the same repository (a client retrying, parallel pushes) link it once, cleanly.
        """
        with self._engine.begin() as conn:
            if not lock_repository(conn, repository_id):
                return False  # the repository was deleted meanwhile: nothing to link into
            known = conn.execute(
                select(blobs.c.digest).where(blobs.c.digest == digest)
            ).scalar_one_or_none()
            if known is None:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(blobs).values(digest=digest, size=size, created_at=now))
                except IntegrityError:
                    pass  # another writer recorded it first
            linked = conn.execute(
                select(repository_blobs.c.digest).where(
                    repository_blobs.c.repository_id == repository_id,
                    repository_blobs.c.digest == digest,
                )
            ).scalar_one_or_none()
            if linked is not None:
                conn.execute(
                    update(repository_blobs)
                    .where(
                        repository_blobs.c.repository_id == repository_id,
                        repository_blobs.c.digest == digest,
                    )
                    .values(last_used_at=now)
                )
                return False
            conn.execute(
                insert(repository_blobs).values(
                    repository_id=repository_id, digest=digest, created_at=now, last_used_at=now
                )
            )
        return True

    def linked_blobs_refreshed(
        self, repository_id: int, digests: Sequence[str], now: float, stale_before: float
    ) -> dict[str, int]:
        """As :meth:`linked_blobs`, and the links last used before ``stale_before`` are
        marked used ``now`` (a write only then: the common answer is one read)."""
        if not digests:
            return {}
        last_used = func.coalesce(repository_blobs.c.last_used_at, repository_blobs.c.created_at)
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(blobs.c.digest, blobs.c.size, last_used.label("last_used"))
                .join(repository_blobs, repository_blobs.c.digest == blobs.c.digest)
                .where(
                    repository_blobs.c.repository_id == repository_id,
                    blobs.c.digest.in_(list(set(digests))),
                )
            ).all()
        stale = [row.digest for row in rows if row.last_used < stale_before]
        if stale:  # a transaction of its own: a read one cannot always become a writer
            with self._engine.begin() as conn:
                conn.execute(
                    update(repository_blobs)
                    .where(
                        repository_blobs.c.repository_id == repository_id,
                        repository_blobs.c.digest.in_(stale),
                    )
                    .values(last_used_at=now)
                )
        return {str(row.digest): int(row.size) for row in rows}

    def pin_blobs(self, digests: Sequence[str], now: float, lease: float) -> str:
        """Pin the blobs until ``now + lease``: garbage collection keeps them (docs/gc.md).

        The blob rows are touched first: that waits for a collection that holds one of
        them, so a pin is never taken while its bytes are being deleted.
        """
        pin_id = uuid.uuid4().hex
        wanted = sorted(set(digests))
        if not wanted:
            return pin_id
        with self._engine.begin() as conn:
            conn.execute(update(blobs).where(blobs.c.digest.in_(wanted)).values(last_used_at=now))
            conn.execute(
                insert(blob_pins),
                [{"pin_id": pin_id, "digest": d, "expires_at": now + lease} for d in wanted],
            )
        return pin_id

    def unpin_blobs(self, pin_id: str) -> None:
        """Release a pin taken by :meth:`pin_blobs`."""
        with self._engine.begin() as conn:
            conn.execute(delete(blob_pins).where(blob_pins.c.pin_id == pin_id))

    def linked_blobs(self, repository_id: int, digests: Sequence[str]) -> dict[str, int]:
        """Sizes of the ``digests`` the repository holds."""
        if not digests:
            return {}
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(blobs.c.digest, blobs.c.size)
                .join(repository_blobs, repository_blobs.c.digest == blobs.c.digest)
                .where(
                    repository_blobs.c.repository_id == repository_id,
                    blobs.c.digest.in_(list(set(digests))),
                )
            )
            return {str(digest): int(size) for digest, size in rows}

    def blob_media_type(self, repository_id: int, digest: str) -> str | None:
        """The media type given by any image of the repository that references the blob."""
        with self._engine.connect() as conn:
            return conn.execute(
                select(image_blobs.c.media_type)
                .join(images, images.c.id == image_blobs.c.image_id)
                .where(images.c.repository_id == repository_id, image_blobs.c.digest == digest)
                .limit(1)
            ).scalar_one_or_none()

    def blob_size(self, digest: str) -> int | None:
        """The recorded size of a committed blob."""
        with self._engine.connect() as conn:
            return conn.execute(
                select(blobs.c.size).where(blobs.c.digest == digest)
            ).scalar_one_or_none()

    def unlink_blob(self, repository_id: int, digest: str) -> tuple[str, ...] | None:
        """Under the repository lock: drop the link unless an image of the repository
        references the blob (then return those images' digests); None when not linked."""
        with self._engine.begin() as conn:
            lock_repository(conn, repository_id)
            linked = conn.execute(
                select(repository_blobs.c.digest).where(
                    repository_blobs.c.repository_id == repository_id,
                    repository_blobs.c.digest == digest,
                )
            ).scalar_one_or_none()
            if linked is None:
                return None
            users = tuple(
                conn.execute(
                    select(images.c.digest)
                    .join(image_blobs, image_blobs.c.image_id == images.c.id)
                    .where(images.c.repository_id == repository_id, image_blobs.c.digest == digest)
                    .order_by(images.c.id)
                ).scalars()
            )
            if not users:
                conn.execute(
                    delete(repository_blobs).where(
                        repository_blobs.c.repository_id == repository_id,
                        repository_blobs.c.digest == digest,
                    )
                )
            return users

    def orphan_blobs(self, limit: int) -> list[str]:
        """Blobs no repository links to."""
        linked = exists().where(repository_blobs.c.digest == blobs.c.digest)
        with self._engine.connect() as conn:
            rows = conn.execute(select(blobs.c.digest).where(~linked).limit(limit))
            return [row.digest for row in rows]

    def forget_blob(self, digest: str) -> bool:
        """Delete the blob row when nothing links it."""
        with self._engine.begin() as conn:
            linked = exists().where(repository_blobs.c.digest == digest)
            result = conn.execute(delete(blobs).where(blobs.c.digest == digest, ~linked))
            return bool(result.rowcount)


class SqlUploadStore:
    """:class:`crossdock.storage.registry_store.UploadStore` over an Engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create_upload(self, upload_id: str, repository_id: int, now: float) -> None:
        """Insert an empty session."""
        with self._engine.begin() as conn:
            conn.execute(
                insert(upload_sessions).values(
                    id=upload_id,
                    repository_id=repository_id,
                    bytes_received=0,
                    parts=0,
                    last_part_size=0,
                    smallest_inner_part=None,
                    state="active",
                    created_at=now,
                    updated_at=now,
                )
            )

    def get_upload(self, upload_id: str) -> UploadRecord | None:
        """Primary-key lookup."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(upload_sessions).where(upload_sessions.c.id == upload_id)
            ).first()
        if row is None:
            return None
        return UploadRecord(
            id=row.id,
            repository_id=row.repository_id,
            bytes_received=row.bytes_received,
            parts=row.parts,
            last_part_size=row.last_part_size,
            smallest_inner_part=row.smallest_inner_part,
            state=row.state,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def record_part(self, upload_id: str, bytes_received: int, part_size: int, now: float) -> None:
        """Count the part; the previous part becomes an inner part."""
        inner = upload_sessions.c.smallest_inner_part
        previous = upload_sessions.c.last_part_size
        with self._engine.begin() as conn:
            conn.execute(
                update(upload_sessions)
                .where(upload_sessions.c.id == upload_id)
                .values(
                    bytes_received=bytes_received,
                    parts=upload_sessions.c.parts + 1,
                    smallest_inner_part=_smallest_inner(inner, previous),
                    last_part_size=part_size,
                    updated_at=now,
                )
            )

    def delete_upload(self, upload_id: str) -> bool:
        """Delete the session row."""
        with self._engine.begin() as conn:
            result = conn.execute(delete(upload_sessions).where(upload_sessions.c.id == upload_id))
            return bool(result.rowcount)

    def stale_uploads(self, before: float, limit: int) -> list[str]:
        """Sessions idle since ``before``."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(upload_sessions.c.id)
                .where(upload_sessions.c.updated_at < before)
                .limit(limit)
            )
            return [row.id for row in rows]


def _smallest_inner(inner: Any, previous: Any) -> Any:
    """SQL for: the smaller of the smallest inner part and the part before this one."""
    return case(
        (upload_sessions.c.parts == 0, inner),
        (inner.is_(None), previous),
        (previous < inner, previous),
        else_=inner,
    )
