"""Responses against botocore's ECR model, and which of the 58 operations exist."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ecr_server import EcrServer
from ecr_world import allow
from image_data import make_image
from test_ecr_api_walkthrough import push_image, push_layer

from crossdock.api.ecr.model import EcrModel
from crossdock.api.ecr.operations import OPERATIONS

T1 = {
    "CreateRepository",
    "DescribeRepositories",
    "DeleteRepository",
    "SetRepositoryPolicy",
    "GetRepositoryPolicy",
    "DeleteRepositoryPolicy",
    "GetAuthorizationToken",
    "BatchGetImage",
    "GetDownloadUrlForLayer",
    "BatchCheckLayerAvailability",
    "InitiateLayerUpload",
    "UploadLayerPart",
    "CompleteLayerUpload",
    "PutImage",
    "ListImages",
    "DescribeImages",
    "BatchDeleteImage",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
}
LIFECYCLE = {
    "PutLifecyclePolicy",
    "GetLifecyclePolicy",
    "DeleteLifecyclePolicy",
    "StartLifecyclePolicyPreview",
    "GetLifecyclePolicyPreview",
}


def test_which_operations_exist() -> None:
    model = EcrModel.load()
    # botocore 1.43.11 has 58 ECR operations; later 1.43.x releases add four replication-
    # backfill ones. Whatever the model holds, the T1 ones are served and the rest answer
    # UnsupportedOperation (tested below).
    assert len(model.operations) >= 58
    assert set(OPERATIONS) == T1 | LIFECYCLE | {"PutImageTagMutability"}
    assert set(OPERATIONS) <= set(model.operations)
    unsupported = sorted(set(model.operations) - set(OPERATIONS))
    assert len(unsupported) == len(model.operations) - 26
    assert "PutRegistryPolicy" in unsupported


class ShapeError(AssertionError):
    """A response does not match its output shape."""


def check(model: EcrModel, shape_name: str, value: Any, path: str) -> None:
    """Required members present, types right, no unknown members (recursively)."""
    shape = model.shape(shape_name)
    kind = shape["type"]
    if kind == "structure":
        if not isinstance(value, dict):
            raise ShapeError(f"{path}: expected an object")
        for required in shape.get("required", ()):
            if required not in value:
                raise ShapeError(f"{path}: missing {required}")
        for member, item in value.items():
            if member not in shape["members"]:
                raise ShapeError(f"{path}: unknown member {member}")
            check(model, shape["members"][member]["shape"], item, f"{path}.{member}")
    elif kind == "list":
        if not isinstance(value, list):
            raise ShapeError(f"{path}: expected a list")
        for index, item in enumerate(value):
            check(model, shape["member"]["shape"], item, f"{path}[{index}]")
    elif kind == "map":
        if not isinstance(value, dict):
            raise ShapeError(f"{path}: expected a map")
        for key, item in value.items():
            check(model, shape["key"]["shape"], key, f"{path} key")
            check(model, shape["value"]["shape"], item, f"{path}.{key}")
    elif kind == "string":
        if not isinstance(value, str):
            raise ShapeError(f"{path}: expected a string")
        if "enum" in shape and value not in shape["enum"]:
            raise ShapeError(f"{path}: {value!r} is not in the enum")
    elif kind in ("integer", "long"):
        if type(value) is not int:
            raise ShapeError(f"{path}: expected an integer")
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise ShapeError(f"{path}: expected a boolean")
    elif kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ShapeError(f"{path}: expected epoch seconds")
    elif kind == "blob" and not isinstance(value, str):
        raise ShapeError(f"{path}: expected base64 text")


def test_the_checker_catches_mistakes() -> None:
    model = EcrModel.load()
    with pytest.raises(ShapeError):
        check(model, "Repository", {"createdAt": "yesterday"}, "r")
    with pytest.raises(ShapeError):
        check(model, "Repository", {"extra": 1}, "r")
    with pytest.raises(ShapeError):
        check(model, "Tag", {"Key": "k"}, "t")
    with pytest.raises(ShapeError):
        check(model, "Layer", {"layerAvailability": "MAYBE"}, "l")


def test_every_operation_answers_in_its_model_shape(server: EcrServer) -> None:
    world = server.world
    captured: dict[str, list[Any]] = {}
    owner_principal = world.account("101010101010")
    owner = server.client(owner_principal)

    def capture(http_response: Any, model: Any, **_: Any) -> None:
        if http_response.status_code == 200:
            captured.setdefault(model.name, []).append(json.loads(http_response.content))

    owner.meta.events.register("after-call.ecr", capture)
    arn = owner.create_repository(
        repositoryName="shapes",
        tags=[{"Key": "a", "Value": "b"}],
        imageTagMutability="MUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "rel-*"}],
        encryptionConfiguration={"encryptionType": "KMS", "kmsKey": "alias/x"},
    )["repository"]["repositoryArn"]
    owner.describe_repositories()
    owner.describe_repositories(repositoryNames=["shapes"])
    owner.set_repository_policy(
        repositoryName="shapes",
        policyText=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "ecr:ListImages"}],
            }
        ),
    )
    owner.get_repository_policy(repositoryName="shapes")
    owner.delete_repository_policy(repositoryName="shapes")
    owner.get_authorization_token()
    owner.get_authorization_token(registryIds=["101010101010", "202020202020"])
    pushed = push_image(owner, "shapes", "shape", "v1")["image"]
    digest = pushed["imageId"]["imageDigest"]
    owner.batch_get_image(
        repositoryName="shapes", imageIds=[{"imageTag": "v1"}, {"imageTag": "missing"}]
    )
    layer = next(d for d, data in make_image("shape").blobs.items() if data.startswith(b"layer"))
    owner.get_download_url_for_layer(repositoryName="shapes", layerDigest=layer)
    owner.batch_check_layer_availability(
        repositoryName="shapes", layerDigests=[layer, "sha256:" + "0" * 64, "bad"]
    )
    push_layer(owner, "shapes", b"extra layer")
    owner.list_images(repositoryName="shapes", maxResults=1)
    owner.describe_images(repositoryName="shapes")
    owner.batch_delete_image(
        repositoryName="shapes", imageIds=[{"imageDigest": digest}, {"imageTag": "x"}]
    )
    owner.tag_resource(resourceArn=arn, tags=[{"Key": "c", "Value": "d"}])
    owner.untag_resource(resourceArn=arn, tagKeys=["c"])
    owner.list_tags_for_resource(resourceArn=arn)
    owner.put_image_tag_mutability(repositoryName="shapes", imageTagMutability="IMMUTABLE")
    rules = {"rules": [{"rulePriority": 1, "selection": {"tagStatus": "any"}}]}
    rules["rules"][0]["selection"].update(countType="imageCountMoreThan", countNumber=1)
    rules["rules"][0]["action"] = {"type": "expire"}
    push_image(owner, "shapes", "shape-2", "v2")
    push_image(owner, "shapes", "shape-3", "v3")
    owner.put_lifecycle_policy(repositoryName="shapes", lifecyclePolicyText=json.dumps(rules))
    owner.get_lifecycle_policy(repositoryName="shapes")
    owner.start_lifecycle_policy_preview(repositoryName="shapes")
    owner.get_lifecycle_policy_preview(repositoryName="shapes", maxResults=1)
    owner.delete_lifecycle_policy(repositoryName="shapes")
    owner.delete_repository(repositoryName="shapes", force=True)

    model = server.protocol.model
    assert set(captured) == set(OPERATIONS)
    for operation, bodies in captured.items():
        output = model.output_shape(operation)
        assert output is not None
        for body in bodies:
            check(model, output, body, operation)


def test_identity_policy_grant_is_enough_in_the_same_account(server: EcrServer) -> None:
    world = server.world
    owner = server.client(world.account("121212121212"))
    owner.create_repository(repositoryName="same")
    dev = server.client(world.user("121212121212", "dev", allow("ecr:DescribeRepositories")))
    assert dev.describe_repositories()["repositories"][0]["repositoryName"] == "same"
