"""The SQL registry stores: one transaction per write, nothing partial."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from crossdock.storage.errors import ImageInUseError, IntegrityConflictError
from crossdock.storage.registry_store import (
    NewImage,
    PolicyBinding,
    PutOutcome,
    RepositorySettings,
    TagRule,
    TokenRecord,
)
from crossdock.storage.sql.engine import create_sql_engine
from crossdock.storage.sql.images_sql import SqlBlobLinkStore, SqlImageStore, SqlUploadStore
from crossdock.storage.sql.repositories_sql import SqlRepositoryStore, SqlTokenStore
from crossdock.storage.sql.schema import metadata

A = "111111111111"
R = "us-east-1"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    built = create_sql_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    metadata.create_all(built)
    yield built
    built.dispose()


def _image(digest: str, blobs: tuple[str, ...] = (), children: tuple[str, ...] = ()) -> NewImage:
    return NewImage(
        digest=digest,
        manifest=b"{}",
        media_type="application/vnd.oci.image.manifest.v1+json",
        artifact_type=None,
        size=1,
        subject_digest=None,
        blobs=tuple((b, "application/octet-stream") for b in blobs),
        children=children,
    )


def test_create_is_all_or_nothing(engine: Engine) -> None:
    repos = SqlRepositoryStore(engine)
    created = repos.create_repository(A, R, "app", RepositorySettings(), (("k", "v"),), 1.0)
    assert created.tags == (("k", "v"),)
    with pytest.raises(IntegrityConflictError):
        repos.create_repository(A, R, "app", RepositorySettings(), (("x", "y"),), 2.0)
    again = repos.get_repository(A, R, "app")
    assert again is not None
    assert again.tags == (("k", "v"),)
    assert again.created_at == 1.0
    assert repos.get_repository(A, "eu-west-1", "app") is None


def test_listing_pages_by_name(engine: Engine) -> None:
    repos = SqlRepositoryStore(engine)
    for name in ("c", "a", "b"):
        repos.create_repository(A, R, name * 2, RepositorySettings(), (), 1.0)
    assert [r.name for r in repos.list_repositories(A, R, None, 2)] == ["aa", "bb"]
    assert [r.name for r in repos.list_repositories(A, R, "bb", 2)] == ["cc"]


def test_tags_limit_and_untag(engine: Engine) -> None:
    repos = SqlRepositoryStore(engine)
    repo = repos.create_repository(A, R, "app", RepositorySettings(), (("a", "1"),), 1.0)
    assert repos.tag_repository(repo.id, (("a", "2"), ("b", "3")), 50)
    assert not repos.tag_repository(repo.id, tuple((f"k{i}", "v") for i in range(49)), 50)
    repos.untag_repository(repo.id, ["b", "missing"])
    found = repos.get_repository(A, R, "app")
    assert found is not None
    assert found.tags == (("a", "2"),)


def test_policy_replace_and_delete(engine: Engine) -> None:
    repos = SqlRepositoryStore(engine)
    repo = repos.create_repository(A, R, "app", RepositorySettings(), (), 1.0)
    assert repos.delete_policy(repo.id) is None
    binding = PolicyBinding("arn:aws:iam::222222222222:user/u", "AIDAX")
    repos.set_policy(repo.id, "text", "eval", [binding])
    assert repos.policy_bindings(repo.id) == (binding,)
    repos.set_policy(repo.id, "text2", "eval2", [])
    assert repos.policy_bindings(repo.id) == ()
    assert repos.delete_policy(repo.id) == "text2"
    found = repos.get_repository(A, R, "app")
    assert found is not None
    assert found.policy_text is None


def test_put_image_outcomes(engine: Engine) -> None:
    repo = SqlRepositoryStore(engine).create_repository(A, R, "app", RepositorySettings(), (), 1)
    images = SqlImageStore(engine)
    assert images.put_image(repo.id, _image("sha256:1"), "v1", TagRule.MOVE, 1) is (
        PutOutcome.CREATED
    )
    assert images.put_image(repo.id, _image("sha256:1"), "v1", TagRule.KEEP, 2) is (
        PutOutcome.UNCHANGED
    )
    assert images.put_image(repo.id, _image("sha256:1"), "v2", TagRule.KEEP, 3) is (
        PutOutcome.TAGGED
    )
    conflict = images.put_image(repo.id, _image("sha256:2"), "v1", TagRule.KEEP, 4)
    assert conflict is PutOutcome.TAG_CONFLICT
    assert images.get_image(repo.id, "sha256:2") is None  # rolled back whole
    assert images.put_image(repo.id, _image("sha256:2"), "v1", TagRule.MOVE, 5) is (
        PutOutcome.CREATED
    )
    first = images.get_image(repo.id, "sha256:1")
    assert first is not None
    assert first.tags == ("v2",)
    assert images.count_images(repo.id) == 2


def test_delete_tag_and_image(engine: Engine) -> None:
    repo = SqlRepositoryStore(engine).create_repository(A, R, "app", RepositorySettings(), (), 1)
    images = SqlImageStore(engine)
    images.put_image(repo.id, _image("sha256:1"), "a", TagRule.MOVE, 1)
    images.put_image(repo.id, _image("sha256:1"), "b", TagRule.MOVE, 2)
    gone = images.delete_tag(repo.id, "a")
    assert gone is not None
    assert not gone.image_deleted
    last = images.delete_tag(repo.id, "b")
    assert last is not None
    assert last.image_deleted
    assert images.get_image(repo.id, "sha256:1") is None
    assert images.delete_tag(repo.id, "b") is None


def test_index_children_cannot_be_deleted(engine: Engine) -> None:
    repo = SqlRepositoryStore(engine).create_repository(A, R, "app", RepositorySettings(), (), 1)
    images = SqlImageStore(engine)
    images.put_image(repo.id, _image("sha256:child"), None, TagRule.MOVE, 1)
    images.put_image(
        repo.id, _image("sha256:index", children=("sha256:child",)), "i", TagRule.MOVE, 2
    )
    with pytest.raises(ImageInUseError):
        images.delete_image(repo.id, "sha256:child")
    deleted = images.delete_image(repo.id, "sha256:index")
    assert deleted is not None
    assert deleted.tags == ("i",)
    assert images.delete_image(repo.id, "sha256:child") is not None


def test_force_delete_cascades(engine: Engine) -> None:
    repos = SqlRepositoryStore(engine)
    repo = repos.create_repository(A, R, "app", RepositorySettings(), (("a", "b"),), 1)
    links = SqlBlobLinkStore(engine)
    links.link_blob(repo.id, "sha256:b", 5, 1)
    SqlImageStore(engine).put_image(
        repo.id, _image("sha256:1", ("sha256:b",)), "t", TagRule.MOVE, 1
    )
    assert not repos.delete_repository(repo.id, force=False)
    assert repos.delete_repository(repo.id, force=True)
    assert repos.get_repository(A, R, "app") is None
    assert links.orphan_blobs(10) == ["sha256:b"]
    assert links.forget_blob("sha256:b")


def test_blob_links(engine: Engine) -> None:
    repos = SqlRepositoryStore(engine)
    one = repos.create_repository(A, R, "one", RepositorySettings(), (), 1)
    two = repos.create_repository(A, R, "two", RepositorySettings(), (), 1)
    links = SqlBlobLinkStore(engine)
    assert links.link_blob(one.id, "sha256:b", 7, 1)
    assert not links.link_blob(one.id, "sha256:b", 7, 1)
    assert links.linked_blobs(one.id, ["sha256:b", "sha256:c"]) == {"sha256:b": 7}
    assert links.linked_blobs(two.id, ["sha256:b"]) == {}
    assert links.blob_size("sha256:b") == 7
    assert links.blob_media_type(one.id, "sha256:b") is None
    assert not links.forget_blob("sha256:b")


def test_upload_parts(engine: Engine) -> None:
    repo = SqlRepositoryStore(engine).create_repository(A, R, "app", RepositorySettings(), (), 1)
    uploads = SqlUploadStore(engine)
    uploads.create_upload("u", repo.id, 1)
    uploads.record_part("u", 10, 10, 2)
    uploads.record_part("u", 13, 3, 3)
    uploads.record_part("u", 33, 20, 4)
    record = uploads.get_upload("u")
    assert record is not None
    assert (record.bytes_received, record.parts, record.smallest_inner_part) == (33, 3, 3)
    assert uploads.stale_uploads(5, 10) == ["u"]
    assert uploads.delete_upload("u")
    assert uploads.get_upload("u") is None


def test_tokens(engine: Engine) -> None:
    tokens = SqlTokenStore(engine)
    record = TokenRecord("id1", "hash", "AKIA1", "arn:aws:iam::1:user/u", 1.0, 10.0)
    tokens.save_token(record)
    assert tokens.get_token("id1") == record
    assert tokens.purge_tokens(5.0) == 0
    assert tokens.purge_tokens(10.0) == 1
    assert tokens.get_token("id1") is None
