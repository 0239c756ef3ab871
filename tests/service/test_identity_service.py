"""The identity services without HTTP: authorization of every IAM call, the policy loader
(groups, boundary, SCP levels, org paths), the resource lookup, the directory, the
credential resolver and account administration."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crossdock.auth.principal import Principal
from crossdock.policy.context import PrincipalKind
from crossdock.service.accounts import RootKey, parse_ou_path
from crossdock.service.authz import RequestInfo
from crossdock.service.errors import (
    AccessDeniedError,
    AlreadyExistsError,
    InvalidParameterError,
    MalformedPolicyError,
)
from crossdock.service.iam_policies import AttachTarget
from crossdock.service.identities import IdentityComponents, build_identity
from crossdock.storage.data_dir import open_data_dir
from crossdock.storage.identity_store import IdentityStores
from crossdock.storage.sql.identity_stores import sql_identity_stores

A, B = "111111111111", "222222222222"


def _allow(action: str, resource: str = "*") -> str:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _deny(action: str) -> str:
    statement = {"Effect": "Deny", "Action": action, "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _trust(principal: str, condition: dict[str, object] | None = None) -> str:
    statement: dict[str, object] = {
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": "sts:AssumeRole",
    }
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@dataclass
class World:
    """Services over one temporary data dir, with a fixed clock."""

    identity: IdentityComponents
    stores: IdentityStores
    now: datetime

    @property
    def info(self) -> RequestInfo:
        return RequestInfo("127.0.0.1", False, "pytest", self.now, "us-east-1")

    def root(self, key: RootKey) -> Principal:
        credential = self.identity.resolver.credential(key.access_key_id)
        assert credential is not None
        return credential.principal

    def user(self, account: RootKey, name: str, *policies: str) -> Principal:
        """A user with inline policies, as the resolver authenticates it."""
        root = self.root(account)
        self.identity.iam.users.create_user(root, self.info, name)
        for index, document in enumerate(policies):
            self.identity.iam.users.put_user_policy(root, self.info, name, f"p{index}", document)
        key = self.identity.iam.users.create_access_key(root, self.info, name)
        credential = self.identity.resolver.credential(key.record.access_key_id)
        assert credential is not None
        return credential.principal


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    engine, box = open_data_dir(tmp_path)
    stores = sql_identity_stores(engine)
    holder = World(None, stores, datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC))  # type: ignore[arg-type]
    holder.identity = build_identity(stores, box, lambda: holder.now)
    yield holder
    engine.dispose()


@pytest.fixture
def a(world: World) -> RootKey:
    return world.identity.accounts.create_account(A)


@pytest.fixture
def b(world: World) -> RootKey:
    return world.identity.accounts.create_account(B)


# --- IAM calls are authorized ------------------------------------------------------------


def test_a_user_without_permissions_is_denied_and_nothing_changes(world: World, a: RootKey) -> None:
    bob = world.user(a, "bob")
    with pytest.raises(AccessDeniedError) as caught:
        world.identity.iam.users.create_user(bob, world.info, "eve")
    assert caught.value.message == (
        f"User: arn:aws:iam::{A}:user/bob is not authorized to perform: iam:CreateUser on"
        f" resource: arn:aws:iam::{A}:user/eve because no identity-based policy allows the"
        " iam:CreateUser action"
    )
    assert world.stores.users.get_user(A, "eve") is None


def test_a_denied_lookup_does_not_reveal_whether_the_user_exists(world: World, a: RootKey) -> None:
    bob = world.user(a, "bob")
    for name in ("bob", "nobody"):
        with pytest.raises(AccessDeniedError):
            world.identity.iam.users.get_user(bob, world.info, name)


def test_user_policies_come_from_inline_attached_and_group_policies(
    world: World, a: RootKey
) -> None:
    root = world.root(a)
    iam = world.identity.iam
    alice = world.user(a, "alice", _allow("iam:GetUser"))
    iam.policies.create_policy(root, world.info, "list", _allow("iam:ListUsers"))
    policy_arn = f"arn:aws:iam::{A}:policy/list"
    iam.policies.attach(root, world.info, AttachTarget.USER, "alice", policy_arn)
    iam.groups.create_group(root, world.info, "creators")
    iam.groups.put_group_policy(root, world.info, "creators", "create", _allow("iam:CreateGroup"))
    iam.groups.add_user(root, world.info, "creators", "alice")
    loaded = world.identity.authorizer._source.principal_policies(alice)  # type: ignore[attr-defined]
    assert [d.policy_id for d in loaded.identity] == [
        f"arn:aws:iam::{A}:user/alice p0",
        policy_arn,
        f"arn:aws:iam::{A}:group/creators create",
    ]
    iam.users.get_user(alice, world.info, "alice")
    iam.users.list_users(alice, world.info)
    iam.groups.create_group(alice, world.info, "more")


def test_a_permissions_boundary_limits_a_user(world: World, a: RootKey) -> None:
    root = world.root(a)
    iam = world.identity.iam
    iam.policies.create_policy(root, world.info, "only-get", _allow("iam:GetUser"))
    world.user(a, "carol", _allow("iam:*"))
    iam.users.put_boundary(root, world.info, "carol", f"arn:aws:iam::{A}:policy/only-get")
    key = iam.users.create_access_key(root, world.info, "carol")
    credential = world.identity.resolver.credential(key.record.access_key_id)
    assert credential is not None
    carol = credential.principal
    iam.users.get_user(carol, world.info, "carol")
    with pytest.raises(AccessDeniedError) as caught:
        iam.users.list_users(carol, world.info)
    assert caught.value.message.endswith(
        "because no permissions boundary allows the iam:ListUsers action"
    )


def test_scp_levels_and_org_paths(world: World) -> None:
    admin = world.identity.accounts
    key = admin.create_account(A, "o-abcdefghij", "r-ab12/ou-ab12-11111111/ou-ab12-22222222/")
    admin.put_scp(
        "o-abcdefghij", "p-nocreate", "no-create", _deny("iam:CreateUser"), ["ou-ab12-11111111"]
    )
    root = world.root(key)
    loaded = world.identity.authorizer._source.principal_policies(root)  # type: ignore[attr-defined]
    assert loaded.org_id == "o-abcdefghij"
    assert loaded.org_paths == ("o-abcdefghij/r-ab12/ou-ab12-11111111/ou-ab12-22222222/",)
    assert loaded.scp_levels is not None
    full = "p-FullAWSAccess-o-abcdefghij"
    assert [[d.policy_id for d in level] for level in loaded.scp_levels] == [
        [full],
        [full, "p-nocreate"],
        [full],
        [full],
    ]
    with pytest.raises(AccessDeniedError) as caught:
        world.identity.iam.users.create_user(root, world.info, "x")
    assert caught.value.message.endswith("with an explicit deny in a service control policy")
    world.identity.iam.users.list_users(root, world.info)  # everything else is allowed


def test_scps_do_not_apply_to_the_management_account(world: World) -> None:
    admin = world.identity.accounts
    admin.ensure_organization("o-abcdefghij", "r-ab12", management_account_id=A)
    key = admin.create_account(A, "o-abcdefghij")
    admin.put_scp("o-abcdefghij", "p-deny", "deny", _deny("*"), ["r-ab12"])
    root = world.root(key)
    loaded = world.identity.authorizer._source.principal_policies(root)  # type: ignore[attr-defined]
    assert loaded.scp_levels is None
    assert loaded.org_paths == ("o-abcdefghij/r-ab12/",)
    world.identity.iam.users.create_user(root, world.info, "x")


# --- STS ---------------------------------------------------------------------------------


def _role(world: World, key: RootKey, name: str, trust: str, **kw: object) -> str:
    role = world.identity.iam.roles.create_role(world.root(key), world.info, name, trust, **kw)  # type: ignore[arg-type]
    return role.arn


def test_a_trust_naming_the_user_needs_no_identity_policy(world: World, a: RootKey) -> None:
    dave = world.user(a, "dave")
    arn = _role(world, a, "r", _trust(f"arn:aws:iam::{A}:user/dave"))
    assumed = world.identity.sts.assume_role(dave, world.info, arn, "s1")
    assert assumed.arn == f"arn:aws:sts::{A}:assumed-role/r/s1"
    assert assumed.access_key_id.startswith("ASIA")
    assert assumed.expiration == world.now + timedelta(hours=1)


def test_a_trust_naming_the_account_needs_an_identity_allow(world: World, a: RootKey) -> None:
    dave = world.user(a, "dave")
    arn = _role(world, a, "r", _trust(A))
    with pytest.raises(AccessDeniedError) as caught:
        world.identity.sts.assume_role(dave, world.info, arn, "s1")
    assert caught.value.message == (
        f"User: arn:aws:iam::{A}:user/dave is not authorized to perform: sts:AssumeRole on"
        f" resource: {arn} because no identity-based policy allows the sts:AssumeRole action"
    )
    erin = world.user(a, "erin", _allow("sts:AssumeRole", arn))
    world.identity.sts.assume_role(erin, world.info, arn, "s1")


def test_cross_account_needs_trust_and_identity(world: World, a: RootKey, b: RootKey) -> None:
    arn = _role(world, a, "shared", _trust(B))
    plain = world.user(b, "plain")
    with pytest.raises(AccessDeniedError):
        world.identity.sts.assume_role(plain, world.info, arn, "s")
    allowed = world.user(b, "allowed", _allow("sts:AssumeRole", arn))
    assumed = world.identity.sts.assume_role(allowed, world.info, arn, "s")
    assert assumed.arn == f"arn:aws:sts::{A}:assumed-role/shared/s"
    untrusted = _role(world, a, "private", _trust(A))
    other = world.user(b, "other", _allow("sts:AssumeRole"))
    with pytest.raises(AccessDeniedError) as caught:
        world.identity.sts.assume_role(other, world.info, untrusted, "s")
    assert "because no resource-based policy allows" in caught.value.message


def test_a_missing_role_is_access_denied(world: World, a: RootKey) -> None:
    with pytest.raises(AccessDeniedError):
        world.identity.sts.assume_role(
            world.root(a), world.info, f"arn:aws:iam::{A}:role/none", "s"
        )


def test_external_id_condition(world: World, a: RootKey, b: RootKey) -> None:
    condition = {"StringEquals": {"sts:ExternalId": "secret-ext"}}
    arn = _role(world, a, "vendor", _trust(B, condition))
    caller = world.user(b, "v", _allow("sts:AssumeRole"))
    for external in (None, "wrong"):
        with pytest.raises(AccessDeniedError):
            world.identity.sts.assume_role(caller, world.info, arn, "s", external_id=external)
    world.identity.sts.assume_role(caller, world.info, arn, "s", external_id="secret-ext")


def test_durations(world: World, a: RootKey) -> None:
    root = world.root(a)
    arn = _role(world, a, "r", _trust(A), max_session_duration=7200)
    sts = world.identity.sts
    assert sts.assume_role(root, world.info, arn, "s", duration=7200).expiration == (
        world.now + timedelta(seconds=7200)
    )
    with pytest.raises(InvalidParameterError) as caught:
        sts.assume_role(root, world.info, arn, "s", duration=7201)
    assert caught.value.message == (
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    )


def test_role_sessions_are_principals_with_session_policy_and_tags(
    world: World, a: RootKey, b: RootKey
) -> None:
    root = world.root(a)
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": B},
                    "Action": ["sts:AssumeRole", "sts:TagSession"],
                }
            ],
        }
    )
    arn = _role(world, a, "ops", trust, tags=[("team", "red"), ("tier", "1")])
    world.identity.iam.roles.put_role_policy(root, world.info, "ops", "all", _allow("iam:*"))
    caller = world.user(b, "c", _allow("sts:*"))
    assumed = world.identity.sts.assume_role(
        caller, world.info, arn, "sess", policy=_allow("iam:GetRole"), tags=[("team", "blue")]
    )
    credential = world.identity.resolver.credential(assumed.access_key_id)
    assert credential is not None
    session = credential.principal
    assert session.kind is PrincipalKind.ASSUMED_ROLE
    assert session.tags == (("tier", "1"), ("team", "blue"))
    assert world.identity.sts.get_caller_identity(session).user_id.endswith(":sess")
    world.identity.iam.roles.get_role(session, world.info, "ops")
    with pytest.raises(AccessDeniedError) as caught:
        world.identity.iam.roles.delete_role(session, world.info, "ops")
    assert caught.value.message.endswith(
        "because no session policy allows the iam:DeleteRole action"
    )
    with pytest.raises(InvalidParameterError) as chained:
        world.identity.sts.assume_role(session, world.info, arn, "again", duration=3601)
    assert "role chaining" in chained.value.message


def test_session_tags_need_tag_session_in_the_trust(world: World, a: RootKey, b: RootKey) -> None:
    arn = _role(world, a, "r", _trust(B))
    caller = world.user(b, "c", _allow("sts:*"))
    with pytest.raises(AccessDeniedError) as caught:
        world.identity.sts.assume_role(caller, world.info, arn, "s", tags=[("k", "v")])
    assert "sts:TagSession" in caught.value.message
    assert world.stores.keys.delete_sessions_expired_before(world.now + timedelta(days=1)) == 0


# --- trust policy validation -------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            _trust(f"arn:aws:iam::{A}:user/ghost"),
            f'Invalid principal in policy: "AWS":"arn:aws:iam::{A}:user/ghost"',
        ),
        (
            json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Principal": {"AWS": A}, "Action": "s3:GetObject"}
                    ],
                }
            ),
            "AssumeRole policy may only specify STS AssumeRole actions.",
        ),
        (
            json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": A},
                            "Action": "sts:AssumeRole",
                            "Resource": "*",
                        }
                    ],
                }
            ),
            "Has prohibited field Resource",
        ),
        ("{not json", "Syntax errors in policy."),
    ],
)
def test_trust_policies_are_validated(
    world: World, a: RootKey, document: str, message: str
) -> None:
    with pytest.raises(MalformedPolicyError) as caught:
        world.identity.iam.roles.create_role(world.root(a), world.info, "r", document)
    assert caught.value.message == message
    assert world.stores.roles.get_role(A, "r") is None


# --- lookups -----------------------------------------------------------------------------


def test_directory_binds_arns_to_unique_ids(world: World, a: RootKey) -> None:
    root = world.root(a)
    iam = world.identity.iam
    directory = world.identity.directory
    user = iam.users.create_user(root, world.info, "u", path="/team/")
    role = iam.roles.create_role(root, world.info, "r", _trust(A))
    assert directory.account_exists(A)
    assert not directory.account_exists(B)
    assert directory.unique_id(f"arn:aws:iam::{A}:user/team/u") == user.user_id
    assert directory.unique_id(f"arn:aws:iam::{A}:user/u") is None  # wrong path
    assert directory.unique_id(f"arn:aws:iam::{A}:role/r") == role.role_id
    assert directory.unique_id(f"arn:aws:iam::{A}:root") is None
    assert directory.unique_id("not an arn") is None
    assert directory.arn_of(user.user_id) == user.arn
    assert directory.arn_of(role.role_id) == role.arn
    assert directory.arn_of("AGPAXXXXXXXXXXXXXXXXX") is None
    iam.users.delete_user(root, world.info, "u")
    assert directory.arn_of(user.user_id) is None
    again = iam.users.create_user(root, world.info, "u", path="/team/")
    assert directory.unique_id(user.arn) == again.user_id != user.user_id


def test_resource_lookup(world: World, a: RootKey) -> None:
    root = world.root(a)
    world.identity.iam.roles.create_role(root, world.info, "r", _trust(A), path="/ci/")
    world.identity.iam.users.create_user(root, world.info, "u", tags=[("k", "v")])
    source = world.identity.authorizer._source  # type: ignore[attr-defined]
    role = source.resource(f"arn:aws:iam::{A}:role/ci/r")
    assert role is not None
    assert role.policy is not None
    assert role.policy.text == _trust(A)
    assert source.resource(f"arn:aws:iam::{A}:role/r") is None
    assert source.resource(f"arn:aws:iam::{A}:user/u").tags == (("k", "v"),)
    assert source.resource(f"arn:aws:iam::{A}:user/other/u") is None
    assert source.resource(f"arn:aws:iam::{A}:policy/p").account_id == A
    assert source.resource("arn:aws:iam::aws:policy/AdministratorAccess") is None


def test_resolver_ignores_inactive_and_unknown_keys(world: World, a: RootKey) -> None:
    resolver = world.identity.resolver
    assert resolver.credential("AKIANOTHING000000000") is None
    assert resolver.credential("ASIANOTHING000000000") is None
    root = world.root(a)
    world.identity.iam.users.update_access_key(root, world.info, a.access_key_id, "Inactive")
    assert resolver.credential(a.access_key_id) is None


# --- accounts ----------------------------------------------------------------------------


def test_account_administration(world: World) -> None:
    admin = world.identity.accounts
    first = admin.create_account(A)
    with pytest.raises(AlreadyExistsError):
        admin.create_account(A)
    assert admin.create_account(A, exist_ok=True) == first
    with pytest.raises(InvalidParameterError, match="exactly 12 digits"):
        admin.create_account("12345")
    with pytest.raises(InvalidParameterError, match="needs --org-id"):
        admin.create_account(B, ou_path="r-ab12/")
    with pytest.raises(InvalidParameterError, match="not an organization id"):
        admin.create_account(B, "org-1")
    with pytest.raises(InvalidParameterError, match="not an OU path"):
        admin.create_account(B, "o-abcdefghij", "ou-ab12-11111111/")
    assert world.stores.accounts.get_account(B) is None  # nothing left behind


def test_ou_paths() -> None:
    assert parse_ou_path("r-ab12/ou-ab12-11111111/") == ("r-ab12", ("ou-ab12-11111111",))
    assert parse_ou_path("r-ab12") == ("r-ab12", ())
    with pytest.raises(InvalidParameterError, match="is not an OU id"):
        parse_ou_path("r-ab12/ou-x/")


def test_changes_by_another_node_are_seen_by_the_next_request(
    world: World, a: RootKey, tmp_path: Path
) -> None:
    """Two processes share the database: caches of one see the other's writes at once."""
    alice = world.user(a, "alice", _allow("iam:GetUser"))
    world.identity.iam.users.get_user(alice, world.info, "alice")  # cached now
    engine, box = open_data_dir(tmp_path)
    other = build_identity(sql_identity_stores(engine), box, lambda: world.now)
    root = other.resolver.credential(a.access_key_id)
    assert root is not None
    other.iam.users.delete_user_policy(root.principal, world.info, "alice", "p0")
    with pytest.raises(AccessDeniedError):
        world.identity.iam.users.get_user(alice, world.info, "alice")
    other.iam.users.update_access_key(
        root.principal, world.info, alice.access_key_id, "Inactive", "alice"
    )
    assert world.identity.resolver.credential(alice.access_key_id) is None
    engine.dispose()
