"""The registry's tables: repositories, images, tags, blob references, uploads, tokens.

Declarative schema only (constants registered on the shared ``metadata``). Times are
epoch seconds (``Float``), as the ECR API reports them. Every child row cascades with its
repository, so deleting a repository is one statement.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from crossdock.storage.sql.dialect import free_text, ordered_string
from crossdock.storage.sql.schema import metadata

_CASCADE = "CASCADE"

repositories = Table(
    "ecr_repositories",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(12), nullable=False),
    Column("region", ordered_string(32), nullable=False),
    Column("name", ordered_string(256), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("tag_mutability", String(32), nullable=False),
    Column("mutability_filters", Text, nullable=False, default="[]"),
    Column("scan_on_push", Boolean, nullable=False, default=False),
    Column("encryption_type", String(16), nullable=False, default="AES256"),
    Column("kms_key", String(2048), nullable=True),
    Column("policy_text", Text, nullable=True),
    Column("policy_eval", Text, nullable=True),
    Column("tags", Text, nullable=False, default="[]"),
    UniqueConstraint("account_id", "region", "name"),
)
"""One row per repository; ``policy_text`` as returned, ``policy_eval`` as evaluated;
``tags`` is a JSON array of ``[key, value]`` pairs in the order they were added (one row
read gives the authorizer everything it needs)."""

policy_bindings = Table(
    "ecr_policy_bindings",
    metadata,
    Column(
        "repository_id",
        Integer,
        ForeignKey("ecr_repositories.id", ondelete=_CASCADE),
        primary_key=True,
    ),
    Column("arn", String(2048), primary_key=True),
    Column("unique_id", String(128), nullable=False),
)
"""The user and role principals of a repository policy, bound to their unique ids."""

blobs = Table(
    "ecr_blobs",
    metadata,
    Column("digest", String(140), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("last_used_at", Float, nullable=True),
)
"""Every committed blob the metadata knows (the blob store holds the bytes).
``last_used_at`` (NULL: ``created_at``) is when an upload or mount last pinned it
(garbage collection's grace period, docs/gc.md)."""

repository_blobs = Table(
    "ecr_repository_blobs",
    metadata,
    Column(
        "repository_id",
        Integer,
        ForeignKey("ecr_repositories.id", ondelete=_CASCADE),
        primary_key=True,
    ),
    Column("digest", String(140), ForeignKey("ecr_blobs.digest"), primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("last_used_at", Float, nullable=True),
    Index("ix_ecr_repository_blobs_digest", "digest"),
)
"""Blobs uploaded to (or mounted into) a repository: what it may reference and serve.
``last_used_at`` (NULL: ``created_at``): the last upload, mount or HEAD of it there."""

blob_pins = Table(
    "ecr_blob_pins",
    metadata,
    Column("pin_id", String(64), primary_key=True),
    Column("digest", String(140), primary_key=True),
    Column("expires_at", Float, nullable=False),
    Index("ix_ecr_blob_pins_digest", "digest"),
)
"""Blobs an upload completion or a mount is relying on right now: garbage collection
keeps a pinned blob (docs/gc.md). A pin outlives a crashed writer only until it expires."""

images = Table(
    "ecr_images",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "repository_id",
        Integer,
        ForeignKey("ecr_repositories.id", ondelete=_CASCADE),
        nullable=False,
    ),
    Column("digest", String(140), nullable=False),
    Column("manifest", LargeBinary, nullable=False),
    Column("media_type", free_text(256), nullable=False),
    Column("artifact_type", free_text(256), nullable=True),
    Column("size", BigInteger, nullable=False),
    Column("pushed_at", Float, nullable=False),
    Column("subject_digest", String(140), nullable=True),
    UniqueConstraint("repository_id", "digest"),
    Index("ix_ecr_images_subject", "repository_id", "subject_digest"),
    # Pages of a repository's images in push (id) order: migration 0004.
    Index("ix_ecr_images_by_repository", "repository_id", "id"),
)

image_tags = Table(
    "ecr_image_tags",
    metadata,
    Column(
        "repository_id",
        Integer,
        ForeignKey("ecr_repositories.id", ondelete=_CASCADE),
        primary_key=True,
    ),
    Column("tag", ordered_string(300), primary_key=True),
    Column("image_id", Integer, ForeignKey("ecr_images.id", ondelete=_CASCADE), nullable=False),
    Column("tagged_at", Float, nullable=False),
    Index("ix_ecr_image_tags_image", "image_id"),
)

image_blobs = Table(
    "ecr_image_blobs",
    metadata,
    Column("image_id", Integer, ForeignKey("ecr_images.id", ondelete=_CASCADE), primary_key=True),
    Column("digest", String(140), primary_key=True),
    Column("media_type", free_text(256), nullable=False),
    Index("ix_ecr_image_blobs_digest", "digest"),
)
"""Which blobs each image references (config and layers): for GC and layer access."""

image_children = Table(
    "ecr_image_children",
    metadata,
    Column("image_id", Integer, ForeignKey("ecr_images.id", ondelete=_CASCADE), primary_key=True),
    Column("child_digest", String(140), primary_key=True),
    Index("ix_ecr_image_children_child", "child_digest"),
)
"""The manifests an index references, in the same repository."""

upload_sessions = Table(
    "ecr_upload_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column(
        "repository_id",
        Integer,
        ForeignKey("ecr_repositories.id", ondelete=_CASCADE),
        nullable=False,
    ),
    Column("bytes_received", BigInteger, nullable=False, default=0),
    Column("parts", Integer, nullable=False, default=0),
    Column("last_part_size", BigInteger, nullable=False, default=0),
    Column("smallest_inner_part", BigInteger, nullable=True),
    Column("state", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)
"""Upload sessions; the bytes live in the blob store under the same id."""

auth_tokens = Table(
    "ecr_auth_tokens",
    metadata,
    Column("token_id", String(64), primary_key=True),
    Column("secret_hash", String(64), nullable=False),
    Column("access_key_id", String(128), nullable=False),
    Column("principal_arn", String(2048), nullable=False),
    Column("issued_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Index("ix_ecr_auth_tokens_expires", "expires_at"),
)
"""GetAuthorizationToken passwords: a hash of the secret, bound to the access key."""

lifecycle_policies = Table(
    "ecr_lifecycle_policies",
    metadata,
    Column(
        "repository_id",
        Integer,
        ForeignKey("ecr_repositories.id", ondelete=_CASCADE),
        primary_key=True,
    ),
    Column("policy_text", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("last_evaluated_at", Float, nullable=True),
)
"""A repository's lifecycle policy, as given, and when it last ran (migration 0002)."""

lifecycle_previews = Table(
    "ecr_lifecycle_previews",
    metadata,
    Column(
        "repository_id",
        Integer,
        ForeignKey("ecr_repositories.id", ondelete=_CASCADE),
        primary_key=True,
    ),
    Column("policy_text", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("results", Text, nullable=False),
)
"""The latest lifecycle policy preview per repository; ``results`` is a JSON array of
``[digest, [tags], pushed_at, rule_priority]`` (migration 0002)."""
