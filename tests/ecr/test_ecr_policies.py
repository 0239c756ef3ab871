"""Repository policies: validation, Jackson-style text, principal binding, the lookup."""

from __future__ import annotations

import json

import pytest
from ecr_world import World, allow

from crossdock.service.ecr.images import ImageId, TagStatus
from crossdock.service.ecr.policy_text import jackson_dumps
from crossdock.service.errors import AccessDeniedError, InvalidParameterError
from crossdock.storage.registry_store import RepositorySettings

OWNER, FRIEND = "111111111111", "222222222222"


def test_jackson_format_matches_ecr() -> None:
    document = {
        "Version": "2008-10-17",
        "Statement": [
            {
                "Sid": "x",
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["ecr:A", "ecr:B"],
            }
        ],
    }
    assert jackson_dumps(document) == (
        '{\n  "Version" : "2008-10-17",\n  "Statement" : [ {\n    "Sid" : "x",\n'
        '    "Effect" : "Allow",\n    "Principal" : "*",\n'
        '    "Action" : [ "ecr:A", "ecr:B" ]\n  } ]\n}'
    )


def test_jackson_nested_objects_scalars_and_empties() -> None:
    value = {
        "a": {"b": {"c": "d"}},
        "n": [1, 2.5, True, False, None],
        "e": {},
        "l": [],
        "u": 'é"\n',
    }
    assert jackson_dumps(value) == (
        '{\n  "a" : {\n    "b" : {\n      "c" : "d"\n    }\n  },\n'
        '  "n" : [ 1, 2.5, true, false, null ],\n  "e" : { },\n  "l" : [ ],\n'
        '  "u" : "é\\"\\n"\n}'
    )
    assert json.loads(jackson_dumps(value)) == value


def _owner(world: World) -> None:
    world.account(FRIEND)
    actor = world.actor(world.account(OWNER))
    world.services.repositories.create(actor, None, "app", RepositorySettings())


def _set(world: World, principal: object) -> str:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Pull", "Effect": "Allow", "Principal": principal, "Action": "ecr:ListImages"}
        ],
    }
    actor = world.actor(world.account(OWNER))
    return world.services.policies.set_policy(actor, None, "app", json.dumps(policy)).policy_text


def test_account_short_form_is_stored_as_root_arn(world: World) -> None:
    _owner(world)
    text = _set(world, {"AWS": FRIEND})
    assert f'"AWS" : "arn:aws:iam::{FRIEND}:root"' in text


def test_deleted_and_recreated_user_no_longer_matches(world: World) -> None:
    _owner(world)
    alice = world.user(FRIEND, "alice", allow("ecr:ListImages"))
    arn = alice.arn
    _set(world, {"AWS": arn})
    ref = world.ref(OWNER, "app")
    page = world.services.images.list_images(world.actor(alice), ref, _any(), None, None)
    assert page.image_ids == ()
    old_id = alice.unique_id
    del world.directory.entities[arn]  # alice is deleted ...
    again = world.user(FRIEND, "alice", allow("ecr:ListImages"))  # ... and recreated
    assert again.unique_id != old_id
    with pytest.raises(AccessDeniedError):
        world.services.images.list_images(world.actor(again), ref, _any(), None, None)
    owner = world.actor(world.account(OWNER))
    shown = world.services.policies.get_policy(owner, None, "app").policy_text
    assert f'"AWS" : "{old_id}"' in shown


def test_bound_role_principal_matches_its_sessions_by_role_id(world: World) -> None:
    from datetime import timedelta

    from crossdock.auth.principal import Principal, SessionInfo
    from crossdock.policy.context import PrincipalKind

    _owner(world)
    role_arn = f"arn:aws:iam::{FRIEND}:role/team/puller"
    world.directory.entities[role_arn] = "AROAROLEID0000000001"
    _set(world, {"AWS": role_arn})
    world.loader.identity[role_arn] = [json.dumps(allow("ecr:ListImages"))]
    session = Principal(
        account_id=FRIEND,
        kind=PrincipalKind.ASSUMED_ROLE,
        arn=f"arn:aws:sts::{FRIEND}:assumed-role/puller/s1",
        unique_id="AROAROLEID0000000001:s1",
        access_key_id="ASIAEXAMPLE",
        session=SessionInfo(
            role_arn, "AROAROLEID0000000001", "s1", world.now, world.now + timedelta(hours=1)
        ),
    )
    ref = world.ref(OWNER, "app")
    world.services.images.list_images(world.actor(session), ref, _any(), None, None)


def test_rejected_policy_keeps_the_old_one(world: World) -> None:
    _owner(world)
    before = _set(world, {"AWS": FRIEND})
    with pytest.raises(InvalidParameterError):
        _set(world, {"AWS": f"arn:aws:iam::{FRIEND}:user/ghost"})
    actor = world.actor(world.account(OWNER))
    assert world.services.policies.get_policy(actor, None, "app").policy_text == before


def test_lookup_returns_owner_policy_and_tags(world: World) -> None:
    world.account(FRIEND)
    actor = world.actor(world.account(OWNER))
    world.services.repositories.create(actor, None, "app", RepositorySettings(), (("team", "x"),))
    from crossdock.service.ecr.policies import RepositoryLookup

    lookup = RepositoryLookup(world.stores)
    arn = f"arn:aws:ecr:us-east-1:{OWNER}:repository/app"
    info = lookup.resource(arn)
    assert info is not None
    assert (info.account_id, info.policy, info.tags) == (OWNER, None, (("team", "x"),))
    _set(world, "*")
    with_policy = lookup.resource(arn)
    assert with_policy is not None
    assert with_policy.policy is not None
    assert lookup.resource(arn.replace("app", "nope")) is None
    assert lookup.resource("arn:aws:ecr:us-east-1:1:other/x") is None


def test_resource_tag_conditions_see_repository_tags(world: World) -> None:
    actor = world.actor(world.account(OWNER))
    world.services.repositories.create(
        actor, None, "tagged", RepositorySettings(), (("team", "a"),)
    )
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "ecr:BatchGetImage",
                "Resource": "*",
                "Condition": {"StringEquals": {"ecr:ResourceTag/team": "a"}},
            }
        ],
    }
    dev = world.user(OWNER, "dev", policy)
    world.services.images.batch_get_image(
        world.actor(dev), world.ref(OWNER, "tagged"), [ImageId(tag="x")]
    )


def _any() -> TagStatus:
    return TagStatus.ANY
