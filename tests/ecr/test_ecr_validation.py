"""The model-driven request validator, in process."""

from __future__ import annotations

from typing import Any

import pytest

from crossdock.api.ecr.model import EcrModel
from crossdock.api.ecr.validation import SerializationError, Validator
from crossdock.service.errors import InvalidParameterError


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(EcrModel.load())


@pytest.mark.parametrize(
    ("operation", "body"),
    [
        ("CreateRepository", []),
        ("CreateRepository", {"repositoryName": 5}),
        ("CreateRepository", {"repositoryName": "ok", "tags": {}}),
        ("CreateRepository", {"repositoryName": "ok", "tags": ["x"]}),
        ("CreateRepository", {"repositoryName": "ok", "imageScanningConfiguration": []}),
        (
            "CreateRepository",
            {"repositoryName": "ok", "imageScanningConfiguration": {"scanOnPush": "yes"}},
        ),
        ("DescribeRepositories", {"maxResults": 1.5}),
        ("DescribeRepositories", {"maxResults": True}),
        (
            "UploadLayerPart",
            {
                "repositoryName": "ok",
                "uploadId": "0c9c8d0e-0000-4000-8000-000000000000",
                "partFirstByte": 0,
                "partLastByte": 0,
                "layerPartBlob": 7,
            },
        ),
        (
            "UploadLayerPart",
            {
                "repositoryName": "ok",
                "uploadId": "0c9c8d0e-0000-4000-8000-000000000000",
                "partFirstByte": 0,
                "partLastByte": 0,
                "layerPartBlob": "!!!",
            },
        ),
        ("BatchGetImage", {"repositoryName": "ok", "imageIds": "x"}),
    ],
)
def test_serialization_errors(validator: Validator, operation: str, body: Any) -> None:
    with pytest.raises(SerializationError):
        validator.validate(operation, body)


@pytest.mark.parametrize(
    ("operation", "body", "message"),
    [
        (
            "DescribeRepositories",
            {"maxResults": 0},
            "Invalid parameter at 'maxResults' failed to satisfy constraint: "
            "'must be greater than or equal to 1'",
        ),
        (
            "DescribeRepositories",
            {"maxResults": 1001},
            "Invalid parameter at 'maxResults' failed to satisfy constraint: "
            "'must be less than or equal to 1000'",
        ),
        (
            "DescribeRepositories",
            {"repositoryNames": []},
            "Invalid parameter at 'repositoryNames' failed to satisfy constraint: "
            "'must have length greater than or equal to 1'",
        ),
        (
            "DescribeRepositories",
            {"repositoryNames": ["A"]},
            "Invalid parameter at 'repositoryNames' failed to satisfy constraint: "
            "'Member must satisfy constraint: [Member must have length greater than or "
            "equal to 2]'",
        ),
        (
            "CreateRepository",
            {"repositoryName": "ok", "tags": [{"Key": "k"}]},
            "Invalid parameter at 'tags.Value' failed to satisfy constraint: "
            "'Member must not be null'",
        ),
        (
            "ListImages",
            {"repositoryName": "ok", "filter": {"tagStatus": "SOME"}},
            "Invalid parameter at 'filter.tagStatus' failed to satisfy constraint: "
            "'must satisfy enum value set: [TAGGED, UNTAGGED, ANY]'",
        ),
        (
            "UploadLayerPart",
            {
                "repositoryName": "ok",
                "uploadId": "not-a-uuid",
                "partFirstByte": 0,
                "partLastByte": 0,
                "layerPartBlob": "",
            },
            "Invalid parameter at 'uploadId' failed to satisfy constraint: 'must satisfy "
            "regular expression '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
            "[0-9a-fA-F]{12}''",
        ),
    ],
)
def test_constraint_messages(validator: Validator, operation: str, body: Any, message: str) -> None:
    with pytest.raises(InvalidParameterError) as error:
        validator.validate(operation, body)
    assert error.value.message == message


def test_valid_bodies_decode_blobs_and_drop_unknown_members(validator: Validator) -> None:
    checked = validator.validate(
        "UploadLayerPart",
        {
            "repositoryName": "ok",
            "uploadId": "0c9c8d0e-0000-4000-8000-000000000000",
            "partFirstByte": 0,
            "partLastByte": 2.0,
            "layerPartBlob": "YWJj",
            "surprise": True,
        },
    )
    assert checked["layerPartBlob"] == b"abc"
    assert checked["partLastByte"] == 2
    assert "surprise" not in checked
    assert validator.validate("GetAuthorizationToken", {}) == {}
