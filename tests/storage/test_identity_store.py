"""The SQL identity store on a temporary SQLite file: each method one transaction, and a
failed write leaves nothing behind."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crossdock.storage.data_dir import open_data_dir
from crossdock.storage.identity_store import (
    AccessKeyRecord,
    AccountRecord,
    EntityExistsError,
    EntityInUseError,
    EntityMissingError,
    GroupRecord,
    IdentityStores,
    InUseReason,
    ManagedPolicyRecord,
    OrganizationRecord,
    OrgUnitRecord,
    QuotaExceededError,
    RoleRecord,
    ScpRecord,
    SessionRecord,
    UserRecord,
    policy_size,
)
from crossdock.storage.sql.identity_stores import sql_identity_stores
from crossdock.storage.sql.identity_tables import (
    iam_managed_policies,
    iam_policy_versions,
    iam_tags,
    iam_users,
)

NOW = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
ACCOUNT = "111111111111"
DOC = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[IdentityStores]:
    engine, _ = open_data_dir(tmp_path)
    stores = sql_identity_stores(engine)
    stores.accounts.create_account(AccountRecord(ACCOUNT, None, None, NOW))
    yield stores
    engine.dispose()


def _engine(stores: IdentityStores):  # type: ignore[no-untyped-def]
    return stores.users._engine  # type: ignore[attr-defined]


def _count(stores: IdentityStores, table) -> int:  # type: ignore[no-untyped-def]
    with _engine(stores).connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _user(name: str = "puller", user_id: str = "AIDAAAAAAAAAAAAAAAAA1", **kw: object) -> UserRecord:
    return UserRecord(user_id, ACCOUNT, name, "/", NOW, **kw)  # type: ignore[arg-type]


def _policy(name: str = "read", policy_id: str = "ANPAAAAAAAAAAAAAAAAA1") -> ManagedPolicyRecord:
    return ManagedPolicyRecord(policy_id, ACCOUNT, name, "/", "v1", NOW, NOW)


# --- accounts and organizations ----------------------------------------------------------


def test_accounts(stores: IdentityStores) -> None:
    assert stores.accounts.get_account(ACCOUNT) == AccountRecord(ACCOUNT, None, None, NOW)
    assert stores.accounts.get_account("222222222222") is None
    with pytest.raises(EntityExistsError):
        stores.accounts.create_account(AccountRecord(ACCOUNT, None, None, NOW))
    stores.accounts.create_account(AccountRecord("000000000001", None, None, NOW))
    assert [a.account_id for a in stores.accounts.list_accounts()] == ["000000000001", ACCOUNT]


def test_organizations_units_and_scps(stores: IdentityStores) -> None:
    org = OrganizationRecord("o-abcdefghij", "r-ab12", None, NOW)
    stores.accounts.create_organization(org)
    assert stores.accounts.get_organization("o-abcdefghij") == org
    assert stores.accounts.get_organization("o-zzzzzzzzzz") is None
    with pytest.raises(EntityExistsError):
        stores.accounts.create_organization(org)
    unit = OrgUnitRecord("ou-ab12-11111111", "o-abcdefghij", "r-ab12", "dev")
    stores.accounts.create_org_unit(unit)
    assert stores.accounts.get_org_unit(unit.ou_id) == unit
    assert stores.accounts.get_org_unit("ou-ab12-22222222") is None
    with pytest.raises(EntityExistsError):
        stores.accounts.create_org_unit(unit)
    scp = ScpRecord("p-deny", "o-abcdefghij", "deny", DOC)
    stores.accounts.put_scp(scp)
    stores.accounts.put_scp(ScpRecord("p-deny", "o-abcdefghij", "deny", DOC, "changed"))
    stores.accounts.attach_scp("p-deny", "r-ab12")
    stores.accounts.attach_scp("p-deny", "r-ab12")  # idempotent
    found = stores.accounts.scps_for(["r-ab12", ACCOUNT])
    assert [s.description for s in found["r-ab12"]] == ["changed"]
    assert found[ACCOUNT] == []
    stores.accounts.detach_scp("p-deny", "r-ab12")
    with pytest.raises(EntityMissingError):
        stores.accounts.detach_scp("p-deny", "r-ab12")
    with pytest.raises(EntityMissingError):
        stores.accounts.attach_scp("p-none", "r-ab12")
    assert stores.accounts.scps_for([]) == {}


# --- users, groups, roles ----------------------------------------------------------------


def test_user_names_are_unique_without_regard_to_case(stores: IdentityStores) -> None:
    stores.users.create_user(_user(tags=(("team", "a"),)))
    found = stores.users.get_user(ACCOUNT, "PULLER")
    assert found is not None
    assert (found.name, found.tags, found.arn) == (
        "puller",
        (("team", "a"),),
        f"arn:aws:iam::{ACCOUNT}:user/puller",
    )
    assert stores.users.get_user_by_id("AIDAAAAAAAAAAAAAAAAA1") == found
    with pytest.raises(EntityExistsError):
        stores.users.create_user(_user("Puller", "AIDAAAAAAAAAAAAAAAAA2"))
    assert stores.users.get_user("222222222222", "puller") is None


def test_a_user_with_too_many_tags_is_not_created(stores: IdentityStores) -> None:
    tags = tuple((f"k{i}", "v") for i in range(51))
    with pytest.raises(QuotaExceededError):
        stores.users.create_user(_user(tags=tags))
    assert stores.users.get_user(ACCOUNT, "puller") is None
    assert _count(stores, iam_tags) == 0


def test_list_users_by_path(stores: IdentityStores) -> None:
    stores.users.create_user(UserRecord("AIDA1", ACCOUNT, "b", "/team/", NOW))
    stores.users.create_user(UserRecord("AIDA2", ACCOUNT, "a", "/", NOW))
    assert [u.name for u in stores.users.list_users(ACCOUNT)] == ["a", "b"]
    assert [u.name for u in stores.users.list_users(ACCOUNT, "/team/")] == ["b"]


def test_deleting_a_user_checks_its_dependents_in_order(stores: IdentityStores) -> None:
    stores.users.create_user(_user(tags=(("a", "b"),)))
    uid = "AIDAAAAAAAAAAAAAAAAA1"
    stores.keys.add_access_key(AccessKeyRecord("AKIA1", ACCOUNT, uid, "s", "Active", NOW), 2)
    stores.policies.put_inline(uid, "p", DOC, 2048)
    stores.policies.create_managed(_policy(), DOC)
    stores.policies.attach(_policy().arn, uid, 10)
    stores.groups.create_group(GroupRecord("AGPA1", ACCOUNT, "g", "/", NOW))
    stores.groups.add_member("AGPA1", uid)
    for reason, clear in (
        (InUseReason.ACCESS_KEYS, lambda: stores.keys.delete_access_key("AKIA1")),
        (InUseReason.INLINE_POLICIES, lambda: stores.policies.delete_inline(uid, "p")),
        (InUseReason.ATTACHED_POLICIES, lambda: stores.policies.detach(_policy().arn, uid)),
        (InUseReason.GROUP_MEMBERSHIPS, lambda: stores.groups.remove_member("AGPA1", uid)),
    ):
        with pytest.raises(EntityInUseError) as caught:
            stores.users.delete_user(uid)
        assert caught.value.reason is reason
        clear()
    stores.users.delete_user(uid)
    assert stores.users.get_user_by_id(uid) is None
    assert _count(stores, iam_tags) == 0
    stores.users.delete_user(uid)  # already gone: nothing to do


def test_boundaries(stores: IdentityStores) -> None:
    stores.users.create_user(_user())
    stores.users.set_user_boundary("AIDAAAAAAAAAAAAAAAAA1", "arn:aws:iam::111111111111:policy/b")
    user = stores.users.get_user(ACCOUNT, "puller")
    assert user is not None
    assert user.boundary_arn == "arn:aws:iam::111111111111:policy/b"


def test_groups(stores: IdentityStores) -> None:
    stores.users.create_user(_user())
    group = GroupRecord("AGPA1", ACCOUNT, "Readers", "/", NOW)
    stores.groups.create_group(group)
    with pytest.raises(EntityExistsError):
        stores.groups.create_group(GroupRecord("AGPA2", ACCOUNT, "readers", "/", NOW))
    assert stores.groups.get_group(ACCOUNT, "READERS") == group
    assert stores.groups.get_group(ACCOUNT, "nobody") is None
    stores.groups.add_member("AGPA1", "AIDAAAAAAAAAAAAAAAAA1")
    stores.groups.add_member("AGPA1", "AIDAAAAAAAAAAAAAAAAA1")
    assert stores.groups.groups_of("AIDAAAAAAAAAAAAAAAAA1") == [group]
    assert stores.groups.remove_member("AGPA1", "AIDAAAAAAAAAAAAAAAAA1")
    assert not stores.groups.remove_member("AGPA1", "AIDAAAAAAAAAAAAAAAAA1")


def test_roles(stores: IdentityStores) -> None:
    role = RoleRecord("AROA1", ACCOUNT, "Deploy", "/ci/", DOC, NOW, "d", 7200, None, (("k", "v"),))
    stores.roles.create_role(role)
    assert stores.roles.get_role(ACCOUNT, "deploy") == role
    assert stores.roles.get_role_by_id("AROA1") == role
    assert role.arn == f"arn:aws:iam::{ACCOUNT}:role/ci/Deploy"
    with pytest.raises(EntityExistsError):
        stores.roles.create_role(RoleRecord("AROA2", ACCOUNT, "DEPLOY", "/", DOC, NOW))
    stores.roles.update_trust_policy("AROA1", "{}", "{ }", (("arn", "AIDA1"),))
    stores.roles.set_role_boundary("AROA1", "arn:aws:iam::111111111111:policy/b")
    changed = stores.roles.get_role_by_id("AROA1")
    assert changed is not None
    assert (changed.trust_policy, changed.boundary_arn) == (
        "{}",
        "arn:aws:iam::111111111111:policy/b",
    )
    stores.policies.put_inline("AROA1", "p", DOC, 10240)
    with pytest.raises(EntityInUseError):
        stores.roles.delete_role("AROA1")
    stores.policies.delete_inline("AROA1", "p")
    stores.roles.delete_role("AROA1")
    stores.roles.delete_role("AROA1")
    assert stores.roles.get_role(ACCOUNT, "deploy") is None


def test_tags_overwrite_case_insensitively_and_keep_their_order(stores: IdentityStores) -> None:
    stores.users.create_user(_user(tags=(("Team", "a"), ("env", "dev"))))
    uid = "AIDAAAAAAAAAAAAAAAAA1"
    stores.tags.tag(uid, (("team", "b"), ("new", "x")), 50)
    user = stores.users.get_user_by_id(uid)
    assert user is not None
    assert user.tags == (("team", "b"), ("env", "dev"), ("new", "x"))
    stores.tags.untag(uid, ["ENV", "absent"])
    with pytest.raises(QuotaExceededError):
        stores.tags.tag(uid, tuple((f"k{i}", "v") for i in range(49)), 50)
    user = stores.users.get_user_by_id(uid)
    assert user is not None
    assert user.tags == (("team", "b"), ("new", "x"))


# --- policies ----------------------------------------------------------------------------


def test_inline_policies_share_an_aggregate_size(stores: IdentityStores) -> None:
    stores.policies.put_inline("AIDA1", "a", DOC, 200)
    stores.policies.put_inline("AIDA1", "a", DOC + "  ", 200)  # whitespace is not counted
    with pytest.raises(QuotaExceededError):
        stores.policies.put_inline("AIDA1", "b", DOC + DOC, 200)
    assert [p.name for p in stores.policies.list_inline("AIDA1")] == ["a"]
    found = stores.policies.get_inline("AIDA1", "a")
    assert found is not None
    assert found.document == DOC + "  "
    assert stores.policies.get_inline("AIDA1", "b") is None
    assert not stores.policies.delete_inline("AIDA1", "b")
    assert policy_size(" a\tb\nc ") == 3


def test_managed_policies_versions_and_attachments(stores: IdentityStores) -> None:
    policy = _policy()
    stores.policies.create_managed(policy, DOC)
    with pytest.raises(EntityExistsError):
        stores.policies.create_managed(_policy("READ", "ANPAAAAAAAAAAAAAAAAA2"), DOC)
    assert _count(stores, iam_policy_versions) == 1  # the failed create left no version
    version = stores.policies.get_version(policy.arn, "v1")
    assert version is not None
    assert (version.document, version.is_default) == (DOC, True)
    assert stores.policies.get_version(policy.arn, "v2") is None
    stores.policies.attach(policy.arn, "AIDA1", 1)
    stores.policies.attach(policy.arn, "AIDA1", 1)  # idempotent
    stores.policies.create_managed(_policy("other", "ANPAAAAAAAAAAAAAAAAA3"), DOC)
    other = _policy("other").arn
    with pytest.raises(QuotaExceededError):
        stores.policies.attach(other, "AIDA1", 1)
    with pytest.raises(EntityMissingError):
        stores.policies.attach(policy.arn + "x", "AIDA1", 1)
    attached = stores.policies.attached(["AIDA1", "AIDA2"])
    assert [(a.name, a.document) for a in attached["AIDA1"]] == [("read", DOC)]
    assert attached["AIDA2"] == []
    assert stores.policies.attached([]) == {}
    found = stores.policies.get_managed(policy.arn)
    assert found is not None
    assert found.attachment_count == 1
    with pytest.raises(EntityInUseError) as caught:
        stores.policies.delete_managed(policy.arn)
    assert caught.value.reason is InUseReason.POLICY_ATTACHMENTS
    assert stores.policies.detach(policy.arn, "AIDA1")
    assert not stores.policies.detach(policy.arn, "AIDA1")
    assert not stores.policies.detach(policy.arn + "x", "AIDA1")
    assert stores.policies.documents([policy.arn, "arn:aws:iam::1:policy/none"]) == {
        policy.arn: DOC
    }
    assert stores.policies.documents([]) == {}
    stores.policies.delete_managed(policy.arn)
    assert stores.policies.get_managed(policy.arn) is None
    with pytest.raises(EntityMissingError):
        stores.policies.delete_managed(policy.arn)


def test_a_boundary_in_use_blocks_deletion(stores: IdentityStores) -> None:
    policy = _policy()
    stores.policies.create_managed(policy, DOC)
    stores.users.create_user(_user(boundary_arn=policy.arn))
    found = stores.policies.get_managed(policy.arn)
    assert found is not None
    assert found.boundary_usage_count == 1
    with pytest.raises(EntityInUseError) as caught:
        stores.policies.delete_managed(policy.arn)
    assert caught.value.reason is InUseReason.BOUNDARY_USE
    assert _count(stores, iam_managed_policies) == 1


def test_a_policy_with_too_many_tags_leaves_nothing(stores: IdentityStores) -> None:
    policy = ManagedPolicyRecord(
        "ANPA1", ACCOUNT, "p", "/", "v1", NOW, NOW, tags=tuple((f"k{i}", "v") for i in range(51))
    )
    with pytest.raises(QuotaExceededError):
        stores.policies.create_managed(policy, DOC)
    assert _count(stores, iam_managed_policies) == 0
    assert _count(stores, iam_policy_versions) == 0


# --- keys and sessions -------------------------------------------------------------------


def test_access_keys_are_limited_per_owner(stores: IdentityStores) -> None:
    stores.users.create_user(_user())
    uid = "AIDAAAAAAAAAAAAAAAAA1"
    for key_id, owner in (("AKIA1", uid), ("AKIA2", uid), ("AKIA3", None), ("AKIA4", None)):
        stores.keys.add_access_key(AccessKeyRecord(key_id, ACCOUNT, owner, "s", "Active", NOW), 2)
    with pytest.raises(QuotaExceededError):
        stores.keys.add_access_key(AccessKeyRecord("AKIA5", ACCOUNT, uid, "s", "Active", NOW), 2)
    assert [k.access_key_id for k in stores.keys.list_access_keys(ACCOUNT, uid)] == [
        "AKIA1",
        "AKIA2",
    ]
    assert [k.access_key_id for k in stores.keys.list_access_keys(ACCOUNT, None)] == [
        "AKIA3",
        "AKIA4",
    ]
    stores.keys.set_access_key_status("AKIA1", "Inactive")
    key = stores.keys.get_access_key("AKIA1")
    assert key is not None
    assert key.status == "Inactive"
    assert stores.keys.delete_access_key("AKIA1")
    assert not stores.keys.delete_access_key("AKIA1")
    assert stores.keys.get_access_key("AKIA1") is None
    assert _count(stores, iam_users) == 1


def test_sessions(stores: IdentityStores) -> None:
    session = SessionRecord(
        access_key_id="ASIA1",
        secret_sealed="sealed",
        token_hash="h" * 64,
        account_id=ACCOUNT,
        role_id="AROA1",
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/r",
        session_name="s",
        source_arn=f"arn:aws:iam::{ACCOUNT}:root",
        issued_at=NOW,
        expires_at=NOW + timedelta(hours=1),
        session_policy=DOC,
        session_tags=(("k", "v"),),
    )
    stores.keys.add_session(session)
    assert stores.keys.get_session("ASIA1") == session
    assert stores.keys.get_session("ASIA2") is None
    assert stores.keys.delete_sessions_expired_before(NOW) == 0
    assert stores.keys.delete_sessions_expired_before(NOW + timedelta(hours=2)) == 1
    assert stores.keys.get_session("ASIA1") is None


def test_the_generation_counts_identity_changes_but_not_sessions(stores: IdentityStores) -> None:
    before = stores.generations.generation()
    stores.users.create_user(_user())
    assert stores.generations.generation() == before + 1
    with pytest.raises(EntityExistsError):
        stores.users.create_user(_user())
    assert stores.generations.generation() == before + 1  # a failed write counts nothing
    stores.keys.add_session(
        SessionRecord("ASIA1", "s", "h" * 64, ACCOUNT, "AROA1", "arn", "s", "arn", NOW, NOW)
    )
    assert stores.generations.generation() == before + 1
