"""RepositoryStore and TokenStore conformance: every metadata backend behaves alike."""

from __future__ import annotations

import pytest
from metadata_backends import MetadataBackend, on_own_engines, run_concurrently
from registry_objects import image, link_all

from crossdock.storage.errors import IntegrityConflictError
from crossdock.storage.registry_store import (
    PolicyBinding,
    RepositoryRecord,
    RepositorySettings,
    TagRule,
    TokenRecord,
)

A, B = "111111111111", "222222222222"
R, R2 = "us-east-1", "eu-west-1"

# Names whose order differs between byte order and natural-language collations
# (en-US puts "a_c" before "a-b" before "a.z" before "ab"; code points do not).
TRICKY_NAMES = ["ab", "a-b", "a_c", "a.z", "a/b", "a0", "z", "a", "b/a-1", "a/b/c"]


def _create(backend: MetadataBackend, name: str, account: str = A, region: str = R) -> int:
    record = backend.repositories().create_repository(
        account, region, name, RepositorySettings(), (), 1.0
    )
    return record.id


def test_create_get_round_trip(metadata_backend: MetadataBackend) -> None:
    repos = metadata_backend.repositories()
    settings = RepositorySettings(
        tag_mutability="IMMUTABLE_WITH_EXCLUSION",
        mutability_filters=("release-*", "v?"),
        scan_on_push=True,
        encryption_type="KMS",
        kms_key="arn:aws:kms:us-east-1:111111111111:key/" + "k" * 36,
    )
    created = repos.create_repository(
        A, R, "team/app", settings, (("Env", "prod"), ("Owner", "ünïcode")), 1765432100.123456
    )
    found = repos.get_repository(A, R, "team/app")
    assert found == created
    assert found.settings == settings
    assert found.tags == (("Env", "prod"), ("Owner", "ünïcode"))
    assert found.created_at == 1765432100.123456  # a double, not a truncated float
    assert found.policy_text is None
    assert found.policy_eval is None
    assert repos.get_repository(A, R2, "team/app") is None
    assert repos.get_repository(B, R, "team/app") is None
    assert repos.get_repository(A, R, "Team/app") is None  # names are case-sensitive


def test_longest_name_is_stored_whole(metadata_backend: MetadataBackend) -> None:
    name = "/".join(["n" * 50] * 5) + "/a"  # 256 characters, ECR's maximum
    assert len(name) == 256
    _create(metadata_backend, name)
    found = metadata_backend.repositories().get_repository(A, R, name)
    assert found is not None
    assert found.name == name


def test_name_is_unique_per_account_and_region(metadata_backend: MetadataBackend) -> None:
    repos = metadata_backend.repositories()
    first = _create(metadata_backend, "app")
    with pytest.raises(IntegrityConflictError):
        repos.create_repository(A, R, "app", RepositorySettings(), (("k", "v"),), 2.0)
    again = repos.get_repository(A, R, "app")
    assert again is not None
    assert again.id == first
    assert again.tags == ()
    assert _create(metadata_backend, "app", account=B) != first
    assert _create(metadata_backend, "app", region=R2) != first
    assert _create(metadata_backend, "App") != first


def test_concurrent_creates_of_one_name_leave_one(metadata_backend: MetadataBackend) -> None:
    calls = on_own_engines(
        metadata_backend,
        6,
        lambda e, _: metadata_backend.repositories(e).create_repository(
            A, R, "race", RepositorySettings(), (), 1.0
        ),
    )
    results = run_concurrently(calls)
    winners = [r for r in results if isinstance(r, RepositoryRecord)]
    losers = [r for r in results if isinstance(r, IntegrityConflictError)]
    assert len(winners) == 1, results
    assert len(losers) == 5, results
    assert metadata_backend.repositories().list_repositories(A, R, None, 10) == winners


def test_paging_is_in_code_point_order(metadata_backend: MetadataBackend) -> None:
    for name in TRICKY_NAMES:
        _create(metadata_backend, name)
    _create(metadata_backend, "other-account", account=B)
    _create(metadata_backend, "other-region", region=R2)
    repos = metadata_backend.repositories()
    seen: list[str] = []
    after = None
    while True:
        page = repos.list_repositories(A, R, after, 3)
        assert len(page) <= 3
        seen.extend(r.name for r in page)
        if len(page) < 3:
            break
        after = page[-1].name
    assert seen == sorted(TRICKY_NAMES)
    everything = repos.account_repositories(A)
    assert [(r.region, r.name) for r in everything] == sorted(
        [(R, n) for n in TRICKY_NAMES] + [(R2, "other-region")]
    )


def test_delete_refuses_while_images_unless_forced(metadata_backend: MetadataBackend) -> None:
    repo = _create(metadata_backend, "app")
    link_all(metadata_backend, repo, ["sha256:" + "a" * 64])
    metadata_backend.images().put_image(
        repo, image("sha256:" + "1" * 64, blobs=("sha256:" + "a" * 64,)), "v1", TagRule.MOVE, 2.0
    )
    metadata_backend.uploads().create_upload("u-1", repo, 1.0)
    repos = metadata_backend.repositories()
    assert repos.delete_repository(repo, force=False) is False
    assert repos.get_repository(A, R, "app") is not None
    assert repos.delete_repository(repo, force=True) is True
    assert repos.get_repository(A, R, "app") is None
    assert metadata_backend.uploads().get_upload("u-1") is None  # cascaded
    assert metadata_backend.links().linked_blobs(repo, ["sha256:" + "a" * 64]) == {}
    assert repos.delete_repository(repo, force=True) is False  # gone already
    empty = _create(metadata_backend, "empty")
    assert repos.delete_repository(empty, force=False) is True


def test_settings_tags_and_limits(metadata_backend: MetadataBackend) -> None:
    repo = _create(metadata_backend, "app")
    repos = metadata_backend.repositories()
    repos.set_tag_mutability(repo, "IMMUTABLE", ("keep-*",))
    assert repos.tag_repository(repo, (("a", "1"), ("b", "2")), limit=3) is True
    assert repos.tag_repository(repo, (("a", "10"), ("c", "3")), limit=3) is True
    assert repos.tag_repository(repo, (("d", "4"),), limit=3) is False  # would be 4 tags
    repos.untag_repository(repo, ["b", "absent"])
    found = repos.get_repository(A, R, "app")
    assert found is not None
    assert found.settings.tag_mutability == "IMMUTABLE"
    assert found.settings.mutability_filters == ("keep-*",)
    assert found.tags == (("a", "10"), ("c", "3"))
    assert repos.tag_repository(10_000_000, (("x", "y"),), limit=50) is False


def test_concurrent_tagging_loses_no_update(metadata_backend: MetadataBackend) -> None:
    repo = _create(metadata_backend, "app")
    calls = on_own_engines(
        metadata_backend,
        8,
        lambda e, i: metadata_backend.repositories(e).tag_repository(
            repo, ((f"key{i}", str(i)),), limit=50
        ),
    )
    assert run_concurrently(calls) == [True] * 8
    found = metadata_backend.repositories().get_repository(A, R, "app")
    assert found is not None
    assert sorted(found.tags) == sorted((f"key{i}", str(i)) for i in range(8))


def test_policy_and_bindings_change_together(metadata_backend: MetadataBackend) -> None:
    repo = _create(metadata_backend, "app")
    repos = metadata_backend.repositories()
    bindings = [
        PolicyBinding("arn:aws:iam::111111111111:user/alice", "AIDAALICE"),
        PolicyBinding("arn:aws:iam::222222222222:role/ci", "AROACI"),
    ]
    repos.set_policy(repo, '{"text": 1}', '{"eval": 1}', bindings)
    assert sorted(repos.policy_bindings(repo), key=lambda b: b.arn) == bindings
    repos.set_policy(repo, '{"text": 2}', '{"eval": 2}', bindings[:1])
    found = repos.get_repository(A, R, "app")
    assert found is not None
    assert found.policy_text == '{"text": 2}'
    assert found.policy_eval == '{"eval": 2}'
    assert repos.policy_bindings(repo) == (bindings[0],)
    assert repos.delete_policy(repo) == '{"text": 2}'
    assert repos.policy_bindings(repo) == ()
    assert repos.delete_policy(repo) is None


def test_tokens(metadata_backend: MetadataBackend) -> None:
    tokens = metadata_backend.tokens()
    live = TokenRecord("t1", "h" * 64, "AKIA" + "X" * 16, "arn:aws:iam::1:user/u", 10.5, 100.25)
    old = TokenRecord("t2", "g" * 64, "ASIA" + "Y" * 16, "arn:aws:sts::1:x", 1.0, 50.0)
    tokens.save_token(live)
    tokens.save_token(old)
    other = metadata_backend.tokens(metadata_backend.other_engine())
    assert other.get_token("t1") == live  # visible to every node at once
    assert tokens.purge_tokens(now=50.0) == 1
    assert tokens.get_token("t2") is None
    assert other.get_token("t1") == live
    assert tokens.get_token("absent") is None
