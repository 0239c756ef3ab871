"""Repository operations at the service level: tag authorization, names, paging."""

from __future__ import annotations

import pytest
from ecr_world import World, allow

from crossdock.service.ecr.errors import RepositoryNotFoundError
from crossdock.service.errors import AccessDeniedError, InvalidParameterError
from crossdock.storage.registry_store import RepositorySettings

A = "111111111111"


def test_create_with_tags_also_needs_tag_resource(world: World) -> None:
    creator = world.user(A, "creator", allow("ecr:CreateRepository"))
    actor = world.actor(creator)
    world.services.repositories.create(actor, None, "plain", RepositorySettings())
    with pytest.raises(AccessDeniedError) as denied:
        world.services.repositories.create(
            actor, None, "tagged", RepositorySettings(), (("team", "a"),)
        )
    assert "ecr:TagResource" in denied.value.message
    page = world.services.repositories.describe(
        world.actor(world.account(A)), None, None, None, None
    )
    assert [r.name for r in page.repositories] == ["plain"]


def test_request_tag_conditions(world: World) -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["ecr:CreateRepository", "ecr:TagResource"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:RequestTag/team": "blue"},
                    "ForAllValues:StringEquals": {"aws:TagKeys": ["team"]},
                },
            }
        ],
    }
    actor = world.actor(world.user(A, "tagger", policy))
    world.services.repositories.create(
        actor, None, "blue", RepositorySettings(), (("team", "blue"),)
    )
    with pytest.raises(AccessDeniedError):
        world.services.repositories.create(
            actor, None, "red", RepositorySettings(), (("team", "red"),)
        )
    with pytest.raises(AccessDeniedError):
        world.services.repositories.create(
            actor, None, "extra", RepositorySettings(), (("team", "blue"), ("x", "y"))
        )


@pytest.mark.parametrize("name", ["a", "UPPER", "a//b", "/a", "a/", "a/../b", "-a", "a..b"])
def test_names_and_path_tricks_are_rejected(world: World, name: str) -> None:
    actor = world.actor(world.account(A))
    with pytest.raises(InvalidParameterError):
        world.services.repositories.create(actor, None, name, RepositorySettings())


def test_describe_by_name_rules(world: World) -> None:
    actor = world.actor(world.account(A))
    world.services.repositories.create(actor, None, "one", RepositorySettings())
    with pytest.raises(InvalidParameterError):
        world.services.repositories.describe(actor, None, ["one"], None, 5)
    with pytest.raises(RepositoryNotFoundError):
        world.services.repositories.describe(actor, None, ["one", "two"], None, None)
    with pytest.raises(InvalidParameterError):
        world.services.repositories.describe(actor, None, None, "garbage", None)
    with pytest.raises(InvalidParameterError):
        world.services.repositories.describe(actor, "12345", None, None, None)


def test_mutability_setting_rules(world: World) -> None:
    actor = world.actor(world.account(A))
    world.services.repositories.create(actor, None, "mm", RepositorySettings())
    with pytest.raises(InvalidParameterError):
        world.services.repositories.put_tag_mutability(
            actor, None, "mm", "IMMUTABLE_WITH_EXCLUSION", ()
        )
    with pytest.raises(InvalidParameterError):
        world.services.repositories.put_tag_mutability(actor, None, "mm", "MUTABLE", ("x*",))
    record = world.services.repositories.put_tag_mutability(
        actor, None, "mm", "IMMUTABLE_WITH_EXCLUSION", ("dev-*",)
    )
    assert record.settings.mutability_filters == ("dev-*",)


def test_tag_resource_arn_checks(world: World) -> None:
    actor = world.actor(world.account(A))
    world.services.repositories.create(actor, None, "tt", RepositorySettings())
    with pytest.raises(InvalidParameterError):
        world.services.repositories.list_tags(actor, "arn:aws:s3:::bucket")
    with pytest.raises(RepositoryNotFoundError):
        world.services.repositories.list_tags(actor, f"arn:aws:ecr:eu-west-1:{A}:repository/tt")
    assert (
        world.services.repositories.list_tags(actor, f"arn:aws:ecr:us-east-1:{A}:repository/tt")
        == ()
    )
