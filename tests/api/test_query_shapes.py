"""Model-driven form parsing and XML rendering, on a small synthetic service model and on
botocore's real IAM model (the output must read back through botocore's query parser)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.loaders import create_loader
from botocore.model import ServiceModel
from botocore.parsers import QueryParser

from crossdock.api.query.shapes import _pattern, iso_timestamp, parse_input, render_output
from crossdock.service.errors import InvalidParameterError

MODEL: dict[str, Any] = {
    "metadata": {"protocol": "query", "apiVersion": "2020-01-01", "xmlNamespace": "urn:x"},
    "operations": {
        "Op": {
            "name": "Op",
            "input": {"shape": "In"},
            "output": {"shape": "Out", "resultWrapper": "OpResult"},
        }
    },
    "shapes": {
        "In": {
            "type": "structure",
            "required": ["Name"],
            "members": {
                "Name": {"shape": "Name"},
                "Flag": {"shape": "Bool"},
                "When": {"shape": "Time"},
                "Attrs": {"shape": "Attrs"},
                "Flat": {"shape": "FlatList"},
                "Kind": {"shape": "Kind"},
                "Inner": {"shape": "Inner"},
            },
        },
        "Out": {
            "type": "structure",
            "members": {
                "Flag": {"shape": "Bool"},
                "When": {"shape": "Time"},
                "Attrs": {"shape": "Attrs"},
                "Flat": {"shape": "FlatList"},
                "Name": {"shape": "Name"},
            },
        },
        "Inner": {"type": "structure", "members": {"Count": {"shape": "Count"}}},
        "Name": {"type": "string", "min": 2, "max": 8, "pattern": "[a-z]+"},
        "Kind": {"type": "string", "enum": ["a", "b"]},
        "Count": {"type": "integer", "min": 1, "max": 3},
        "Bool": {"type": "boolean"},
        "Time": {"type": "timestamp"},
        "Attrs": {"type": "map", "key": {"shape": "Str"}, "value": {"shape": "Str"}},
        "FlatList": {
            "type": "list",
            "member": {"shape": "Str", "locationName": "item"},
            "flattened": True,
        },
        "Str": {"type": "string"},
    },
}


@pytest.fixture(scope="module")
def operation() -> Any:
    return ServiceModel(MODEL, "synthetic").operation_model("Op")


def test_parse_every_kind_of_member(operation: Any) -> None:
    form = {
        "Name": "abc",
        "Flag": "true",
        "When": "2024-01-02T03:04:05Z",
        "Attrs.entry.1.key": "k",
        "Attrs.entry.1.value": "v",
        "item.1": "x",
        "item.2": "y",
        "Kind": "b",
        "Inner.Count": "2",
    }
    parsed = parse_input(form, operation.input_shape)
    assert parsed == {
        "Name": "abc",
        "Flag": True,
        "When": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        "Attrs": {"k": "v"},
        "Flat": ["x", "y"],
        "Kind": "b",
        "Inner": {"Count": 2},
    }


def test_every_problem_is_reported_once_in_aws_words(operation: Any) -> None:
    form = {"Flag": "yes", "When": "tomorrow", "Kind": "c", "Inner.Count": "9"}
    with pytest.raises(InvalidParameterError) as caught:
        parse_input(form, operation.input_shape)
    assert caught.value.code == "ValidationError"
    assert caught.value.message == (
        "5 validation errors detected: Value null at 'name' failed to satisfy constraint:"
        " Member must not be null; Value 'yes' at 'flag' failed to satisfy constraint: Member"
        " must be a boolean (true or false); Value 'tomorrow' at 'when' failed to satisfy"
        " constraint: Member must be an ISO-8601 timestamp; Value 'c' at 'kind' failed to"
        " satisfy constraint: Member must satisfy enum value set: [a, b]; Value '9' at"
        " 'inner.count' failed to satisfy constraint: Member must have value less than or"
        " equal to 3"
    )


@pytest.mark.parametrize(
    ("name", "constraint"),
    [
        ("a", "Member must have length greater than or equal to 2"),
        ("abcdefghi", "Member must have length less than or equal to 8"),
        ("AB", "Member must satisfy regular expression pattern: [a-z]+"),
    ],
)
def test_string_constraints(operation: Any, name: str, constraint: str) -> None:
    with pytest.raises(
        InvalidParameterError,
        match=re.escape(f"at 'name' failed to satisfy constraint: {constraint}"),
    ):
        parse_input({"Name": name}, operation.input_shape)


def test_a_small_integer_is_reported(operation: Any) -> None:
    with pytest.raises(
        InvalidParameterError, match="Member must have value greater than or equal to 1"
    ):
        parse_input({"Name": "ab", "Inner.Count": "0"}, operation.input_shape)


def test_no_input_shape_means_no_parameters() -> None:
    assert parse_input({"Anything": "x"}, None) == {}


def test_java_patterns() -> None:
    assert _pattern("[\\p{L}\\p{Z}]+") is None
    astral = _pattern("[\\u0020-\\u10FFFF]+")
    assert astral is not None
    assert astral.fullmatch("a\U0001f600")
    assert _pattern("[") is None
    word = _pattern("[\\w]+")
    assert word is not None
    assert not word.fullmatch("é")  # Java's \\w is ASCII


def test_render_reads_back_through_botocore(operation: Any) -> None:
    value = {
        "Flag": False,
        "When": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        "Attrs": {"k": "v&w"},
        "Flat": ["x", "y"],
        "Name": "<n>",
    }
    body = (
        '<OpResponse xmlns="urn:x"><OpResult>'
        + render_output(operation.output_shape, value)
        + "</OpResult></OpResponse>"
    )
    parsed = QueryParser().parse(
        {"body": body.encode(), "headers": {}, "status_code": 200}, operation.output_shape
    )
    parsed.pop("ResponseMetadata", None)
    assert parsed == value


def test_render_refuses_members_the_model_does_not_have(operation: Any) -> None:
    with pytest.raises(ValueError, match="has no member"):
        render_output(operation.output_shape, {"Extra": 1})


def test_iam_shapes_read_back_through_botocore() -> None:
    model = ServiceModel(create_loader().load_service_model("iam", "service-2"), "iam")
    operation = model.operation_model("ListUsers")
    value = {
        "Users": [
            {
                "Path": "/",
                "UserName": "u",
                "UserId": "AIDAAAAAAAAAAAAAAAAAA",
                "Arn": "arn:aws:iam::111111111111:user/u",
                "CreateDate": datetime(2024, 1, 2, tzinfo=UTC),
            }
        ],
        "IsTruncated": False,
    }
    body = (
        '<ListUsersResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListUsersResult>'
        + render_output(operation.output_shape, value)
        + "</ListUsersResult></ListUsersResponse>"
    )
    parsed = QueryParser().parse(
        {"body": body.encode(), "headers": {}, "status_code": 200}, operation.output_shape
    )
    parsed.pop("ResponseMetadata", None)
    assert parsed == value
    assert iso_timestamp(datetime(2024, 1, 2, tzinfo=UTC)) == "2024-01-02T00:00:00Z"
