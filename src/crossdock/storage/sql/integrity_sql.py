""":class:`crossdock.storage.integrity.IntegrityStore` over SQL: bulk reads for ``fsck``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, and_, delete, exists, select, update

from crossdock.storage.integrity import (
    ImageReference,
    RepositoryKey,
    StoredManifest,
    UploadSession,
)
from crossdock.storage.sql.registry_tables import (
    blobs,
    image_blobs,
    image_children,
    images,
    repositories,
    repository_blobs,
    upload_sessions,
)

_IN_BATCH = 500
"""Digests per ``IN (...)`` list (SQLite caps bound parameters)."""


def _key(row: Any) -> RepositoryKey:
    return RepositoryKey(row.account_id, row.region, row.name)


_REPOSITORY_COLUMNS = (repositories.c.account_id, repositories.c.region, repositories.c.name)


class SqlIntegrityStore:
    """The rows ``crossdock fsck`` checks, over an Engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def blob_rows(self) -> dict[str, int]:
        """digest → size of every ``ecr_blobs`` row."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(blobs.c.digest, blobs.c.size))
            return {str(digest): int(size) for digest, size in rows}

    def holders(self, digest: str) -> tuple[RepositoryKey, ...]:
        """Repositories linking the blob, in address order."""
        query = (
            select(*_REPOSITORY_COLUMNS)
            .join(repository_blobs, repository_blobs.c.repository_id == repositories.c.id)
            .where(repository_blobs.c.digest == digest)
            .order_by(*_REPOSITORY_COLUMNS)
        )
        with self._engine.connect() as conn:
            return tuple(_key(row) for row in conn.execute(query))

    def dangling_links(self) -> list[tuple[RepositoryKey, str]]:
        """Links to a digest without an ``ecr_blobs`` row (only if foreign keys were off)."""
        known = exists().where(blobs.c.digest == repository_blobs.c.digest)
        query = (
            select(*_REPOSITORY_COLUMNS, repository_blobs.c.digest)
            .join(repositories, repositories.c.id == repository_blobs.c.repository_id)
            .where(~known)
            .order_by(repository_blobs.c.digest)
        )
        with self._engine.connect() as conn:
            return [(_key(row), str(row.digest)) for row in conn.execute(query)]

    def unlinked_image_blobs(self) -> list[ImageReference]:
        """Image blobs the image's repository holds no link to."""
        linked = exists().where(
            and_(
                repository_blobs.c.repository_id == images.c.repository_id,
                repository_blobs.c.digest == image_blobs.c.digest,
            )
        )
        query = (
            select(*_REPOSITORY_COLUMNS, images.c.digest.label("image"), image_blobs.c.digest)
            .join(images, images.c.id == image_blobs.c.image_id)
            .join(repositories, repositories.c.id == images.c.repository_id)
            .where(~linked)
            .order_by(images.c.id, image_blobs.c.digest)
        )
        with self._engine.connect() as conn:
            return [ImageReference(_key(r), r.image, r.digest) for r in conn.execute(query)]

    def image_blob_references(self, digests: Iterable[str]) -> list[ImageReference]:
        """Image blobs among ``digests``."""
        wanted = sorted(set(digests))
        found: list[ImageReference] = []
        with self._engine.connect() as conn:
            for start in range(0, len(wanted), _IN_BATCH):
                query = (
                    select(
                        *_REPOSITORY_COLUMNS, images.c.digest.label("image"), image_blobs.c.digest
                    )
                    .join(images, images.c.id == image_blobs.c.image_id)
                    .join(repositories, repositories.c.id == images.c.repository_id)
                    .where(image_blobs.c.digest.in_(wanted[start : start + _IN_BATCH]))
                    .order_by(images.c.id, image_blobs.c.digest)
                )
                rows = conn.execute(query)
                found.extend(ImageReference(_key(r), r.image, r.digest) for r in rows)
        return found

    def missing_children(self) -> list[ImageReference]:
        """Index children that are not images of the index's repository."""
        child = images.alias("child")
        present = exists().where(
            and_(
                child.c.repository_id == images.c.repository_id,
                child.c.digest == image_children.c.child_digest,
            )
        )
        query = (
            select(
                *_REPOSITORY_COLUMNS,
                images.c.digest.label("image"),
                image_children.c.child_digest,
            )
            .join(images, images.c.id == image_children.c.image_id)
            .join(repositories, repositories.c.id == images.c.repository_id)
            .where(~present)
            .order_by(images.c.id, image_children.c.child_digest)
        )
        with self._engine.connect() as conn:
            return [ImageReference(_key(r), r.image, r.child_digest) for r in conn.execute(query)]

    def manifests(self, after_id: int, limit: int) -> list[StoredManifest]:
        """A page of images with their manifest bytes, in id order."""
        query = (
            select(images.c.id, images.c.digest, images.c.manifest, *_REPOSITORY_COLUMNS)
            .join(repositories, repositories.c.id == images.c.repository_id)
            .where(images.c.id > after_id)
            .order_by(images.c.id)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return [
                StoredManifest(row.id, _key(row), row.digest, bytes(row.manifest))
                for row in conn.execute(query)
            ]

    def upload_sessions(self) -> list[UploadSession]:
        """Every session row."""
        query = select(upload_sessions.c.id, upload_sessions.c.updated_at).order_by(
            upload_sessions.c.id
        )
        with self._engine.connect() as conn:
            return [UploadSession(row.id, float(row.updated_at)) for row in conn.execute(query)]

    def forget_blob(self, digest: str) -> int:
        """Drop every link to the blob, then its row."""
        with self._engine.begin() as conn:
            unlink = delete(repository_blobs).where(repository_blobs.c.digest == digest)
            links = conn.execute(unlink)
            conn.execute(delete(blobs).where(blobs.c.digest == digest))
            return int(links.rowcount)

    def correct_blob_size(self, digest: str, size: int) -> None:
        """UPDATE the row's size."""
        with self._engine.begin() as conn:
            conn.execute(update(blobs).where(blobs.c.digest == digest).values(size=size))

    def drop_dangling_link(self, repository: RepositoryKey, digest: str) -> None:
        """DELETE one link, found by the repository's address."""
        owner = (
            select(repositories.c.id)
            .where(
                repositories.c.account_id == repository.account_id,
                repositories.c.region == repository.region,
                repositories.c.name == repository.name,
            )
            .scalar_subquery()
        )
        with self._engine.begin() as conn:
            conn.execute(
                delete(repository_blobs).where(
                    repository_blobs.c.repository_id == owner, repository_blobs.c.digest == digest
                )
            )

    def drop_upload(self, upload_id: str) -> bool:
        """DELETE the session row."""
        with self._engine.begin() as conn:
            result = conn.execute(delete(upload_sessions).where(upload_sessions.c.id == upload_id))
            return bool(result.rowcount)
