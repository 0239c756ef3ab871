"""The SQL identity store, assembled: one object per protocol over one engine."""

from __future__ import annotations

from sqlalchemy import Engine

from crossdock.storage.identity_store import IdentityStores
from crossdock.storage.sql.identity_entities_sql import SqlGroupStore, SqlRoleStore, SqlUserStore
from crossdock.storage.sql.identity_policies_sql import SqlPolicyStore
from crossdock.storage.sql.identity_sql import SqlAccountStore, SqlKeyStore, SqlTagStore


def sql_identity_stores(engine: Engine) -> IdentityStores:
    """Every identity protocol over ``engine`` (the schema must exist)."""
    return IdentityStores(
        accounts=SqlAccountStore(engine),
        users=SqlUserStore(engine),
        groups=SqlGroupStore(engine),
        roles=SqlRoleStore(engine),
        tags=SqlTagStore(engine),
        policies=SqlPolicyStore(engine),
        keys=SqlKeyStore(engine),
        generations=SqlKeyStore(engine),
    )
