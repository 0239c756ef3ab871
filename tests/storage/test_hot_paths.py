"""The storage shortcuts of the API hot path answer exactly as the plain SQLAlchemy path.

* the identity generation is read through a dedicated connection: a change committed
  through any other connection (another process) is still seen by the very next read;
* :class:`RawStatement` runs compiled SQLAlchemy statements on a raw DBAPI connection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, Integer, bindparam, create_engine, func, insert, select

from crossdock.storage.data_dir import database_url, open_data_dir
from crossdock.storage.identity_store import AccountRecord
from crossdock.storage.registry_store import RepositorySettings, TokenRecord
from crossdock.storage.sql.engine import create_sql_engine
from crossdock.storage.sql.identity_stores import sql_identity_stores
from crossdock.storage.sql.raw import RawStatement
from crossdock.storage.sql.registry_tables import auth_tokens, repositories
from crossdock.storage.sql.repositories_sql import SqlRepositoryStore, SqlTokenStore

NOW = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
A = "111111111111"
R = "us-east-1"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    built, _ = open_data_dir(tmp_path)
    yield built
    built.dispose()


def test_the_generation_sees_every_commit_of_another_connection_at_once(
    engine: Engine, tmp_path: Path
) -> None:
    reader = sql_identity_stores(engine).generations
    before = reader.generation()
    other = create_sql_engine(database_url(tmp_path))  # another pool: as another process
    try:
        writer = sql_identity_stores(other)
        for step in range(1, 4):
            writer.accounts.create_account(AccountRecord(f"11111111111{step}", None, None, NOW))
            assert reader.generation() == before + step
    finally:
        other.dispose()


def test_a_raw_page_query_keeps_the_compilers_own_parameters(engine: Engine) -> None:
    store = SqlRepositoryStore(engine)
    for name in ("c", "a", "b"):
        store.create_repository(A, R, name, RepositorySettings(), (("team", name),), 1.5)
    assert [r.name for r in store.list_repositories(A, R, None, 2)] == ["a", "b"]
    assert [r.name for r in store.list_repositories(A, R, "b", 2)] == ["c"]
    found = store.get_repository(A, R, "b")
    assert found is not None
    assert (found.tags, found.created_at, found.settings) == (
        (("team", "b"),),
        1.5,
        RepositorySettings(),
    )
    assert store.get_repository(A, R, "zz") is None


def test_a_raw_write_commits_and_a_failed_one_leaves_nothing(engine: Engine) -> None:
    tokens = SqlTokenStore(engine)
    record = TokenRecord("t1", "h" * 64, "AKIA", "arn:aws:iam::111111111111:root", 1.0, 2.0)
    tokens.save_token(record)
    assert tokens.get_token("t1") == record
    with pytest.raises(sqlite3.IntegrityError):
        tokens.save_token(record)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(auth_tokens)).scalar_one() == 1
    raw = engine.raw_connection()
    try:
        assert not raw.dbapi_connection.in_transaction  # type: ignore[union-attr]
    finally:
        raw.close()


def test_a_named_paramstyle_gets_a_mapping() -> None:
    named = create_engine("sqlite://", paramstyle="named")
    statement = RawStatement.compile(
        named,
        select(repositories.c.name)
        .where(repositories.c.account_id == bindparam("account_id"))
        .limit(bindparam("limit", type_=Integer)),
    )
    assert statement.positions is None
    assert statement.parameters({"account_id": A, "limit": 5}) == {
        "account_id": A,
        "limit": 5,
        "param_1": 0,
    }
    positional = RawStatement.compile(create_engine("sqlite://"), insert(auth_tokens))
    assert positional.parameters(
        {
            "token_id": "t",
            "secret_hash": "h",
            "access_key_id": "k",
            "principal_arn": "p",
            "issued_at": 1.0,
            "expires_at": 2.0,
        }
    ) == ("t", "h", "k", "p", 1.0, 2.0)
