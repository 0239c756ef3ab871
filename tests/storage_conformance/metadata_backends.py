"""The metadata backends of the conformance suite, as one parametrized fixture.

``metadata_backend`` runs each test against SQLite and, when ``CROSSDOCK_TEST_DATABASE_URL``
names a PostgreSQL server (``scripts/services/postgres.sh`` sets it), against PostgreSQL.
Every test gets a database of its own: a copy of a template migrated once per session
(a file copy for SQLite, ``CREATE DATABASE ... TEMPLATE`` for PostgreSQL), dropped after.

The tests see the stores only through their protocols (``storage/registry_store.py``,
``storage/identity_store.py``, ``storage/integrity.py``), as distribution's storage-driver
suites see a driver only through its interface.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine

from crossdock.storage.identity_store import IdentityStores
from crossdock.storage.integrity import IntegrityStore
from crossdock.storage.registry_store import (
    BlobLinkStore,
    ImageStore,
    RepositoryStore,
    TokenStore,
    UploadStore,
)
from crossdock.storage.sql.engine import create_sql_engine
from crossdock.storage.sql.identity_stores import sql_identity_stores
from crossdock.storage.sql.images_sql import SqlBlobLinkStore, SqlImageStore, SqlUploadStore
from crossdock.storage.sql.integrity_sql import SqlIntegrityStore
from crossdock.storage.sql.migrate import upgrade
from crossdock.storage.sql.repositories_sql import SqlRepositoryStore, SqlTokenStore
from crossdock.storage.sql.scratch import (
    create_database,
    drop_database,
    scratch_database,
    unique_name,
)

POSTGRES_ENV = "CROSSDOCK_TEST_DATABASE_URL"


def postgres_url() -> str | None:
    """The test PostgreSQL server's URL, or None when the tests run without one."""
    return os.environ.get(POSTGRES_ENV) or None


@dataclass
class MetadataBackend:
    """One metadata database with every store over it."""

    name: str
    """``sqlite`` or ``postgresql``."""
    url: str
    engine: Engine
    _engines: list[Engine] = field(default_factory=list)

    def other_engine(self) -> Engine:
        """A second engine on the same database: another process, or another node."""
        engine = create_sql_engine(self.url)
        self._engines.append(engine)
        return engine

    def repositories(self, engine: Engine | None = None) -> RepositoryStore:
        """The RepositoryStore (over ``engine``, default the backend's own)."""
        return SqlRepositoryStore(engine or self.engine)

    def images(self, engine: Engine | None = None) -> ImageStore:
        """The ImageStore."""
        return SqlImageStore(engine or self.engine)

    def links(self, engine: Engine | None = None) -> BlobLinkStore:
        """The BlobLinkStore."""
        return SqlBlobLinkStore(engine or self.engine)

    def uploads(self, engine: Engine | None = None) -> UploadStore:
        """The UploadStore."""
        return SqlUploadStore(engine or self.engine)

    def tokens(self, engine: Engine | None = None) -> TokenStore:
        """The TokenStore."""
        return SqlTokenStore(engine or self.engine)

    def identity(self, engine: Engine | None = None) -> IdentityStores:
        """Every identity store."""
        return sql_identity_stores(engine or self.engine)

    def integrity(self, engine: Engine | None = None) -> IntegrityStore:
        """The IntegrityStore (``crossdock fsck``'s rows)."""
        return SqlIntegrityStore(engine or self.engine)

    def close(self) -> None:
        """Dispose of every engine (pools closed, so the database can be dropped)."""
        for engine in [self.engine, *self._engines]:
            engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated to the newest schema, copied for each test."""
    path = tmp_path_factory.mktemp("metadata-template") / "crossdock.db"
    engine = create_sql_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """The name of a PostgreSQL database migrated to the newest schema (a template)."""
    url = postgres_url()
    assert url is not None
    name = unique_name("crossdock_conformance_template")
    engine = create_sql_engine(create_database(url, name))
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    try:
        yield name
    finally:
        drop_database(url, name)


def _sqlite_backend(template: Path, directory: Path) -> MetadataBackend:
    path = directory / "crossdock.db"
    shutil.copyfile(template, path)
    url = f"sqlite:///{path}"
    return MetadataBackend("sqlite", url, create_sql_engine(url))


BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(postgres_url() is None, reason=f"{POSTGRES_ENV} is not set"),
    ),
]


@pytest.fixture(params=BACKENDS)
def metadata_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MetadataBackend]:
    """A fresh, migrated metadata database of each kind, with its stores."""
    if request.param == "sqlite":
        backend = _sqlite_backend(request.getfixturevalue("sqlite_template"), tmp_path)
        try:
            yield backend
        finally:
            backend.close()
        return
    url = postgres_url()
    assert url is not None
    template = request.getfixturevalue("postgres_template")
    with scratch_database(url, template=template, prefix="crossdock_conformance") as db_url:
        backend = MetadataBackend("postgresql", db_url, create_sql_engine(db_url))
        try:
            yield backend
        finally:
            backend.close()


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, empty database of each kind (for migration tests)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    url = postgres_url()
    assert url is not None
    with scratch_database(url, prefix="crossdock_conformance_empty") as db_url:
        yield db_url


def on_own_engines(
    backend: MetadataBackend, count: int, action: Callable[[Engine, int], object]
) -> list[Callable[[], object]]:
    """``count`` calls of ``action(engine, index)``, each on an engine of its own (a node)."""
    return [functools.partial(action, backend.other_engine(), index) for index in range(count)]


def run_concurrently(calls: list[Callable[[], object]], timeout: float = 60) -> list[object]:
    """Run every call in its own thread, released together; each result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def worker(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except Exception as error:  # the test inspects what each writer got
            results[index] = error

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a concurrent writer hung"
    return results
