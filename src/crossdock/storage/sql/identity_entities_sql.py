"""The SQL identity store: IAM users, groups and roles."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Exists, delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from crossdock.storage.identity_store import (
    Bindings,
    EntityExistsError,
    EntityInUseError,
    GroupRecord,
    InUseReason,
    RoleRecord,
    UserRecord,
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
    access_keys,
    iam_group_members,
    iam_groups,
    iam_inline_policies,
    iam_policy_attachments,
    iam_roles,
    iam_users,
)

TAG_LIMIT = 50

_USER_COLUMNS = (
    iam_users.c.user_id,
    iam_users.c.account_id,
    iam_users.c.name,
    iam_users.c.path,
    iam_users.c.created_at,
    iam_users.c.boundary_arn,
)


def _user(conn: Connection, row: Sequence[Any]) -> UserRecord:
    tags = read_tags(conn, [row[0]])[row[0]]
    return UserRecord(row[0], row[1], row[2], row[3], from_db_time(row[4]), row[5], tags)


def _has(conn: Connection, table_exists: Exists) -> bool:
    return bool(conn.execute(select(table_exists)).scalar())


def _check_policies(conn: Connection, kind: str, name: str, owner_id: str) -> None:
    if _has(conn, exists().where(iam_inline_policies.c.owner_id == owner_id)):
        raise EntityInUseError(kind, name, InUseReason.INLINE_POLICIES)
    if _has(conn, exists().where(iam_policy_attachments.c.owner_id == owner_id)):
        raise EntityInUseError(kind, name, InUseReason.ATTACHED_POLICIES)


class SqlUserStore(SqlBase):
    """:class:`~crossdock.storage.identity_store.UserStore` over SQL."""

    def create_user(self, user: UserRecord) -> None:
        """Add a user with its tags; EntityExistsError when the name is taken."""
        try:
            with self._write() as conn:
                conn.execute(
                    insert(iam_users).values(
                        user_id=user.user_id,
                        account_id=user.account_id,
                        name=user.name,
                        name_key=user.name.lower(),
                        path=user.path,
                        boundary_arn=user.boundary_arn,
                        created_at=to_db_time(user.created_at),
                    )
                )
                write_tags(conn, user.user_id, user.tags, TAG_LIMIT)
        except IntegrityError as error:
            raise EntityExistsError("user", user.name) from error

    def get_user(self, account_id: str, name: str) -> UserRecord | None:
        """The user named ``name`` (case-insensitively), with its tags, or None."""
        with self._read() as conn:
            row = conn.execute(
                select(*_USER_COLUMNS).where(
                    iam_users.c.account_id == account_id, iam_users.c.name_key == name.lower()
                )
            ).first()
            return None if row is None else _user(conn, row)

    def get_user_by_id(self, user_id: str) -> UserRecord | None:
        """The user with unique id ``user_id``, or None."""
        with self._read() as conn:
            row = conn.execute(select(*_USER_COLUMNS).where(iam_users.c.user_id == user_id)).first()
            return None if row is None else _user(conn, row)

    def list_users(self, account_id: str, path_prefix: str = "/") -> list[UserRecord]:
        """The account's users under ``path_prefix``, by name."""
        with self._read() as conn:
            rows = conn.execute(
                select(*_USER_COLUMNS)
                .where(iam_users.c.account_id == account_id)
                .order_by(iam_users.c.name_key)
            ).all()
            return [_user(conn, row) for row in rows if row[3].startswith(path_prefix)]

    def delete_user(self, user_id: str) -> None:
        """Delete a user and its tags; EntityInUseError while it has keys, policies or
        group memberships."""
        with self._write() as conn:
            name = conn.execute(
                select(iam_users.c.name).where(iam_users.c.user_id == user_id)
            ).scalar_one_or_none()
            if name is None:
                return
            if _has(conn, exists().where(access_keys.c.user_id == user_id)):
                raise EntityInUseError("user", name, InUseReason.ACCESS_KEYS)
            _check_policies(conn, "user", name, user_id)
            if _has(conn, exists().where(iam_group_members.c.user_id == user_id)):
                raise EntityInUseError("user", name, InUseReason.GROUP_MEMBERSHIPS)
            delete_tags(conn, user_id)
            conn.execute(delete(iam_users).where(iam_users.c.user_id == user_id))

    def set_user_boundary(self, user_id: str, boundary_arn: str | None) -> None:
        """Set or clear the user's permissions boundary (a managed policy ARN)."""
        with self._write() as conn:
            conn.execute(
                update(iam_users)
                .where(iam_users.c.user_id == user_id)
                .values(boundary_arn=boundary_arn)
            )


_GROUP_COLUMNS = (
    iam_groups.c.group_id,
    iam_groups.c.account_id,
    iam_groups.c.name,
    iam_groups.c.path,
    iam_groups.c.created_at,
)


def _group(row: Sequence[Any]) -> GroupRecord:
    return GroupRecord(row[0], row[1], row[2], row[3], from_db_time(row[4]))


class SqlGroupStore(SqlBase):
    """:class:`~crossdock.storage.identity_store.GroupStore` over SQL."""

    def create_group(self, group: GroupRecord) -> None:
        """Add a group; EntityExistsError when the name is taken."""
        try:
            with self._write() as conn:
                conn.execute(
                    insert(iam_groups).values(
                        group_id=group.group_id,
                        account_id=group.account_id,
                        name=group.name,
                        name_key=group.name.lower(),
                        path=group.path,
                        created_at=to_db_time(group.created_at),
                    )
                )
        except IntegrityError as error:
            raise EntityExistsError("group", group.name) from error

    def get_group(self, account_id: str, name: str) -> GroupRecord | None:
        """The group named ``name`` (case-insensitively), or None."""
        with self._read() as conn:
            row = conn.execute(
                select(*_GROUP_COLUMNS).where(
                    iam_groups.c.account_id == account_id, iam_groups.c.name_key == name.lower()
                )
            ).first()
        return None if row is None else _group(row)

    def add_member(self, group_id: str, user_id: str) -> None:
        """Add a user to a group (idempotent)."""
        with self._write() as conn:
            member = exists().where(
                iam_group_members.c.group_id == group_id, iam_group_members.c.user_id == user_id
            )
            if not _has(conn, member):
                conn.execute(insert(iam_group_members).values(group_id=group_id, user_id=user_id))

    def remove_member(self, group_id: str, user_id: str) -> bool:
        """Remove a user from a group; False when it was not a member."""
        with self._write() as conn:
            removed = conn.execute(
                delete(iam_group_members).where(
                    iam_group_members.c.group_id == group_id,
                    iam_group_members.c.user_id == user_id,
                )
            ).rowcount
        return bool(removed)

    def groups_of(self, user_id: str) -> list[GroupRecord]:
        """The groups ``user_id`` belongs to, by name."""
        with self._read() as conn:
            rows = conn.execute(
                select(*_GROUP_COLUMNS)
                .join(iam_group_members, iam_group_members.c.group_id == iam_groups.c.group_id)
                .where(iam_group_members.c.user_id == user_id)
                .order_by(iam_groups.c.name_key)
            )
            return [_group(row) for row in rows]


_ROLE_COLUMNS = (
    iam_roles.c.role_id,
    iam_roles.c.account_id,
    iam_roles.c.name,
    iam_roles.c.path,
    iam_roles.c.trust_policy,
    iam_roles.c.created_at,
    iam_roles.c.description,
    iam_roles.c.max_session_duration,
    iam_roles.c.boundary_arn,
    iam_roles.c.trust_policy_evaluated,
    iam_roles.c.trust_bindings,
)


def _role(conn: Connection, row: Sequence[Any]) -> RoleRecord:
    tags = read_tags(conn, [row[0]])[row[0]]
    return RoleRecord(
        role_id=row[0],
        account_id=row[1],
        name=row[2],
        path=row[3],
        trust_policy=row[4],
        created_at=from_db_time(row[5]),
        description=row[6],
        max_session_duration=row[7],
        boundary_arn=row[8],
        tags=tags,
        trust_evaluated=row[9],
        trust_bindings=_bindings(row[10]),
    )


def _bindings(text: str | None) -> Bindings:
    return tuple((str(arn), str(uid)) for arn, uid in json.loads(text or "[]"))


def _bindings_text(bindings: Bindings) -> str:
    return json.dumps([list(pair) for pair in bindings])


class SqlRoleStore(SqlBase):
    """:class:`~crossdock.storage.identity_store.RoleStore` over SQL."""

    def create_role(self, role: RoleRecord) -> None:
        """Add a role with its tags; EntityExistsError when the name is taken."""
        try:
            with self._write() as conn:
                conn.execute(
                    insert(iam_roles).values(
                        role_id=role.role_id,
                        account_id=role.account_id,
                        name=role.name,
                        name_key=role.name.lower(),
                        path=role.path,
                        trust_policy=role.trust_policy,
                        trust_policy_evaluated=role.trust_evaluated,
                        trust_bindings=_bindings_text(role.trust_bindings),
                        description=role.description,
                        max_session_duration=role.max_session_duration,
                        boundary_arn=role.boundary_arn,
                        created_at=to_db_time(role.created_at),
                    )
                )
                write_tags(conn, role.role_id, role.tags, TAG_LIMIT)
        except IntegrityError as error:
            raise EntityExistsError("role", role.name) from error

    def get_role(self, account_id: str, name: str) -> RoleRecord | None:
        """The role named ``name`` (case-insensitively), with its tags, or None."""
        with self._read() as conn:
            row = conn.execute(
                select(*_ROLE_COLUMNS).where(
                    iam_roles.c.account_id == account_id, iam_roles.c.name_key == name.lower()
                )
            ).first()
            return None if row is None else _role(conn, row)

    def get_role_by_id(self, role_id: str) -> RoleRecord | None:
        """The role with unique id ``role_id``, or None."""
        with self._read() as conn:
            row = conn.execute(select(*_ROLE_COLUMNS).where(iam_roles.c.role_id == role_id)).first()
            return None if row is None else _role(conn, row)

    def list_roles(self, account_id: str) -> list[RoleRecord]:
        """The account's roles, by name."""
        with self._read() as conn:
            rows = conn.execute(
                select(*_ROLE_COLUMNS)
                .where(iam_roles.c.account_id == account_id)
                .order_by(iam_roles.c.name_key)
            ).all()
            return [_role(conn, row) for row in rows]

    def delete_role(self, role_id: str) -> None:
        """Delete a role and its tags; EntityInUseError while it has policies."""
        with self._write() as conn:
            name = conn.execute(
                select(iam_roles.c.name).where(iam_roles.c.role_id == role_id)
            ).scalar_one_or_none()
            if name is None:
                return
            _check_policies(conn, "role", name, role_id)
            delete_tags(conn, role_id)
            conn.execute(delete(iam_roles).where(iam_roles.c.role_id == role_id))

    def update_trust_policy(
        self, role_id: str, document: str, evaluated: str | None, bindings: Bindings
    ) -> None:
        """Replace the role's trust policy (as submitted, as evaluated, its bindings)."""
        with self._write() as conn:
            conn.execute(
                update(iam_roles)
                .where(iam_roles.c.role_id == role_id)
                .values(
                    trust_policy=document,
                    trust_policy_evaluated=evaluated,
                    trust_bindings=_bindings_text(bindings),
                )
            )

    def set_role_boundary(self, role_id: str, boundary_arn: str | None) -> None:
        """Set or clear the role's permissions boundary (a managed policy ARN)."""
        with self._write() as conn:
            conn.execute(
                update(iam_roles)
                .where(iam_roles.c.role_id == role_id)
                .values(boundary_arn=boundary_arn)
            )
