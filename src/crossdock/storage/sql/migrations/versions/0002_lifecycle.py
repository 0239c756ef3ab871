"""lifecycle policies: one policy and one preview per repository

Revision ID: 0002_lifecycle
Revises: 0001
Create Date: 2026-12-01 10:00:00

Portable types only (Integer, Text, String, Float): the same migration runs on SQLite
and PostgreSQL. Both tables cascade with their repository.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_lifecycle"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ecr_lifecycle_policies",
        sa.Column("repository_id", sa.Integer(), nullable=False),
        sa.Column("policy_text", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("last_evaluated_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["ecr_repositories.id"],
            name=op.f("fk_ecr_lifecycle_policies_repository_id_ecr_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("repository_id", name=op.f("pk_ecr_lifecycle_policies")),
    )
    op.create_table(
        "ecr_lifecycle_previews",
        sa.Column("repository_id", sa.Integer(), nullable=False),
        sa.Column("policy_text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("results", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["ecr_repositories.id"],
            name=op.f("fk_ecr_lifecycle_previews_repository_id_ecr_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("repository_id", name=op.f("pk_ecr_lifecycle_previews")),
    )


def downgrade() -> None:
    op.drop_table("ecr_lifecycle_previews")
    op.drop_table("ecr_lifecycle_policies")
