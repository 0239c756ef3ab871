"""Identity store conformance: accounts, IAM entities, policies, keys, sessions, generations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from metadata_backends import MetadataBackend, on_own_engines, run_concurrently

from crossdock.storage.identity_store import (
    AccessKeyRecord,
    AccountRecord,
    EntityExistsError,
    EntityInUseError,
    EntityMissingError,
    GroupRecord,
    InUseReason,
    ManagedPolicyRecord,
    OrganizationRecord,
    OrgUnitRecord,
    QuotaExceededError,
    RoleRecord,
    ScpRecord,
    SessionRecord,
    UserRecord,
)

A = "111111111111"
NOW = datetime(2026, 12, 7, 6, 0, 0, 123456, tzinfo=UTC)
TRUST = '{"Version":"2012-10-17","Statement":[]}'


def _account(backend: MetadataBackend, account_id: str = A) -> None:
    backend.identity().accounts.create_account(AccountRecord(account_id, None, None, NOW))


def _user(name: str, user_id: str | None = None) -> UserRecord:
    return UserRecord(user_id or f"AIDA{name.upper()}", A, name, "/", NOW)


def _key(key_id: str, user_id: str | None) -> AccessKeyRecord:
    return AccessKeyRecord(key_id, A, user_id, "sealed", "Active", NOW)


def test_accounts_and_organizations(metadata_backend: MetadataBackend) -> None:
    accounts = metadata_backend.identity().accounts
    accounts.create_organization(OrganizationRecord("o-abc", "r-root", None, NOW))
    with pytest.raises(EntityExistsError):
        accounts.create_organization(OrganizationRecord("o-other", "r-root", None, NOW))
    accounts.create_org_unit(OrgUnitRecord("ou-root-1", "o-abc", "r-root", "Prod"))
    accounts.create_account(AccountRecord("222222222222", "o-abc", "ou-root-1", NOW))
    accounts.create_account(AccountRecord(A, None, None, NOW))
    with pytest.raises(EntityExistsError):
        accounts.create_account(AccountRecord(A, None, None, NOW))
    found = accounts.get_account("222222222222")
    assert found == AccountRecord("222222222222", "o-abc", "ou-root-1", NOW)  # tz-aware, to µs
    assert [a.account_id for a in accounts.list_accounts()] == sorted([A, "222222222222"])
    organization = accounts.get_organization("o-abc")
    assert organization is not None
    assert organization.root_id == "r-root"
    assert accounts.get_org_unit("ou-root-1") == OrgUnitRecord(
        "ou-root-1", "o-abc", "r-root", "Prod"
    )
    scp = ScpRecord("p-1", "o-abc", "deny-all", '{"Statement":[]}', "no")
    accounts.put_scp(scp)
    accounts.put_scp(ScpRecord("p-1", "o-abc", "deny-all", '{"Statement":[1]}', "v2"))
    accounts.attach_scp("p-1", "ou-root-1")
    accounts.attach_scp("p-1", "ou-root-1")  # idempotent
    assert [s.document for s in accounts.scps_for(["ou-root-1", "r-root"])["ou-root-1"]] == [
        '{"Statement":[1]}'
    ]
    assert accounts.scps_for(["r-root"]) == {"r-root": []}
    accounts.detach_scp("p-1", "ou-root-1")
    with pytest.raises(EntityMissingError):
        accounts.detach_scp("p-1", "ou-root-1")


def test_users_groups_and_case(metadata_backend: MetadataBackend) -> None:
    _account(metadata_backend)
    identity = metadata_backend.identity()
    names = ["bob", "Alice", "a-b", "a_c", "a.z", "ab"]
    for name in names:
        identity.users.create_user(_user(name))
    with pytest.raises(EntityExistsError):
        identity.users.create_user(_user("ALICE", "AIDAOTHER"))  # names ignore case
    found = identity.users.get_user(A, "alice")
    assert found is not None
    assert found.name == "Alice"
    assert found.created_at == NOW
    assert [u.name for u in identity.users.list_users(A)] == sorted(names, key=str.lower)
    identity.groups.create_group(GroupRecord("AGPADEV", A, "Dev", "/", NOW))
    with pytest.raises(EntityExistsError):
        identity.groups.create_group(GroupRecord("AGPADEV2", A, "dev", "/", NOW))
    identity.groups.add_member("AGPADEV", "AIDABOB")
    identity.groups.add_member("AGPADEV", "AIDABOB")  # idempotent
    assert [g.name for g in identity.groups.groups_of("AIDABOB")] == ["Dev"]
    with pytest.raises(EntityInUseError) as in_use:
        identity.users.delete_user("AIDABOB")
    assert in_use.value.reason is InUseReason.GROUP_MEMBERSHIPS
    assert identity.groups.remove_member("AGPADEV", "AIDABOB") is True
    assert identity.groups.remove_member("AGPADEV", "AIDABOB") is False
    identity.users.delete_user("AIDABOB")
    assert identity.users.get_user_by_id("AIDABOB") is None


def test_roles_and_trust(metadata_backend: MetadataBackend) -> None:
    _account(metadata_backend)
    roles = metadata_backend.identity().roles
    role = RoleRecord("AROACI", A, "ci", "/svc/", TRUST, NOW, tags=(("Team", "x"),))
    roles.create_role(role)
    with pytest.raises(EntityExistsError):
        roles.create_role(RoleRecord("AROACI2", A, "CI", "/", TRUST, NOW))
    bindings = (("arn:aws:iam::111111111111:user/u", "AIDAU"),)
    roles.update_trust_policy("AROACI", TRUST + " ", '{"e":1}', bindings)
    roles.set_role_boundary("AROACI", "arn:aws:iam::111111111111:policy/b")
    found = roles.get_role(A, "Ci")
    assert found is not None
    assert (found.trust_policy, found.trust_evaluated, found.trust_bindings) == (
        TRUST + " ",
        '{"e":1}',
        bindings,
    )
    assert found.tags == (("Team", "x"),)
    assert found.boundary_arn == "arn:aws:iam::111111111111:policy/b"
    assert [r.role_id for r in roles.list_roles(A)] == ["AROACI"]
    roles.delete_role("AROACI")
    assert roles.get_role_by_id("AROACI") is None


def test_tags_keys_ignore_case_and_cap(metadata_backend: MetadataBackend) -> None:
    _account(metadata_backend)
    identity = metadata_backend.identity()
    identity.users.create_user(_user("u"))
    identity.tags.tag("AIDAU", (("Env", "a"), ("team", "b")), limit=3)
    identity.tags.tag("AIDAU", (("ENV", "c"),), limit=3)  # overwrites Env
    with pytest.raises(QuotaExceededError):
        identity.tags.tag("AIDAU", (("x", "1"), ("y", "2")), limit=3)
    found = identity.users.get_user(A, "u")
    assert found is not None
    assert found.tags == (("ENV", "c"), ("team", "b"))
    identity.tags.untag("AIDAU", ["env", "absent"])
    found = identity.users.get_user(A, "u")
    assert found is not None
    assert found.tags == (("team", "b"),)


def test_failed_create_leaves_nothing(metadata_backend: MetadataBackend) -> None:
    _account(metadata_backend)
    identity = metadata_backend.identity()
    too_many = tuple((f"k{i}", "v") for i in range(51))  # past the 50-tag quota
    with pytest.raises(QuotaExceededError):
        identity.users.create_user(UserRecord("AIDAX", A, "x", "/", NOW, tags=too_many))
    assert identity.users.get_user(A, "x") is None
    identity.users.create_user(_user("x"))  # the name is still free


def test_policies(metadata_backend: MetadataBackend) -> None:
    _account(metadata_backend)
    identity = metadata_backend.identity()
    identity.users.create_user(_user("u"))
    policies = identity.policies
    policies.put_inline("AIDAU", "b-policy", '{"a": 1}', limit=20)
    policies.put_inline("AIDAU", "a_policy", '{"b": 2}', limit=20)
    with pytest.raises(QuotaExceededError):
        policies.put_inline("AIDAU", "c", "x" * 20, limit=20)
    assert [p.name for p in policies.list_inline("AIDAU")] == ["a_policy", "b-policy"]
    assert policies.delete_inline("AIDAU", "a_policy") is True
    assert policies.delete_inline("AIDAU", "a_policy") is False
    managed = ManagedPolicyRecord("ANPAP", A, "Readers", "/", "v1", NOW, NOW)
    policies.create_managed(managed, '{"v": 1}')
    with pytest.raises(EntityExistsError):
        policies.create_managed(
            ManagedPolicyRecord("ANPAQ", A, "readers", "/", "v1", NOW, NOW), "{}"
        )
    arn = managed.arn
    policies.attach(arn, "AIDAU", limit=1)
    policies.attach(arn, "AIDAU", limit=1)  # idempotent, not over the quota
    assert policies.documents([arn, "arn:aws:iam::1:policy/none"]) == {arn: '{"v": 1}'}
    assert [a.arn for a in policies.attached(["AIDAU"])["AIDAU"]] == [arn]
    stored = policies.get_managed(arn)
    assert stored is not None
    assert stored.attachment_count == 1
    version = policies.get_version(arn, "v1")
    assert version is not None
    assert version.is_default
    assert version.document == '{"v": 1}'
    with pytest.raises(EntityInUseError):
        policies.delete_managed(arn)
    assert policies.detach(arn, "AIDAU") is True
    policies.delete_managed(arn)
    assert policies.get_managed(arn) is None


def test_keys_sessions_and_quota_under_concurrency(metadata_backend: MetadataBackend) -> None:
    _account(metadata_backend)
    identity = metadata_backend.identity()
    identity.users.create_user(_user("u"))
    calls = on_own_engines(
        metadata_backend,
        6,
        lambda e, i: metadata_backend.identity(e).keys.add_access_key(
            _key(f"AKIA{i:016d}", "AIDAU"), limit=2
        ),
    )
    results = run_concurrently(calls)
    assert results.count(None) == 2, results  # the quota holds across connections
    assert all(isinstance(r, QuotaExceededError) for r in results if r is not None)
    keys = identity.keys
    assert len(keys.list_access_keys(A, "AIDAU")) == 2
    keys.add_access_key(_key("AKIAROOT", None), limit=2)
    assert [k.access_key_id for k in keys.list_access_keys(A, None)] == ["AKIAROOT"]
    keys.set_access_key_status("AKIAROOT", "Inactive")
    found = keys.get_access_key("AKIAROOT")
    assert found is not None
    assert found.status == "Inactive"
    assert keys.delete_access_key("AKIAROOT") is True
    assert keys.delete_access_key("AKIAROOT") is False
    session = SessionRecord(
        "ASIA1",
        "sealed",
        "h" * 64,
        A,
        "AROA1",
        "arn:aws:iam::1:role/r",
        "s",
        "arn:src",
        NOW,
        NOW + timedelta(hours=1),
        '{"p":1}',
        (("k", "v"),),
    )
    keys.add_session(session)
    keys.add_session(SessionRecord("ASIA2", "s", "g" * 64, A, "AROA1", "r", "s", "src", NOW, NOW))
    assert keys.get_session("ASIA1") == session
    assert keys.delete_sessions_expired_before(NOW + timedelta(seconds=1)) == 1
    assert keys.get_session("ASIA2") is None


def test_concurrent_creates_of_one_user_name(metadata_backend: MetadataBackend) -> None:
    _account(metadata_backend)
    calls = on_own_engines(
        metadata_backend,
        6,
        lambda e, i: metadata_backend.identity(e).users.create_user(
            _user("Same" if i % 2 else "same", f"AIDA{i}")
        ),
    )
    results = run_concurrently(calls)
    assert results.count(None) == 1, results
    assert all(isinstance(r, EntityExistsError) for r in results if r is not None)


def test_generation_counts_every_write_for_every_node(metadata_backend: MetadataBackend) -> None:
    identity = metadata_backend.identity()
    other = metadata_backend.identity(metadata_backend.other_engine())
    before = other.generations.generation()
    _account(metadata_backend)
    identity.users.create_user(_user("u"))
    assert other.generations.generation() == before + 2
    writers = on_own_engines(
        metadata_backend,
        5,
        lambda e, i: metadata_backend.identity(e).tags.tag("AIDAU", ((f"k{i}", "v"),), limit=50),
    )
    assert run_concurrently(writers) == [None] * 5
    assert identity.generations.generation() == before + 7
