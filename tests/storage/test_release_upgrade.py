"""A database written by the previous release is upgraded in place, and its data survives.

``data/release-0001-sqlite.sql`` is a dump of a data dir that the previous release
(commit d957199, schema revision ``0001``) wrote itself: the walkthrough scenario, a
tagged IMMUTABLE repository, a managed policy attached to a user, a tagged role, and an
image pushed through ``/v2/`` with two tags (``data/make_release_0001.py`` regenerates it;
``data/release-0001-secret.key`` is that data dir's key). Each test loads it, migrates it
to the newest revision with today's code and reads everything back through today's stores
and services: accounts, sealed access keys, users, policies, the role, the repositories
with their policy and tags, the image and its tags, a decision over all of them, and a
new push into the migrated schema.

On SQLite the dump is loaded as it is. On PostgreSQL (``CROSSDOCK_TEST_DATABASE_URL``) a
fresh database is migrated to ``0001`` with today's migration, the same rows are inserted
table by table in the ``0001`` shapes, and then it is upgraded to the newest revision.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Connection, Engine, MetaData, Table, func, insert, select, text

from crossdock.api.ecr.services import ecr_lookup, ecr_services, ecr_stores
from crossdock.oci import mediatypes
from crossdock.policy.context import PrincipalKind
from crossdock.service.authz import RequestInfo
from crossdock.service.ecr.addressing import RegistryAddressing
from crossdock.service.ecr.common import Actor, RepositoryRef
from crossdock.service.ecr.layers import OCI_RULES
from crossdock.service.ecr.stores import EcrStores
from crossdock.service.identities import IdentityComponents, build_identity
from crossdock.storage.blobs_fs import FileBlobStore
from crossdock.storage.data_dir import database_url
from crossdock.storage.secrets import SecretBox
from crossdock.storage.sql.engine import create_sql_engine
from crossdock.storage.sql.identity_stores import sql_identity_stores
from crossdock.storage.sql.migrate import current_revision, head_revision, upgrade
from crossdock.storage.sql.scratch import scratch_database

DATA = Path(__file__).resolve().parent / "data"
DUMP = DATA / "release-0001-sqlite.sql"
KEY = DATA / "release-0001-secret.key"
WALKTHROUGH = Path(__file__).resolve().parents[2] / "examples" / "cross-account-walkthrough.yaml"
RELEASE = "0001"
OWNER, CONSUMER, REGION = "111111111111", "222222222222", "us-east-1"
IMAGE = "sha256:6b1cab5cb6366483a4a2b1d6db7347c9020713998851e50f44ca83c7c1bc0b3f"
EXAMPLE_ARN = f"arn:aws:ecr:{REGION}:{OWNER}:repository/example"
POSTGRES = os.environ.get("CROSSDOCK_TEST_DATABASE_URL")


def _scenario_secrets() -> dict[str, str]:
    """Access key id → secret, for every key the walkthrough scenario fixes."""
    found: dict[str, str] = {}

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "id" in node and "secret" in node:
                found[str(node["id"])] = str(node["secret"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load(WALKTHROUGH.read_text()))
    return found


def _load_release_sqlite(path: Path) -> None:
    """The previous release's database at ``path``, from the dump."""
    database = sqlite3.connect(path)
    try:
        database.executescript(DUMP.read_text())
    finally:
        database.close()


@pytest.fixture
def sqlite_release(tmp_path: Path) -> str:
    """A data dir's SQLite URL holding the previous release's database."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    _load_release_sqlite(data_dir / "crossdock.db")
    return database_url(data_dir)


def _copy_rows(source: Engine, target: Engine) -> int:
    """Insert every row of ``source`` into ``target`` (both at revision 0001), parents first."""
    shapes = MetaData()
    shapes.reflect(target)
    found = MetaData()
    found.reflect(source)
    copied = 0
    with source.connect() as reading, target.begin() as writing:
        for table in shapes.sorted_tables:
            if table.name == "alembic_version":
                continue
            rows = [dict(row._mapping) for row in reading.execute(select(found.tables[table.name]))]
            if rows:
                writing.execute(insert(table), rows)
                copied += len(rows)
            _advance_sequence(writing, table)
    return copied


def _advance_sequence(connection: Connection, table: Table) -> None:
    """Move an integer key's sequence past the copied ids, as inserts by the release did."""
    serial = [c for c in table.primary_key.columns if c.autoincrement is True or c.name == "id"]
    if len(serial) != 1 or table.c[serial[0].name].type.python_type is not int:
        return
    column = serial[0].name
    statement = text(
        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column}'), "
        f"GREATEST((SELECT MAX({column}) FROM {table.name}), 1))"
    )
    connection.execute(statement)


@pytest.fixture
def postgres_release(tmp_path: Path) -> Iterator[str]:
    """A fresh PostgreSQL database with the previous release's rows, at revision 0001."""
    if POSTGRES is None:
        pytest.skip("CROSSDOCK_TEST_DATABASE_URL is not set")
    _load_release_sqlite(tmp_path / "release.db")
    source = create_sql_engine(f"sqlite:///{tmp_path / 'release.db'}")
    with scratch_database(POSTGRES, prefix="crossdock_release") as url:
        target = create_sql_engine(url)
        try:
            upgrade(target, RELEASE)
            assert _copy_rows(source, target) >= 30
        finally:
            target.dispose()
            source.dispose()
        yield url


def _upgrade_and_check(url: str, tmp_path: Path) -> None:
    engine = create_sql_engine(url)
    try:
        assert current_revision(engine) == RELEASE
        assert upgrade(engine) == (RELEASE, head_revision())
        assert current_revision(engine) == head_revision()
        key = tmp_path / "secret.key"
        shutil.copyfile(KEY, key)
        key.chmod(0o600)
        _check_survived(engine, SecretBox.from_key_file(key), tmp_path / "blobs")
    finally:
        engine.dispose()


def _now() -> datetime:
    return datetime.now(UTC)


def _check_survived(engine: Engine, box: SecretBox, blob_dir: Path) -> None:
    stores = sql_identity_stores(engine)
    registry = ecr_stores(engine, blob_dir, FileBlobStore(blob_dir))
    identity = build_identity(stores, box, _now, {"ecr": ecr_lookup(registry)})

    accounts = [account.account_id for account in stores.accounts.list_accounts()]
    assert accounts == [OWNER, CONSUMER, "333333333333"]
    for key_id, secret in _scenario_secrets().items():  # sealed secrets open with the key
        credential = identity.resolver.credential(key_id)
        assert credential is not None, key_id
        assert credential.secret_access_key == secret
    puller = identity.resolver.credential("AKIAPULLER0000000001")
    assert puller is not None
    assert puller.principal.kind is PrincipalKind.USER
    assert puller.principal.arn == f"arn:aws:iam::{CONSUMER}:user/puller"

    user = stores.users.get_user(CONSUMER, "puller")
    assert user is not None
    [inline] = stores.policies.list_inline(user.user_id)
    assert inline.name == "PullExample"
    assert json.loads(inline.document)["Statement"][0]["Sid"] == "PullFromOwner"
    [attached] = stores.policies.attached([user.user_id])[user.user_id]
    managed = stores.policies.get_managed(attached.arn)
    assert managed is not None
    assert managed.name == "DescribeImages"
    version = stores.policies.get_version(attached.arn, managed.default_version_id)
    assert version is not None
    assert json.loads(version.document)["Statement"][0]["Action"] == "ecr:DescribeImages"
    role = stores.roles.get_role(CONSUMER, "deployer")
    assert role is not None
    assert role.tags == (("env", "prod"),)
    assert "sts:AssumeRole" in role.trust_policy

    example = registry.repositories.get_repository(OWNER, REGION, "example")
    assert example is not None
    assert example.policy_text is not None
    statement = json.loads(example.policy_text)["Statement"][0]
    assert statement["Sid"] == "AllowPullFrom222222222222"
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{CONSUMER}:root"}
    app = registry.repositories.get_repository(OWNER, REGION, "team/app")
    assert app is not None
    assert app.tags == (("team", "blue"),)
    assert app.settings.tag_mutability == "IMMUTABLE"

    image = registry.images.resolve_tag(example.id, "latest")
    assert image is not None
    assert image.digest == IMAGE
    assert sorted(image.tags) == ["latest", "v1"]
    assert "sha256:" + hashlib.sha256(image.manifest).hexdigest() == IMAGE
    assert image.media_type == mediatypes.OCI_MANIFEST
    layers = [layer["digest"] for layer in json.loads(image.manifest)["layers"]]
    assert registry.links.linked_blobs(example.id, layers) == {layers[0]: 1216}

    # The policies decide as before: the grant plus the identity policy let puller pull,
    # mallory's ecr:* does not reach another account's repository.
    info = RequestInfo("127.0.0.1", False, "pytest", _now(), REGION)
    authorizer = identity.authorizer
    assert authorizer.decide(puller.principal, "ecr:BatchGetImage", EXAMPLE_ARN, info).allowed
    mallory = identity.resolver.credential("AKIAMALLORY000000001")
    assert mallory is not None
    assert not authorizer.decide(mallory.principal, "ecr:BatchGetImage", EXAMPLE_ARN, info).allowed

    _push_into_the_migrated_schema(identity, registry, example.id)


def _push_into_the_migrated_schema(
    identity: IdentityComponents, registry: EcrStores, repository_id: int
) -> None:
    """A push after the upgrade writes the new columns and tables and reads back."""
    owner = identity.resolver.credential("AKIAOWNER00000000001")
    assert owner is not None
    addressing = RegistryAddressing(host="127.0.0.1", port=5000, scheme="http", domain=None)
    ecr = ecr_services(registry, identity.authorizer, identity.directory, addressing)
    actor = Actor(owner.principal, RequestInfo("127.0.0.1", False, "pytest", _now(), REGION))
    ref = RepositoryRef(OWNER, REGION, "example")
    config = b'{"architecture": "arm64", "os": "linux"}'
    upload = ecr.layers.initiate(actor, ref)
    ecr.layers.upload_part(actor, ref, upload.upload_id, None, [config])
    digest = "sha256:" + hashlib.sha256(config).hexdigest()
    ecr.layers.complete(actor, ref, upload.upload_id, [digest], OCI_RULES)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": mediatypes.OCI_MANIFEST,
            "config": {"mediaType": mediatypes.OCI_CONFIG, "digest": digest, "size": len(config)},
            "layers": [],
        }
    ).encode()
    pushed = ecr.images.put_image(actor, ref, manifest, mediatypes.OCI_MANIFEST, "after-upgrade")
    found = registry.images.resolve_tag(repository_id, "after-upgrade")
    assert found is not None
    assert found.digest == pushed.image.digest
    assert registry.images.count_images(repository_id) == 2


def test_the_fixture_was_written_by_the_previous_release(sqlite_release: str) -> None:
    engine = create_sql_engine(sqlite_release)
    try:
        assert current_revision(engine) == RELEASE
        with engine.connect() as connection:
            tables = {row[0] for row in connection.execute(text("SELECT name FROM sqlite_master"))}
            images = connection.execute(text("SELECT COUNT(*) FROM ecr_images")).scalar_one()
        assert "ecr_lifecycle_policies" not in tables  # 0002 and later are not applied
        assert "ecr_blob_pins" not in tables
        assert images == 1
    finally:
        engine.dispose()


def test_a_release_0001_sqlite_database_is_upgraded_in_place(
    sqlite_release: str, tmp_path: Path
) -> None:
    _upgrade_and_check(sqlite_release, tmp_path)


def test_a_release_0001_postgresql_database_is_upgraded_in_place(
    postgres_release: str, tmp_path: Path
) -> None:
    _upgrade_and_check(postgres_release, tmp_path)


def test_rows_copied_to_postgresql_match_the_dump(postgres_release: str, tmp_path: Path) -> None:
    """The PostgreSQL fixture holds exactly the dump's rows (the copy itself is sound)."""
    _load_release_sqlite(tmp_path / "again.db")
    source = create_sql_engine(f"sqlite:///{tmp_path / 'again.db'}")
    target = create_sql_engine(postgres_release)
    try:
        shapes = MetaData()
        shapes.reflect(source)
        with source.connect() as left, target.connect() as right:
            for table in shapes.sorted_tables:
                count = select(func.count()).select_from(table)
                assert left.execute(count).scalar_one() == right.execute(count).scalar_one()
    finally:
        source.dispose()
        target.dispose()
