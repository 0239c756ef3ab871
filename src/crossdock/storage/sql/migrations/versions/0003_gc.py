"""online garbage collection: last use of blobs and links, and blob pins

Revision ID: 0003_gc
Revises: 0002_lifecycle
Create Date: 2026-12-01 12:00:00

Portable types only (String, Float): the same migration runs on SQLite and PostgreSQL.
The new ``last_used_at`` columns are nullable (NULL means "the row's ``created_at``"), so
existing rows need no backfill. docs/gc.md describes the protocol they serve.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_gc"
down_revision = "0002_lifecycle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ecr_blobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_used_at", sa.Float(), nullable=True))
    with op.batch_alter_table("ecr_repository_blobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_used_at", sa.Float(), nullable=True))
    op.create_table(
        "ecr_blob_pins",
        sa.Column("pin_id", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=140), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("pin_id", "digest", name=op.f("pk_ecr_blob_pins")),
    )
    with op.batch_alter_table("ecr_blob_pins", schema=None) as batch_op:
        batch_op.create_index("ix_ecr_blob_pins_digest", ["digest"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ecr_blob_pins", schema=None) as batch_op:
        batch_op.drop_index("ix_ecr_blob_pins_digest")
    op.drop_table("ecr_blob_pins")
    with op.batch_alter_table("ecr_repository_blobs", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
    with op.batch_alter_table("ecr_blobs", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
