"""The SQL identity store: inline policies, managed policies and their attachments."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from crossdock.storage.identity_store import (
    AttachedPolicyRecord,
    EntityExistsError,
    EntityInUseError,
    EntityMissingError,
    InlinePolicyRecord,
    InUseReason,
    ManagedPolicyRecord,
    PolicyVersionRecord,
    QuotaExceededError,
    policy_size,
)
from crossdock.storage.sql.identity_sql import (
    SqlBase,
    delete_tags,
    from_db_time,
    read_tags,
    to_db_time,
    write_tags,
)
from crossdock.storage.sql.identity_tables import (
    iam_inline_policies,
    iam_managed_policies,
    iam_policy_attachments,
    iam_policy_versions,
    iam_roles,
    iam_users,
)

TAG_LIMIT = 50


def _policy_id(conn: Connection, arn: str) -> str | None:
    return conn.execute(
        select(iam_managed_policies.c.policy_id).where(iam_managed_policies.c.arn == arn)
    ).scalar_one_or_none()


class SqlPolicyStore(SqlBase):
    """:class:`~crossdock.storage.identity_store.PolicyStore` over SQL."""

    def put_inline(self, owner_id: str, name: str, document: str, limit: int) -> None:
        """Add or replace an inline policy within the owner's aggregate size ``limit``."""
        with self._write() as conn:
            others = conn.execute(
                select(iam_inline_policies.c.document).where(
                    iam_inline_policies.c.owner_id == owner_id,
                    iam_inline_policies.c.name != name,
                )
            ).scalars()
            total = policy_size(document) + sum(policy_size(text) for text in others)
            if total > limit:
                raise QuotaExceededError("InlinePolicySize", limit)
            replaced = conn.execute(
                update(iam_inline_policies)
                .where(
                    iam_inline_policies.c.owner_id == owner_id, iam_inline_policies.c.name == name
                )
                .values(document=document)
            ).rowcount
            if not replaced:
                conn.execute(
                    insert(iam_inline_policies).values(
                        owner_id=owner_id, name=name, document=document
                    )
                )

    def get_inline(self, owner_id: str, name: str) -> InlinePolicyRecord | None:
        """The inline policy, or None."""
        with self._read() as conn:
            document = conn.execute(
                select(iam_inline_policies.c.document).where(
                    iam_inline_policies.c.owner_id == owner_id, iam_inline_policies.c.name == name
                )
            ).scalar_one_or_none()
        return None if document is None else InlinePolicyRecord(owner_id, name, document)

    def delete_inline(self, owner_id: str, name: str) -> bool:
        """Delete an inline policy; False when it did not exist."""
        with self._write() as conn:
            removed = conn.execute(
                delete(iam_inline_policies).where(
                    iam_inline_policies.c.owner_id == owner_id, iam_inline_policies.c.name == name
                )
            ).rowcount
        return bool(removed)

    def list_inline(self, owner_id: str) -> list[InlinePolicyRecord]:
        """The owner's inline policies, by name."""
        with self._read() as conn:
            rows = conn.execute(
                select(iam_inline_policies.c.name, iam_inline_policies.c.document)
                .where(iam_inline_policies.c.owner_id == owner_id)
                .order_by(iam_inline_policies.c.name)
            )
            return [InlinePolicyRecord(owner_id, name, document) for name, document in rows]

    def create_managed(self, policy: ManagedPolicyRecord, document: str) -> None:
        """Add a managed policy with its version ``v1``; EntityExistsError for a taken name."""
        try:
            with self._write() as conn:
                conn.execute(
                    insert(iam_managed_policies).values(
                        policy_id=policy.policy_id,
                        account_id=policy.account_id,
                        arn=policy.arn,
                        name=policy.name,
                        name_key=policy.name.lower(),
                        path=policy.path,
                        description=policy.description,
                        default_version_id=policy.default_version_id,
                        created_at=to_db_time(policy.created_at),
                        updated_at=to_db_time(policy.updated_at),
                    )
                )
                conn.execute(
                    insert(iam_policy_versions).values(
                        policy_id=policy.policy_id,
                        version_id=policy.default_version_id,
                        document=document,
                        created_at=to_db_time(policy.created_at),
                    )
                )
                write_tags(conn, policy.policy_id, policy.tags, TAG_LIMIT)
        except IntegrityError as error:
            raise EntityExistsError("policy", policy.name) from error

    def get_managed(self, arn: str) -> ManagedPolicyRecord | None:
        """The managed policy with ``arn`` (with its attachment counts), or None."""
        table = iam_managed_policies
        with self._read() as conn:
            row = conn.execute(select(table).where(table.c.arn == arn)).first()
            if row is None:
                return None
            attachments = conn.execute(
                select(func.count())
                .select_from(iam_policy_attachments)
                .where(iam_policy_attachments.c.policy_id == row.policy_id)
            ).scalar_one()
            tags = read_tags(conn, [row.policy_id])[row.policy_id]
            boundaries = self._boundary_uses(conn, arn)
        return ManagedPolicyRecord(
            policy_id=row.policy_id,
            account_id=row.account_id,
            name=row.name,
            path=row.path,
            default_version_id=row.default_version_id,
            created_at=from_db_time(row.created_at),
            updated_at=from_db_time(row.updated_at),
            description=row.description,
            attachment_count=attachments,
            boundary_usage_count=boundaries,
            tags=tags,
        )

    @staticmethod
    def _boundary_uses(conn: Connection, arn: str) -> int:
        users = conn.execute(
            select(func.count()).select_from(iam_users).where(iam_users.c.boundary_arn == arn)
        ).scalar_one()
        roles = conn.execute(
            select(func.count()).select_from(iam_roles).where(iam_roles.c.boundary_arn == arn)
        ).scalar_one()
        return int(users) + int(roles)

    def get_version(self, arn: str, version_id: str) -> PolicyVersionRecord | None:
        """One version of a managed policy, or None."""
        with self._read() as conn:
            row = conn.execute(
                select(
                    iam_policy_versions.c.document,
                    iam_policy_versions.c.created_at,
                    iam_managed_policies.c.default_version_id,
                )
                .join(
                    iam_managed_policies,
                    iam_managed_policies.c.policy_id == iam_policy_versions.c.policy_id,
                )
                .where(
                    iam_managed_policies.c.arn == arn,
                    iam_policy_versions.c.version_id == version_id,
                )
            ).first()
        if row is None:
            return None
        document, created, default = row
        return PolicyVersionRecord(
            arn, version_id, document, default == version_id, from_db_time(created)
        )

    def delete_managed(self, arn: str) -> None:
        """Delete a managed policy; EntityInUseError while attached or used as a boundary."""
        with self._write() as conn:
            policy_id = _policy_id(conn, arn)
            if policy_id is None:
                raise EntityMissingError("policy", arn)
            attached = exists().where(iam_policy_attachments.c.policy_id == policy_id)
            if conn.execute(select(attached)).scalar():
                raise EntityInUseError("policy", arn, InUseReason.POLICY_ATTACHMENTS)
            if self._boundary_uses(conn, arn):
                raise EntityInUseError("policy", arn, InUseReason.BOUNDARY_USE)
            delete_tags(conn, policy_id)
            conn.execute(
                delete(iam_policy_versions).where(iam_policy_versions.c.policy_id == policy_id)
            )
            conn.execute(
                delete(iam_managed_policies).where(iam_managed_policies.c.policy_id == policy_id)
            )

    def attach(self, arn: str, owner_id: str, limit: int) -> None:
        """Attach a managed policy (idempotent); QuotaExceededError beyond ``limit``."""
        with self._write() as conn:
            policy_id = _policy_id(conn, arn)
            if policy_id is None:
                raise EntityMissingError("policy", arn)
            table = iam_policy_attachments
            current = conn.execute(select(table.c.policy_id).where(table.c.owner_id == owner_id))
            attached = set(current.scalars())
            if policy_id in attached:
                return
            if len(attached) >= limit:
                raise QuotaExceededError("PoliciesPerEntity", limit)
            conn.execute(insert(table).values(policy_id=policy_id, owner_id=owner_id))

    def detach(self, arn: str, owner_id: str) -> bool:
        """Detach a managed policy; False when it was not attached."""
        with self._write() as conn:
            policy_id = _policy_id(conn, arn)
            if policy_id is None:
                return False
            removed = conn.execute(
                delete(iam_policy_attachments).where(
                    iam_policy_attachments.c.policy_id == policy_id,
                    iam_policy_attachments.c.owner_id == owner_id,
                )
            ).rowcount
        return bool(removed)

    def attached(self, owner_ids: Sequence[str]) -> dict[str, list[AttachedPolicyRecord]]:
        """The managed policies attached to each owner, with their default documents."""
        found: dict[str, list[AttachedPolicyRecord]] = {owner: [] for owner in owner_ids}
        if not owner_ids:
            return found
        policies, versions = iam_managed_policies, iam_policy_versions
        with self._read() as conn:
            rows = conn.execute(
                select(
                    iam_policy_attachments.c.owner_id,
                    policies.c.arn,
                    policies.c.name,
                    versions.c.document,
                )
                .join(policies, policies.c.policy_id == iam_policy_attachments.c.policy_id)
                .join(
                    versions,
                    (versions.c.policy_id == policies.c.policy_id)
                    & (versions.c.version_id == policies.c.default_version_id),
                )
                .where(iam_policy_attachments.c.owner_id.in_(list(owner_ids)))
                .order_by(policies.c.name_key)
            )
            for owner, arn, name, document in rows:
                found[owner].append(AttachedPolicyRecord(arn, name, document))
        return found

    def documents(self, arns: Sequence[str]) -> dict[str, str]:
        """The default document of each managed policy in ``arns`` that exists."""
        if not arns:
            return {}
        policies, versions = iam_managed_policies, iam_policy_versions
        with self._read() as conn:
            rows = conn.execute(
                select(policies.c.arn, versions.c.document)
                .join(
                    versions,
                    (versions.c.policy_id == policies.c.policy_id)
                    & (versions.c.version_id == policies.c.default_version_id),
                )
                .where(policies.c.arn.in_(list(arns)))
            )
            return {row[0]: row[1] for row in rows}
