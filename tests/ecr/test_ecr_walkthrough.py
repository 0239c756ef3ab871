"""The classic cross-account walkthrough, at the service level (spec §4.7, §2)."""

from __future__ import annotations

import json

import pytest
from ecr_push import push
from ecr_world import World, allow
from image_data import make_image

from crossdock.service.ecr.images import ImageId
from crossdock.service.errors import AccessDeniedError
from crossdock.storage.registry_store import RepositorySettings

OWNER, PULLER_ACCOUNT, OTHER = "111111111111", "222222222222", "333333333333"
PULL = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability")
READ_ONLY = {
    "Version": "2008-10-17",
    "Statement": [
        {
            "Sid": "AllowPull",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{PULLER_ACCOUNT}:root"},
            "Action": list(PULL),
        }
    ],
}
REPO_ARN = f"arn:aws:ecr:us-east-1:{OWNER}:repository/example"


def _setup(world: World) -> None:
    owner = world.account(OWNER)
    world.account(PULLER_ACCOUNT)
    actor = world.actor(owner)
    world.services.repositories.create(actor, None, "example", RepositorySettings())
    push(world, owner, world.ref(OWNER, "example"), make_image("walk"), "latest")
    world.services.policies.set_policy(actor, None, "example", json.dumps(READ_ONLY))


def test_walkthrough(world: World) -> None:
    _setup(world)
    ref = world.ref(OWNER, "example")
    puller = world.user(PULLER_ACCOUNT, "puller", allow(*PULL, "ecr:GetAuthorizationToken"))
    found, failures = world.services.images.batch_get_image(
        world.actor(puller), ref, [ImageId(tag="latest")]
    )
    assert len(found) == 1
    assert failures == []
    tokens = world.services.tokens.get_authorization_token(world.actor(puller), [OWNER])
    assert tokens[0].proxy_endpoint == "http://127.0.0.1:5000"

    mallory = world.user(OTHER, "mallory", allow("ecr:*"))
    with pytest.raises(AccessDeniedError) as denied:
        world.services.images.batch_get_image(world.actor(mallory), ref, [ImageId(tag="latest")])
    assert denied.value.message == (
        f"User: arn:aws:iam::{OTHER}:user/mallory is not authorized to perform: "
        f"ecr:BatchGetImage on resource: {REPO_ARN} because no resource-based policy "
        "allows the ecr:BatchGetImage action"
    )

    with pytest.raises(AccessDeniedError) as push_denied:
        world.services.images.put_image(
            world.actor(puller), ref, make_image("x").manifest, None, "evil"
        )
    assert push_denied.value.message.endswith(
        "because no resource-based policy allows the ecr:PutImage action"
    )

    world.services.policies.delete_policy(world.actor(world.account(OWNER)), None, "example")
    with pytest.raises(AccessDeniedError) as after:
        world.services.images.batch_get_image(world.actor(puller), ref, [ImageId(tag="latest")])
    assert "no resource-based policy allows the ecr:BatchGetImage action" in after.value.message


def test_user_without_identity_policy_is_denied_the_token(world: World) -> None:
    nobody = world.user(PULLER_ACCOUNT, "nobody")
    with pytest.raises(AccessDeniedError) as denied:
        world.services.tokens.get_authorization_token(world.actor(nobody), None)
    assert denied.value.message == (
        f"User: arn:aws:iam::{PULLER_ACCOUNT}:user/nobody is not authorized to perform: "
        "ecr:GetAuthorizationToken on resource: * because no identity-based policy allows "
        "the ecr:GetAuthorizationToken action"
    )


def test_account_principal_needs_the_identity_side(world: World) -> None:
    _setup(world)
    bare = world.user(PULLER_ACCOUNT, "bare")
    with pytest.raises(AccessDeniedError) as denied:
        world.services.images.batch_get_image(
            world.actor(bare), world.ref(OWNER, "example"), [ImageId(tag="latest")]
        )
    assert denied.value.message.endswith(
        "because no identity-based policy allows the ecr:BatchGetImage action"
    )


def test_denied_request_changes_nothing(world: World) -> None:
    _setup(world)
    mallory = world.user(OTHER, "mallory", allow("ecr:*"))
    with pytest.raises(AccessDeniedError):
        world.services.repositories.delete(world.actor(mallory), OWNER, "example", True)
    owner = world.actor(world.account(OWNER))
    page = world.services.repositories.describe(owner, None, ["example"], None, None)
    assert page.repositories[0].name == "example"
