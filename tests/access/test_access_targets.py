"""Reading repository ARNs, image URIs and action names."""

from __future__ import annotations

import pytest

from crossdock.service.access.actions import PULL_ACTIONS, PUSH_ACTIONS, expand_action
from crossdock.service.access.errors import AccessInputError
from crossdock.service.access.targets import parse_image_uri, parse_repository
from crossdock.service.ecr.common import RepositoryRef


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (
            "111111111111.dkr.ecr.eu-west-1.amazonaws.com/team/app:1.0",
            RepositoryRef("111111111111", "eu-west-1", "team/app"),
        ),
        (
            "111111111111.dkr.ecr.us-east-2.example.test:8443/app@sha256:" + "a" * 64,
            RepositoryRef("111111111111", "us-east-2", "app"),
        ),
        ("127.0.0.1:5000/111111111111/team/app", RepositoryRef("111111111111", "r-1", "team/app")),
        ("localhost/111111111111/app:v2", RepositoryRef("111111111111", "r-1", "app")),
    ],
)
def test_image_uris_in_both_styles(uri: str, expected: RepositoryRef) -> None:
    assert parse_image_uri(uri, "r-1") == expected


def test_repository_forms() -> None:
    ref = RepositoryRef("111111111111", "us-east-1", "app")
    assert parse_repository("app", "111111111111", "us-east-1") == ref
    assert parse_repository(ref.arn, None, "eu-west-1") == ref
    assert parse_repository("127.0.0.1:5000/111111111111/app:1", None, "us-east-1") == ref
    with pytest.raises(AccessInputError, match="is not a valid repository name"):
        parse_repository("App", "111111111111", "us-east-1")


def test_actions() -> None:
    assert expand_action("pull") == PULL_ACTIONS
    assert expand_action("PUSH") == PUSH_ACTIONS
    assert expand_action("ecr:batchgetimage") == ("ecr:BatchGetImage",)
    for bad in ("BatchGetImage", "ecr:Batch*", "iam:GetUser"):
        with pytest.raises(AccessInputError):
            expand_action(bad)
