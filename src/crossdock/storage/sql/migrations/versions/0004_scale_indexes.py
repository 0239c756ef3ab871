"""scale indexes: page a repository's images in push order without a sort or a table scan

Revision ID: 0004_scale_indexes
Revises: 0003_gc
Create Date: 2026-12-07 08:00:00

ListImages, DescribeImages, ``/v2/`` tags/list and lifecycle runs page a repository's
images by id (push order). Without an index on (repository_id, id), PostgreSQL walked the
primary key and filtered by repository (each page read rows of every other repository:
slower as the registry grows), and SQLite sorted the repository's every image for each
page (benchmarks/metadata_scale.py, docs/performance.md "Metadata scale"). Portable: one
plain index, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from alembic import op

revision = "0004_scale_indexes"
down_revision = "0003_gc"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ecr_images", schema=None) as batch_op:
        batch_op.create_index("ix_ecr_images_by_repository", ["repository_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ecr_images", schema=None) as batch_op:
        batch_op.drop_index("ix_ecr_images_by_repository")
