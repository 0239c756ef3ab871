"""LifecycleStore conformance (migration 0002_lifecycle): every metadata backend alike."""

from __future__ import annotations

from metadata_backends import MetadataBackend, on_own_engines, run_concurrently
from sqlalchemy import Engine

from crossdock.storage.registry_store import (
    LifecyclePreviewEntry,
    LifecycleStore,
    RepositorySettings,
)
from crossdock.storage.sql.lifecycle_sql import SqlLifecycleStore

POLICY = '{"rules": [{"rulePriority": 1}]}'


def _store(backend: MetadataBackend, engine: Engine | None = None) -> LifecycleStore:
    return SqlLifecycleStore(engine or backend.engine)


def _repository(backend: MetadataBackend, name: str = "app") -> int:
    settings = RepositorySettings()
    return (
        backend.repositories()
        .create_repository("111111111111", "us-east-1", name, settings, (), 1.0)
        .id
    )


def test_policy_round_trip(metadata_backend: MetadataBackend) -> None:
    store, repository = _store(metadata_backend), _repository(metadata_backend)
    assert store.get_lifecycle_policy(repository) is None
    assert store.delete_lifecycle_policy(repository) is None
    text = '{"rules": "ünïcode ✓ ' + "x" * 30_000 + '"}'
    store.put_lifecycle_policy(repository, text, 10.25)
    got = store.get_lifecycle_policy(repository)
    assert got is not None
    assert (got.repository_id, got.text, got.updated_at, got.last_evaluated_at) == (
        repository,
        text,
        10.25,
        None,
    )
    assert store.lifecycle_evaluated(repository, text, 11.5)
    assert store.get_lifecycle_policy(repository).last_evaluated_at == 11.5  # type: ignore[union-attr]
    store.put_lifecycle_policy(repository, POLICY, 12.0)
    assert store.lifecycle_evaluated(repository, text, 13.0) is False
    replaced = store.get_lifecycle_policy(repository)
    assert replaced is not None
    assert (replaced.text, replaced.last_evaluated_at) == (POLICY, None)
    removed = store.delete_lifecycle_policy(repository)
    assert removed is not None
    assert removed.text == POLICY
    assert store.get_lifecycle_policy(repository) is None


def test_targets_in_repository_id_order(metadata_backend: MetadataBackend) -> None:
    store = _store(metadata_backend)
    ids = [_repository(metadata_backend, name) for name in ["b", "a", "c", "a-b", "a_c"]]
    for repository in ids:
        store.put_lifecycle_policy(repository, POLICY, 1.0)
    _repository(metadata_backend, "without-policy")
    pages, after = [], None
    while batch := store.lifecycle_targets(after, 2):
        pages.append(batch)
        after = batch[-1].repository_id
    assert [t.repository_id for page in pages for t in page] == ids
    assert [len(page) for page in pages] == [2, 2, 1]
    first = pages[0][0]
    assert (first.account_id, first.region, first.name) == ("111111111111", "us-east-1", "b")


def test_preview_lifecycle(metadata_backend: MetadataBackend) -> None:
    store, repository = _store(metadata_backend), _repository(metadata_backend)
    assert store.get_lifecycle_preview(repository) is None
    assert store.begin_lifecycle_preview(repository, "one", 100.5, 0.0)
    assert store.begin_lifecycle_preview(repository, "two", 101.0, 100.0) is False
    assert store.begin_lifecycle_preview(repository, "three", 900.0, 200.0)
    entries = [
        LifecyclePreviewEntry("sha256:" + "a" * 64, ("v1", "latest"), 5.5, 2),
        LifecyclePreviewEntry("sha256:" + "b" * 64, (), 6.0, 7),
    ]
    store.finish_lifecycle_preview(repository, 100.5, "COMPLETE", entries)
    assert store.get_lifecycle_preview(repository).status == "IN_PROGRESS"  # type: ignore[union-attr]
    store.finish_lifecycle_preview(repository, 900.0, "COMPLETE", entries)
    done = store.get_lifecycle_preview(repository)
    assert done is not None
    assert (done.text, done.status, done.started_at, done.entries) == (
        "three",
        "COMPLETE",
        900.0,
        tuple(entries),
    )


def test_only_one_of_concurrent_previews_starts(metadata_backend: MetadataBackend) -> None:
    repository = _repository(metadata_backend)

    def begin(engine: Engine, index: int) -> bool:
        return _store(metadata_backend, engine).begin_lifecycle_preview(
            repository, f"node {index}", 50.0 + index, 0.0
        )

    results = run_concurrently(on_own_engines(metadata_backend, 4, begin))
    assert sorted(results, key=str) == [False, False, False, True]


def test_everything_goes_with_the_repository(metadata_backend: MetadataBackend) -> None:
    store, repository = _store(metadata_backend), _repository(metadata_backend)
    store.put_lifecycle_policy(repository, POLICY, 1.0)
    assert store.begin_lifecycle_preview(repository, POLICY, 1.0, 0.0)
    assert metadata_backend.repositories().delete_repository(repository, force=True)
    assert store.get_lifecycle_policy(repository) is None
    assert store.get_lifecycle_preview(repository) is None
    assert store.lifecycle_targets(None, 10) == []
    store.put_lifecycle_policy(repository, POLICY, 2.0)
    assert store.get_lifecycle_policy(repository) is None
    assert store.begin_lifecycle_preview(repository, POLICY, 2.0, 0.0) is False
