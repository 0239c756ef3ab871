"""Accounts, Organizations and IAM/STS identities: SQLAlchemy Core tables.

Every table registers with :data:`crossdock.storage.sql.schema.metadata`. Account ids are
12-character strings (leading zeros are legal). IAM names are unique per account without
regard to case, as in IAM: each named entity stores ``name`` as given and ``name_key``
(lower case) under a unique constraint.

A role keeps its trust policy as submitted (``trust_policy``) and, for evaluation, with its
user and role principals bound to their unique ids (``trust_policy_evaluated``, with the
``trust_bindings`` that produced it): a deleted and recreated principal no longer matches.

Secrets are never stored in clear text: ``secret_sealed`` holds a
:class:`~crossdock.storage.secrets.SecretBox` token and ``token_hash`` a SHA-256 digest.

Owner columns of inline policies, attachments and tags (``owner_id``) hold the owner's
unique id (``AIDA...``, ``AGPA...``, ``AROA...``, ``ANPA...``); the store removes those rows
in the same transaction as their owner.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from crossdock.storage.sql.dialect import ordered_string
from crossdock.storage.sql.schema import metadata

organizations = Table(
    "organizations",
    metadata,
    Column("org_id", String(34), primary_key=True),
    Column("root_id", String(34), nullable=False, unique=True),
    Column("management_account_id", String(12), nullable=True),
    Column("created_at", DateTime, nullable=False),
)

org_units = Table(
    "org_units",
    metadata,
    Column("ou_id", String(68), primary_key=True),
    Column(
        "org_id",
        String(34),
        ForeignKey("organizations.org_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("parent_id", String(68), nullable=False),
    Column("name", String(128), nullable=False),
    Column("created_at", DateTime, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("org_id", String(34), ForeignKey("organizations.org_id"), nullable=True),
    Column("parent_id", String(68), nullable=True),
    Column("created_at", DateTime, nullable=False),
)

scps = Table(
    "scps",
    metadata,
    Column("policy_id", String(64), primary_key=True),
    Column(
        "org_id",
        String(34),
        ForeignKey("organizations.org_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(128), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("document", Text, nullable=False),
    UniqueConstraint("org_id", "name"),
)

scp_attachments = Table(
    "scp_attachments",
    metadata,
    Column(
        "policy_id", String(64), ForeignKey("scps.policy_id", ondelete="CASCADE"), nullable=False
    ),
    Column("target_id", String(68), nullable=False),
    PrimaryKeyConstraint("policy_id", "target_id"),
)

iam_users = Table(
    "iam_users",
    metadata,
    Column("user_id", String(32), primary_key=True),
    Column("account_id", String(12), ForeignKey("accounts.account_id"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("name_key", ordered_string(64), nullable=False),
    Column("path", String(512), nullable=False),
    Column("boundary_arn", String(2048), nullable=True),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("account_id", "name_key"),
)

iam_groups = Table(
    "iam_groups",
    metadata,
    Column("group_id", String(32), primary_key=True),
    Column("account_id", String(12), ForeignKey("accounts.account_id"), nullable=False),
    Column("name", String(128), nullable=False),
    Column("name_key", ordered_string(128), nullable=False),
    Column("path", String(512), nullable=False),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("account_id", "name_key"),
)

iam_group_members = Table(
    "iam_group_members",
    metadata,
    Column("group_id", String(32), ForeignKey("iam_groups.group_id"), nullable=False),
    Column("user_id", String(32), ForeignKey("iam_users.user_id"), nullable=False),
    PrimaryKeyConstraint("group_id", "user_id"),
)

iam_roles = Table(
    "iam_roles",
    metadata,
    Column("role_id", String(32), primary_key=True),
    Column("account_id", String(12), ForeignKey("accounts.account_id"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("name_key", ordered_string(64), nullable=False),
    Column("path", String(512), nullable=False),
    Column("trust_policy", Text, nullable=False),
    Column("trust_policy_evaluated", Text, nullable=True),
    Column("trust_bindings", Text, nullable=False, default="[]"),
    Column("description", String(1000), nullable=False, default=""),
    Column("max_session_duration", Integer, nullable=False, default=3600),
    Column("boundary_arn", String(2048), nullable=True),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("account_id", "name_key"),
)

iam_managed_policies = Table(
    "iam_managed_policies",
    metadata,
    Column("policy_id", String(32), primary_key=True),
    Column("account_id", String(12), ForeignKey("accounts.account_id"), nullable=False),
    Column("arn", String(2048), nullable=False, unique=True),
    Column("name", String(128), nullable=False),
    Column("name_key", ordered_string(128), nullable=False),
    Column("path", String(512), nullable=False),
    Column("description", String(1000), nullable=False, default=""),
    Column("default_version_id", String(16), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("account_id", "name_key"),
)

iam_policy_versions = Table(
    "iam_policy_versions",
    metadata,
    Column(
        "policy_id",
        String(32),
        ForeignKey("iam_managed_policies.policy_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("version_id", String(16), nullable=False),
    Column("document", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    PrimaryKeyConstraint("policy_id", "version_id"),
)

iam_inline_policies = Table(
    "iam_inline_policies",
    metadata,
    Column("owner_id", String(32), nullable=False),
    Column("name", ordered_string(128), nullable=False),
    Column("document", Text, nullable=False),
    PrimaryKeyConstraint("owner_id", "name"),
)

iam_policy_attachments = Table(
    "iam_policy_attachments",
    metadata,
    Column(
        "policy_id",
        String(32),
        ForeignKey("iam_managed_policies.policy_id"),
        nullable=False,
    ),
    Column("owner_id", String(32), nullable=False, index=True),
    PrimaryKeyConstraint("policy_id", "owner_id"),
)

iam_tags = Table(
    "iam_tags",
    metadata,
    Column("owner_id", String(32), nullable=False),
    Column("key", String(128), nullable=False),
    Column("key_lower", String(128), nullable=False),
    Column("value", String(256), nullable=False),
    Column("position", Integer, nullable=False),
    PrimaryKeyConstraint("owner_id", "key_lower"),
)

access_keys = Table(
    "access_keys",
    metadata,
    Column("access_key_id", String(32), primary_key=True),
    Column("account_id", String(12), ForeignKey("accounts.account_id"), nullable=False),
    Column("user_id", String(32), ForeignKey("iam_users.user_id"), nullable=True, index=True),
    Column("secret_sealed", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime, nullable=False),
)
"""Long-term (AKIA) keys; ``user_id`` is NULL for the account root user's keys."""

sts_sessions = Table(
    "sts_sessions",
    metadata,
    Column("access_key_id", String(32), primary_key=True),
    Column("secret_sealed", Text, nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("account_id", String(12), nullable=False),
    Column("role_id", String(32), nullable=False, index=True),
    Column("role_arn", String(2048), nullable=False),
    Column("session_name", String(64), nullable=False),
    Column("session_policy", Text, nullable=True),
    Column("session_tags", Text, nullable=False, default="[]"),
    Column("source_arn", String(2048), nullable=False),
    Column("issued_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False, index=True),
)
"""Role sessions (ASIA keys). The role columns are copied at issue time: a session of a
deleted role still authenticates, and is then allowed nothing, as on AWS."""

identity_generation = Table(
    "identity_generation",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("generation", Integer, nullable=False),
)
"""One row counting committed identity changes: caches of credentials and policies are
valid while it stays the same (role sessions do not count: adding one changes nothing
cached)."""
