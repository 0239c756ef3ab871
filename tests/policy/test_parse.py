"""Parsing policy documents (parse.py), the model (model.py), serialization (serialize.py).

Every problem the parser reports is pinned with its code, message and JSON pointer: the
linter and the CLI show these strings to users.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from crossdock.core.errors import CrossdockError
from crossdock.policy.errors import CaseError, PolicyError, PolicyParseError, Problem
from crossdock.policy.model import (
    VERSION_2008,
    VERSION_2012,
    Condition,
    Effect,
    Policy,
    PrincipalSpec,
    Statement,
)
from crossdock.policy.parse import (
    DuplicateKeyDict,
    check_policy,
    condition_value_text,
    load_policy_json,
    parse_policy,
    parse_policy_text,
    pointer,
)
from crossdock.policy.serialize import policy_to_json, statement_to_json

Json = dict[str, Any]


def allow_all(**extra: Any) -> Json:
    statement: Json = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    statement.update(extra)
    return statement


def doc(*statements: Json, **top: Any) -> Json:
    out: Json = {"Version": VERSION_2012}
    out.update(top)
    out["Statement"] = list(statements)
    return out


def problems_of(raw: Any) -> list[tuple[str, str, str]]:
    policy, problems = check_policy(raw)
    assert policy is None
    assert problems
    return [(p.code, p.message, p.pointer) for p in problems]


# --- load_policy_json ----------------------------------------------------------------


def test_load_policy_json_decodes_and_records_duplicate_keys() -> None:
    text = '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Effect": "Deny"}}'
    raw = load_policy_json(text)
    assert isinstance(raw, DuplicateKeyDict)
    assert raw.duplicates == ()
    statement = raw["Statement"]
    assert isinstance(statement, DuplicateKeyDict)
    assert statement.duplicates == ("Effect",)
    assert statement["Effect"] == "Deny"  # last one wins, as in json.loads


def test_load_policy_json_reports_each_repetition() -> None:
    raw = load_policy_json('{"a": 1, "a": 2, "b": 3, "a": 4}')
    assert raw.duplicates == ("a", "a")
    assert raw == {"a": 4, "b": 3}


def test_load_policy_json_rejects_invalid_json_with_position() -> None:
    with pytest.raises(PolicyParseError) as caught:
        load_policy_json('{"Version": }')
    error = caught.value
    assert error.code == "INVALID_JSON"
    assert error.pointer == ""
    assert error.problems == (
        Problem(
            "INVALID_JSON",
            "the document is not valid JSON: Expecting value at line 1 column 13",
            "",
        ),
    )
    assert str(error) == (
        "the document is not valid JSON: Expecting value at line 1 column 13 (at `/`)"
    )
    assert isinstance(error.__cause__, json.JSONDecodeError)


def test_load_policy_json_reports_line_and_column_on_later_lines() -> None:
    with pytest.raises(PolicyParseError, match=r"at line 3 column 1 \(at `/`\)$"):
        load_policy_json('{\n  "Version": "2012-10-17",\n}')


def test_load_policy_json_rejects_deep_nesting_without_recursion_error() -> None:
    with pytest.raises(PolicyParseError) as caught:
        load_policy_json("[" * 100_000)
    assert caught.value.problems == (
        Problem("INVALID_JSON", "the document is nested too deeply to be a policy", ""),
    )
    assert isinstance(caught.value.__cause__, RecursionError)


def test_load_policy_json_rejects_huge_integers_as_invalid_json() -> None:
    # load_policy_json's contract: bad input raises PolicyParseError (INVALID_JSON), never
    # anything else; json.loads itself raises a bare ValueError past the digit limit.
    with pytest.raises(PolicyParseError) as caught:
        load_policy_json('{"Version": ' + "1" * 5000 + "}")
    limit = sys.get_int_max_str_digits()
    assert caught.value.problems == (
        Problem(
            "INVALID_JSON",
            f"the document holds a number of more than {limit} digits, which no policy needs",
            "",
        ),
    )


def _nested(depth: int) -> Any:
    value: Any = "2012-10-17"
    for _ in range(depth):
        value = [value]
    return value


LONG_TEXT = "x" * 100
VERSION_ADVICE = "is not valid: use `2012-10-17`"
EFFECT_ADVICE = "is not valid: use exactly `Allow` or `Deny`"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        # values json.dumps cannot render (check_policy must never raise)
        pytest.param(
            {"Version": _nested(100_000), "Statement": []},
            f"`Version` an array {VERSION_ADVICE}",
            id="deep-version",
        ),
        pytest.param(
            {"Version": 10**5000, "Statement": []},
            f"`Version` a very long number {VERSION_ADVICE}",
            id="huge-version",
        ),
        pytest.param(
            {"Statement": {"Effect": _nested(100_000), "Action": "*"}},
            f"`Effect` an array {EFFECT_ADVICE}",
            id="deep-effect",
        ),
        pytest.param(
            {"Statement": {"Effect": -(10**5000), "Action": "*"}},
            f"`Effect` a very long number {EFFECT_ADVICE}",
            id="huge-effect",
        ),
        # long values are shortened, short ones shown as JSON
        pytest.param(
            {"Version": LONG_TEXT, "Statement": []},
            f'`Version` "{"x" * 75}…" {VERSION_ADVICE}',
            id="long-string",
        ),
        pytest.param(
            {"Version": 10**50, "Statement": []},
            f"`Version` {'1' + '0' * 36}... {VERSION_ADVICE}",
            id="long-number",
        ),
        pytest.param(
            {"Version": 1.5, "Statement": []}, f"`Version` 1.5 {VERSION_ADVICE}", id="float"
        ),
        pytest.param(
            {"Version": True, "Statement": []}, f"`Version` true {VERSION_ADVICE}", id="bool"
        ),
        pytest.param(
            {"Version": {}, "Statement": []}, f"`Version` an object {VERSION_ADVICE}", id="object"
        ),
        pytest.param(
            {"Statement": {"Effect": False, "Action": "*"}},
            f"`Effect` false {EFFECT_ADVICE}",
            id="effect-false",
        ),
    ],
)
def test_invalid_version_and_effect_values_are_shown_briefly(raw: Json, message: str) -> None:
    # check_policy's contract (parse.py docstring): it returns the problems rather than
    # raising, whatever the value.
    policy, problems = check_policy(raw)
    assert policy is None
    assert [p.message for p in problems] == [message]


def test_check_policy_reports_huge_integer_condition_values() -> None:
    condition = {"NumericEquals": {"n": 10**5000}}
    raw = {"Statement": {"Effect": "Allow", "Action": "*", "Condition": condition}}
    policy, problems = check_policy(raw)
    assert policy is None
    assert [(p.code, p.pointer) for p in problems] == [
        ("WRONG_TYPE", "/Statement/Condition/NumericEquals/n")
    ]
    assert problems[0].message.startswith("a condition value must be a string, number or boolean")


def test_parse_policy_text_parses_and_rejects_duplicates() -> None:
    policy = parse_policy_text(json.dumps(doc(allow_all(Sid="A"))))
    assert policy == Policy(
        VERSION_2012,
        (Statement(0, "A", Effect.ALLOW, action=("*",), resource=("*",)),),
    )
    with pytest.raises(PolicyParseError) as caught:
        parse_policy_text('{"Statement": [], "Statement": []}')
    assert caught.value.problems == (
        Problem("DUPLICATE_KEY", "the key `Statement` appears more than once", "/Statement"),
    )


def test_duplicate_keys_everywhere_are_located() -> None:
    text = """{
      "Statement": {
        "Effect": "Allow", "Action": "a", "Action": "b",
        "Principal": {"AWS": "1", "AWS": "2"},
        "Condition": {
          "Bool": {"k": "true"}, "Bool": {"k": "true", "k": "false"}
        }
      }
    }"""
    with pytest.raises(PolicyParseError) as caught:
        parse_policy_text(text)
    assert [(p.code, p.pointer) for p in caught.value.problems] == [
        ("DUPLICATE_KEY", "/Statement/Action"),
        ("DUPLICATE_KEY", "/Statement/Principal/AWS"),
        ("DUPLICATE_KEY", "/Statement/Condition/Bool"),
        ("DUPLICATE_KEY", "/Statement/Condition/Bool/k"),
    ]


# --- pointers and value texts ----------------------------------------------------------


def test_pointer_escapes_per_rfc_6901() -> None:
    assert pointer() == ""
    assert pointer("Statement", 0, "Action") == "/Statement/0/Action"
    assert pointer("a/b", "c~d", "~/") == "/a~1b/c~0d/~0~1"
    assert pointer("") == "/"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (True, "true"),
        (False, "false"),
        ("x", "x"),
        ("", ""),
        (0, "0"),
        (-12, "-12"),
        (1.5, "1.5"),
        (1.0, "1.0"),
        (1e20, "1e+20"),
        pytest.param(10**5000, None, id="longer-than-python-converts"),
        (None, None),
        ([], None),
        ({}, None),
    ],
)
def test_condition_value_text(value: Any, text: str | None) -> None:
    assert condition_value_text(value) == text


# --- valid documents -------------------------------------------------------------------


def test_parse_full_statement_into_the_model() -> None:
    raw = {
        "Version": VERSION_2012,
        "Id": "policy-1",
        "Statement": [
            {
                "Sid": "Pull",
                "Effect": "Allow",
                "Principal": {"AWS": ["111111111111", "arn:aws:iam::2:root"], "Service": "x"},
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                "Resource": "arn:aws:ecr:us-east-1:111111111111:repository/app",
                "Condition": {
                    "StringEquals": {"aws:PrincipalTag/team": ["dev", "ops"]},
                    "Bool": {"aws:SecureTransport": True},
                    "NumericLessThan": {"n": 5, "m": 2.5},
                },
            },
            {
                "Effect": "Deny",
                "NotPrincipal": "*",
                "NotAction": "ecr:Put*",
                "NotResource": ["*"],
            },
        ],
    }
    assert parse_policy(raw) == Policy(
        version=VERSION_2012,
        id="policy-1",
        statements=(
            Statement(
                index=0,
                sid="Pull",
                effect=Effect.ALLOW,
                principal=PrincipalSpec(
                    star=False,
                    entries=(
                        ("AWS", ("111111111111", "arn:aws:iam::2:root")),
                        ("Service", ("x",)),
                    ),
                ),
                action=("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"),
                resource=("arn:aws:ecr:us-east-1:111111111111:repository/app",),
                conditions=(
                    Condition("StringEquals", "aws:PrincipalTag/team", ("dev", "ops")),
                    Condition("Bool", "aws:SecureTransport", ("true",)),
                    Condition("NumericLessThan", "n", ("5",)),
                    Condition("NumericLessThan", "m", ("2.5",)),
                ),
            ),
            Statement(
                index=1,
                sid=None,
                effect=Effect.DENY,
                not_principal=PrincipalSpec(star=True),
                not_action=("ecr:Put*",),
                not_resource=("*",),
            ),
        ),
    )


def test_single_statement_object_and_2008_version() -> None:
    policy = parse_policy({"Version": VERSION_2008, "Statement": allow_all()})
    assert policy.version == VERSION_2008
    assert not policy.variables_enabled
    assert policy.statements == (Statement(0, None, Effect.ALLOW, action=("*",), resource=("*",)),)


def test_missing_version_parses_with_variables_disabled() -> None:
    policy = parse_policy({"Statement": []})
    assert policy == Policy(None, ())
    assert not policy.variables_enabled
    assert parse_policy(doc()).variables_enabled


def test_statement_without_resource_or_principal_is_accepted() -> None:
    # The parser does not know the policy type; resource policies often omit Resource.
    policy = parse_policy(doc({"Effect": "Allow", "Action": "ecr:*"}))
    statement = policy.statements[0]
    assert statement.resource is None
    assert statement.not_resource is None
    assert statement.principal is None


def test_aws_star_principal_is_kept_as_an_entry() -> None:
    policy = parse_policy(doc(allow_all(Principal={"AWS": "*"})))
    assert policy.statements[0].principal == PrincipalSpec(False, (("AWS", ("*",)),))


def test_empty_condition_block_and_empty_value_list() -> None:
    policy = parse_policy(doc(allow_all(Condition={}), allow_all(Condition={"Bool": {"k": []}})))
    assert policy.statements[0].conditions == ()
    assert policy.statements[1].conditions == (Condition("Bool", "k", ()),)


def test_empty_sid_is_kept_but_labels_by_index() -> None:
    policy = parse_policy(doc(allow_all(Sid=""), allow_all(Sid="Named")))
    assert policy.statements[0].sid == ""
    assert policy.statements[0].label("identity[0]") == "identity[0]#0"
    assert policy.statements[1].label("resource") == "resource#Named"


# --- every problem ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(
            [],
            [("WRONG_TYPE", "a policy must be a JSON object, not an array", "")],
            id="policy-array",
        ),
        pytest.param(
            None,
            [("WRONG_TYPE", "a policy must be a JSON object, not null", "")],
            id="policy-null",
        ),
        pytest.param(
            "x",
            [("WRONG_TYPE", "a policy must be a JSON object, not a string", "")],
            id="policy-string",
        ),
        pytest.param(
            True,
            [("WRONG_TYPE", "a policy must be a JSON object, not a boolean", "")],
            id="policy-bool",
        ),
        pytest.param(
            3.5,
            [("WRONG_TYPE", "a policy must be a JSON object, not a number", "")],
            id="policy-float",
        ),
        pytest.param(
            (1, 2),
            [("WRONG_TYPE", "a policy must be a JSON object, not ?", "")],
            id="policy-not-json",
        ),
        pytest.param(
            {},
            [("MISSING_STATEMENT", "the policy has no `Statement` element", "")],
            id="no-statement",
        ),
        pytest.param(
            {"Statements": []},
            [
                (
                    "MISSPELLED_ELEMENT",
                    "unknown element `Statements`: did you mean `Statement`?",
                    "/Statements",
                ),
                ("MISSING_STATEMENT", "the policy has no `Statement` element", ""),
            ],
            id="misspelled-plural",
        ),
        pytest.param(
            {"version": VERSION_2012, "Statement": []},
            [
                (
                    "MISSPELLED_ELEMENT",
                    "unknown element `version`: did you mean `Version`?",
                    "/version",
                )
            ],
            id="misspelled-case",
        ),
        pytest.param(
            {"Foo": 1, "Statement": []},
            [("UNKNOWN_ELEMENT", "unknown element `Foo`: use Version, Id, Statement", "/Foo")],
            id="unknown-element",
        ),
        pytest.param(
            {"Version": "2012-10-18", "Statement": []},
            [
                (
                    "INVALID_VERSION",
                    '`Version` "2012-10-18" is not valid: use `2012-10-17`',
                    "/Version",
                )
            ],
            id="bad-version",
        ),
        pytest.param(
            {"Version": 2012, "Statement": []},
            [("INVALID_VERSION", "`Version` 2012 is not valid: use `2012-10-17`", "/Version")],
            id="numeric-version",
        ),
        pytest.param(
            {"Id": 7, "Statement": []},
            [("WRONG_TYPE", "`Id` must be a string, not a number", "/Id")],
            id="id-type",
        ),
        pytest.param(
            {"Statement": "Allow"},
            [
                (
                    "WRONG_TYPE",
                    "`Statement` must be an object or an array, not a string",
                    "/Statement",
                )
            ],
            id="statement-string",
        ),
        pytest.param(
            {"Statement": [1]},
            [("WRONG_TYPE", "a statement must be an object, not a number", "/Statement/0")],
            id="statement-entry",
        ),
        pytest.param(
            {"Statement": {"Sid": 1, "Effect": "Allow", "Action": "*"}},
            [("WRONG_TYPE", "`Sid` must be a string, not a number", "/Statement/Sid")],
            id="sid-type",
        ),
        pytest.param(
            {"Statement": [{"Action": "*"}]},
            [
                (
                    "MISSING_EFFECT",
                    "the statement has no `Effect`: use `Allow` or `Deny`",
                    "/Statement/0",
                )
            ],
            id="missing-effect",
        ),
        pytest.param(
            {"Statement": [{"Effect": "allow", "Action": "*"}]},
            [
                (
                    "INVALID_EFFECT",
                    '`Effect` "allow" is not valid: use exactly `Allow` or `Deny`',
                    "/Statement/0/Effect",
                )
            ],
            id="effect-case",
        ),
        pytest.param(
            {"Statement": [{"Effect": "Allow"}]},
            [("MISSING_ACTION", "the statement has no `Action` or `NotAction`", "/Statement/0")],
            id="missing-action",
        ),
        pytest.param(
            {"Statement": [{"Effect": "Allow", "Action": "*", "NotAction": "*"}]},
            [
                (
                    "CONFLICTING_ELEMENTS",
                    "a statement cannot have both `Action` and `NotAction`",
                    "/Statement/0/NotAction",
                )
            ],
            id="action-notaction",
        ),
        pytest.param(
            {
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "NotPrincipal": "*",
                        "Action": "*",
                        "Resource": "*",
                        "NotResource": "*",
                    }
                ]
            },
            [
                (
                    "CONFLICTING_ELEMENTS",
                    "a statement cannot have both `Principal` and `NotPrincipal`",
                    "/Statement/0/NotPrincipal",
                ),
                (
                    "CONFLICTING_ELEMENTS",
                    "a statement cannot have both `Resource` and `NotResource`",
                    "/Statement/0/NotResource",
                ),
            ],
            id="principal-resource-conflicts",
        ),
        pytest.param(
            {"Statement": [{"Effect": "Allow", "Action": []}]},
            [("EMPTY_VALUE", "`Action` must not be an empty array", "/Statement/0/Action")],
            id="empty-action",
        ),
        pytest.param(
            {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": ["a", None]}]},
            [
                (
                    "WRONG_TYPE",
                    "every `Resource` entry must be a string, not null",
                    "/Statement/0/Resource/1",
                )
            ],
            id="resource-entry-type",
        ),
        pytest.param(
            {"Statement": [{"Effect": "Allow", "NotAction": {"a": 1}}]},
            [
                (
                    "WRONG_TYPE",
                    "`NotAction` must be a string or an array of strings, not an object",
                    "/Statement/0/NotAction",
                )
            ],
            id="notaction-type",
        ),
        pytest.param(
            {"Statement": [{"Effect": "Allow", "Action": "*", "NotResource": False}]},
            [
                (
                    "WRONG_TYPE",
                    "`NotResource` must be a string or an array of strings, not a boolean",
                    "/Statement/0/NotResource",
                )
            ],
            id="notresource-type",
        ),
        pytest.param(
            {"Statement": [{"Effect": "Allow", "Action": "*", "Principal": "arn:aws:iam::1:root"}]},
            [
                (
                    "INVALID_PRINCIPAL",
                    '`Principal` must be "*" or an object such as {"AWS": ...}, not a string',
                    "/Statement/0/Principal",
                )
            ],
            id="principal-string",
        ),
        pytest.param(
            {"Statement": [{"Effect": "Deny", "Action": "*", "NotPrincipal": ["*"]}]},
            [
                (
                    "INVALID_PRINCIPAL",
                    '`NotPrincipal` must be "*" or an object such as {"AWS": ...}, not an array',
                    "/Statement/0/NotPrincipal",
                )
            ],
            id="notprincipal-array",
        ),
        pytest.param(
            {"Statement": [{"Effect": "Allow", "Action": "*", "Principal": {}}]},
            [
                (
                    "EMPTY_VALUE",
                    "`Principal` must name at least one principal",
                    "/Statement/0/Principal",
                )
            ],
            id="principal-empty",
        ),
        pytest.param(
            {"Statement": [{"Effect": "Allow", "Action": "*", "Principal": {"aws": "*"}}]},
            [
                (
                    "MISSPELLED_ELEMENT",
                    "unknown element `aws`: did you mean `AWS`?",
                    "/Statement/0/Principal/aws",
                )
            ],
            id="principal-type-case",
        ),
        pytest.param(
            {"Statement": [{"Effect": "Allow", "Action": "*", "Principal": {"Services": "x"}}]},
            [
                (
                    "MISSPELLED_ELEMENT",
                    "unknown element `Services`: did you mean `Service`?",
                    "/Statement/0/Principal/Services",
                )
            ],
            id="principal-type-plural",
        ),
        pytest.param(
            {"Statement": [{"Effect": "Allow", "Action": "*", "Principal": {"User": 1}}]},
            [
                (
                    "UNKNOWN_ELEMENT",
                    "unknown element `User`: use AWS, Service, Federated, CanonicalUser",
                    "/Statement/0/Principal/User",
                ),
                (
                    "WRONG_TYPE",
                    "`User` must be a string or an array of strings, not a number",
                    "/Statement/0/Principal/User",
                ),
            ],
            id="principal-type-unknown",
        ),
        pytest.param(
            {"Statement": [{"Effect": "Allow", "Action": "*", "Principal": {"AWS": []}}]},
            [("EMPTY_VALUE", "`AWS` must not be an empty array", "/Statement/0/Principal/AWS")],
            id="principal-aws-empty",
        ),
        pytest.param(
            {"Statement": [{"Effect": "Allow", "Action": "*", "Condition": []}]},
            [
                (
                    "WRONG_TYPE",
                    "`Condition` must be an object, not an array",
                    "/Statement/0/Condition",
                )
            ],
            id="condition-type",
        ),
        pytest.param(
            {"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"StringEqual": {}}}]},
            [
                (
                    "UNKNOWN_OPERATOR",
                    "unknown condition operator `StringEqual`",
                    "/Statement/0/Condition/StringEqual",
                )
            ],
            id="condition-operator",
        ),
        pytest.param(
            {"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"Bool": {}}}]},
            [
                (
                    "WRONG_TYPE",
                    "`Bool` must map condition keys to values, not an object",
                    "/Statement/0/Condition/Bool",
                )
            ],
            id="condition-operator-empty",
        ),
        pytest.param(
            {"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"Bool": "k"}}]},
            [
                (
                    "WRONG_TYPE",
                    "`Bool` must map condition keys to values, not a string",
                    "/Statement/0/Condition/Bool",
                )
            ],
            id="condition-operator-type",
        ),
        pytest.param(
            {
                "Statement": [
                    {"Effect": "Allow", "Action": "*", "Condition": {"Bool": {"a/b": {"x": 1}}}}
                ]
            },
            [
                (
                    "WRONG_TYPE",
                    "a condition value must be a string, number or boolean, not an object",
                    "/Statement/0/Condition/Bool/a~1b",
                )
            ],
            id="condition-value-object",
        ),
        pytest.param(
            {
                "Statement": [
                    {"Effect": "Allow", "Action": "*", "Condition": {"Bool": {"k": ["a", None]}}}
                ]
            },
            [
                (
                    "WRONG_TYPE",
                    "a condition value must be a string, number or boolean, not null",
                    "/Statement/0/Condition/Bool/k/1",
                )
            ],
            id="condition-value-list-entry",
        ),
        pytest.param(
            {"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"Bool": {"k": [[]]}}}]},
            [
                (
                    "WRONG_TYPE",
                    "a condition value must be a string, number or boolean, not an array",
                    "/Statement/0/Condition/Bool/k/0",
                )
            ],
            id="condition-value-nested-list",
        ),
    ],
)
def test_problems(raw: Any, expected: list[tuple[str, str, str]]) -> None:
    assert problems_of(raw) == expected


def test_unknown_statement_element_lists_the_allowed_ones() -> None:
    assert problems_of({"Statement": [allow_all(Foo=1)]}) == [
        (
            "UNKNOWN_ELEMENT",
            "unknown element `Foo`: use Sid, Effect, Principal, NotPrincipal, Action, "
            "NotAction, Resource, NotResource, Condition",
            "/Statement/0/Foo",
        )
    ]


def test_misspelled_statement_elements_get_suggestions() -> None:
    raw = {"Statement": [{"effect": "Allow", "Actions": "*", "resources": "*"}]}
    assert problems_of(raw) == [
        (
            "MISSPELLED_ELEMENT",
            "unknown element `effect`: did you mean `Effect`?",
            "/Statement/0/effect",
        ),
        (
            "MISSPELLED_ELEMENT",
            "unknown element `Actions`: did you mean `Action`?",
            "/Statement/0/Actions",
        ),
        (
            "MISSPELLED_ELEMENT",
            "unknown element `resources`: did you mean `Resource`?",
            "/Statement/0/resources",
        ),
        (
            "MISSING_EFFECT",
            "the statement has no `Effect`: use `Allow` or `Deny`",
            "/Statement/0",
        ),
        ("MISSING_ACTION", "the statement has no `Action` or `NotAction`", "/Statement/0"),
    ]


def test_every_statement_is_checked_and_problems_come_in_document_order() -> None:
    raw = {
        "Version": "1",
        "Statement": [allow_all(), {"Effect": "Maybe", "Action": "*"}, "x"],
    }
    assert [(code, where) for code, _, where in problems_of(raw)] == [
        ("INVALID_VERSION", "/Version"),
        ("INVALID_EFFECT", "/Statement/1/Effect"),
        ("WRONG_TYPE", "/Statement/2"),
    ]


def test_only_the_first_bad_list_entry_is_reported() -> None:
    raw = {"Statement": [{"Effect": "Allow", "Action": ["a", 1, 2]}]}
    assert problems_of(raw) == [
        (
            "WRONG_TYPE",
            "every `Action` entry must be a string, not a number",
            "/Statement/0/Action/1",
        )
    ]


def test_subclassed_objects_are_named_as_objects() -> None:
    # load_policy_json produces DuplicateKeyDict, a dict subclass.
    with pytest.raises(PolicyParseError) as caught:
        parse_policy_text('{"Statement": {"Effect": "Allow", "Action": {}}}')
    assert caught.value.problems == (
        Problem(
            "WRONG_TYPE",
            "`Action` must be a string or an array of strings, not an object",
            "/Statement/Action",
        ),
    )


def test_parse_policy_raises_with_every_problem() -> None:
    raw = {"Statement": [{"Effect": "Allow"}, {"Action": "*"}]}
    with pytest.raises(PolicyParseError) as caught:
        parse_policy(raw)
    error = caught.value
    assert error.code == "MISSING_ACTION"
    assert error.pointer == "/Statement/0"
    assert len(error.problems) == 2
    assert error.problems[1].code == "MISSING_EFFECT"
    assert str(error) == "the statement has no `Action` or `NotAction` (at `/Statement/0`)"


def test_check_policy_returns_the_policy_and_no_problems() -> None:
    policy, problems = check_policy(doc(allow_all()))
    assert problems == ()
    assert policy == parse_policy(doc(allow_all()))


# --- errors ----------------------------------------------------------------------------


def test_error_classes() -> None:
    assert issubclass(PolicyError, CrossdockError)
    assert issubclass(PolicyParseError, PolicyError)
    assert issubclass(PolicyParseError, ValueError)
    assert issubclass(CaseError, PolicyError)
    assert issubclass(CaseError, ValueError)
    error = CaseError("`id` must be a string", "/id")
    assert error.pointer == "/id"
    assert str(error) == "`id` must be a string (at `/id`)"
    assert str(CaseError("a case must be a JSON object", "")) == (
        "a case must be a JSON object (at `/`)"
    )


# --- model ---------------------------------------------------------------------------


def test_principal_spec_values_gathers_every_entry_of_a_kind() -> None:
    spec = PrincipalSpec(False, (("AWS", ("a", "b")), ("Service", ("s",)), ("AWS", ("c",))))
    assert spec.values("AWS") == ("a", "b", "c")
    assert spec.values("Service") == ("s",)
    assert spec.values("Federated") == ()
    assert PrincipalSpec(True).values("AWS") == ()


def test_statement_label_prefers_the_sid() -> None:
    assert Statement(3, "Pull", Effect.ALLOW).label("identity[1]") == "identity[1]#Pull"
    assert Statement(3, None, Effect.DENY).label("scp[0][2]") == "scp[0][2]#3"


def test_variables_enabled_only_for_2012() -> None:
    assert Policy(VERSION_2012, ()).variables_enabled
    assert not Policy(VERSION_2008, ()).variables_enabled
    assert not Policy(None, ()).variables_enabled


def test_effect_values_are_aws_spelling() -> None:
    assert Effect("Allow") is Effect.ALLOW
    assert Effect("Deny") is Effect.DENY


# --- serialize -------------------------------------------------------------------------


def test_policy_to_json_writes_single_values_as_strings() -> None:
    raw = {
        "Version": VERSION_2012,
        "Id": "x",
        "Statement": [
            {
                "Sid": "S",
                "Effect": "Allow",
                "Principal": {"AWS": ["1", "2"], "Service": ["svc"]},
                "Action": ["a"],
                "Resource": ["r1", "r2"],
                "Condition": {"Bool": {"k": True}, "StringLike": {"j": ["a", "b"]}},
            },
            {"Effect": "Deny", "NotPrincipal": "*", "NotAction": "n", "NotResource": "nr"},
        ],
    }
    assert policy_to_json(parse_policy(raw)) == {
        "Version": VERSION_2012,
        "Id": "x",
        "Statement": [
            {
                "Sid": "S",
                "Effect": "Allow",
                "Principal": {"AWS": ["1", "2"], "Service": "svc"},
                "Action": "a",
                "Resource": ["r1", "r2"],
                "Condition": {"Bool": {"k": ["true"]}, "StringLike": {"j": ["a", "b"]}},
            },
            {"Effect": "Deny", "NotPrincipal": "*", "NotAction": "n", "NotResource": "nr"},
        ],
    }


def test_policy_to_json_omits_absent_version_and_id() -> None:
    assert policy_to_json(Policy(None, ())) == {"Statement": []}


def test_statement_to_json_uses_aws_element_order() -> None:
    statement = Statement(
        0,
        "Sid",
        Effect.DENY,
        not_principal=PrincipalSpec(False, (("AWS", ("1",)),)),
        not_action=("a",),
        not_resource=("r",),
        conditions=(Condition("Null", "k", ("true",)),),
    )
    out = statement_to_json(statement)
    assert list(out) == ["Sid", "Effect", "NotPrincipal", "NotAction", "NotResource", "Condition"]
    assert out["NotPrincipal"] == {"AWS": "1"}


def test_serializer_merges_repeated_principal_kinds_and_condition_operators() -> None:
    # Hand-built models may repeat a principal kind or an operator; the JSON cannot.
    statement = Statement(
        0,
        None,
        Effect.ALLOW,
        principal=PrincipalSpec(False, (("AWS", ("1",)), ("Service", ("s",)), ("AWS", ("2",)))),
        action=("a",),
        conditions=(
            Condition("StringEquals", "k1", ("v1",)),
            Condition("Bool", "k2", ("true",)),
            Condition("StringEquals", "k3", ("v3", "v4")),
        ),
    )
    out = statement_to_json(statement)
    assert out["Principal"] == {"AWS": ["1", "2"], "Service": "s"}
    assert out["Condition"] == {
        "StringEquals": {"k1": ["v1"], "k3": ["v3", "v4"]},
        "Bool": {"k2": ["true"]},
    }
    reparsed = parse_policy({"Statement": [out]}).statements[0]
    assert reparsed.principal == PrincipalSpec(False, (("AWS", ("1", "2")), ("Service", ("s",))))
