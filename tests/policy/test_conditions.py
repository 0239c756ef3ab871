"""Condition operators (conditions.py): the table, one ``operator: {key: values}`` test.

Rules cited per block: IAM UG, "IAM JSON policy elements: Condition operators"
(reference_policies_elements_condition_operators), "Creating a condition with multiple
context keys or values" and "Single-valued vs. multivalued context keys"; spec §4.4.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

import pytest

from crossdock.policy.conditions import (
    BaseOperator,
    ConditionTest,
    OperatorSpec,
    SetOperator,
    TypeMismatchError,
    ValueKind,
    base_operators,
    compile_condition,
    parse_operator,
    read_address,
    read_binary,
    read_bool,
    read_date,
    read_network,
    read_number,
    value_test,
)
from crossdock.policy.context import normalize_context
from crossdock.policy.variables import ContextValue, parse_template

Ctx = Mapping[str, ContextValue]


def compiled(op: str, key: str, values: Sequence[str], *, variables: bool = False) -> ConditionTest:
    spec = parse_operator(op)
    assert spec is not None, op
    templates = tuple(
        parse_template(v, variables_enabled=variables and spec.base.variables) for v in values
    )
    return compile_condition(spec, key, templates)


def holds(op: str, key: str, values: Sequence[str], context: Ctx, **kw: bool) -> bool:
    return compiled(op, key, values, **kw).evaluate(normalize_context(context))


def base(name: str) -> BaseOperator:
    spec = parse_operator(name)
    assert spec is not None
    return spec.base


# --- the operator table ------------------------------------------------------------


def test_base_operators_are_the_iam_table() -> None:
    assert base_operators() == (
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
        "DateEquals",
        "DateNotEquals",
        "DateLessThan",
        "DateLessThanEquals",
        "DateGreaterThan",
        "DateGreaterThanEquals",
        "Bool",
        "BinaryEquals",
        "IpAddress",
        "NotIpAddress",
        "ArnEquals",
        "ArnNotEquals",
        "ArnLike",
        "ArnNotLike",
        "Null",
    )


@pytest.mark.parametrize(
    ("name", "kind", "negated", "variables"),
    [
        ("StringNotLike", ValueKind.STRING, True, True),
        ("NumericLessThan", ValueKind.NUMERIC, False, False),
        ("DateNotEquals", ValueKind.DATE, True, False),
        ("Bool", ValueKind.BOOL, False, True),
        ("BinaryEquals", ValueKind.BINARY, False, False),
        ("NotIpAddress", ValueKind.IP, True, False),
        ("ArnNotEquals", ValueKind.ARN, True, True),
        ("Null", ValueKind.NULL, False, False),
    ],
)
def test_operator_properties(name: str, kind: ValueKind, negated: bool, variables: bool) -> None:
    # spec §4.4 "Vars" column: variables only in String, Arn and Bool values.
    operator = base(name)
    assert (operator.kind, operator.negated, operator.variables) == (kind, negated, variables)


def test_parse_operator_splits_qualifiers() -> None:
    spec = parse_operator("ForAnyValue:StringLikeIfExists")
    assert spec == OperatorSpec(
        "ForAnyValue:StringLikeIfExists", base("StringLike"), SetOperator.ANY, True
    )
    assert parse_operator("ForAllValues:StringEquals") == OperatorSpec(
        "ForAllValues:StringEquals", base("StringEquals"), SetOperator.ALL, False
    )
    assert parse_operator("NumericLessThanIfExists") == OperatorSpec(
        "NumericLessThanIfExists", base("NumericLessThan"), None, True
    )


@pytest.mark.parametrize(
    "text",
    [
        "StringEqual",
        "ForSomeValue:StringEquals",
        "forallvalues:StringEquals",
        ":StringEquals",
        "NullIfExists",  # IAM UG: ...IfExists applies to every operator except Null
        "ForAnyValue:Null",
        "ForAllValues:Null",
        "IfExists",
        "",
        "StringEqualsIfExistsIfExists",
    ],
)
def test_parse_operator_rejects_unknown_names(text: str) -> None:
    assert parse_operator(text) is None


# --- typed readers -----------------------------------------------------------------


def test_read_number() -> None:
    assert read_number(" 5 ") == 5
    assert read_number("-2.50") == Decimal("-2.5")
    assert read_number("1e3") == 1000
    for bad in ("abc", "", "NaN", "Infinity", "-inf", "1,000"):
        with pytest.raises(TypeMismatchError):
            read_number(bad)


def test_read_date_iso_and_epoch() -> None:
    noon = Decimal(1718452800)  # 2024-06-15T12:00:00Z
    assert read_date("2024-06-15T12:00:00Z") == noon
    assert read_date("2024-06-15T14:00:00+02:00") == noon
    assert read_date("2024-06-15T12:00:00") == noon  # no offset: UTC
    assert read_date("2024-06-15") == noon - 12 * 3600
    assert read_date("1718452800") == noon
    assert read_date(" 1718452800.5 ") == Decimal("1718452800.5")
    assert read_date("-1") == -1
    for bad in ("yesterday", "2024-13-01", "", "1718452800e3"):
        with pytest.raises(TypeMismatchError):
            read_date(bad)


def test_read_bool() -> None:
    assert read_bool("true") is True
    assert read_bool(" FALSE ") is False
    for bad in ("yes", "1", "", "t"):
        with pytest.raises(TypeMismatchError):
            read_bool(bad)


def test_read_binary() -> None:
    assert read_binary("aGVsbG8=") == b"hello"
    assert read_binary("") == b""
    for bad in ("aGVsbG8", "not base64!", "aGVs\nbG8=", "é"):
        with pytest.raises(TypeMismatchError):
            read_binary(bad)


def test_read_network_and_address() -> None:
    assert str(read_network("10.0.0.0/8")) == "10.0.0.0/8"
    assert str(read_network("10.1.2.3")) == "10.1.2.3/32"
    assert str(read_network("10.1.2.3/8")) == "10.0.0.0/8"  # host bits allowed
    assert str(read_network("2001:db8::/32")) == "2001:db8::/32"
    assert str(read_network("2001:db8::1")) == "2001:db8::1/128"
    assert str(read_address(" 203.0.113.10 ")) == "203.0.113.10"
    assert str(read_address("2001:db8::1")) == "2001:db8::1"
    for bad in ("10.0.0.0/33", "host", ""):
        with pytest.raises(TypeMismatchError):
            read_network(bad)
    for bad in ("10.0.0.0/8", "300.1.1.1", ""):
        with pytest.raises(TypeMismatchError):
            read_address(bad)


def test_value_test_raises_for_unreadable_policy_values() -> None:
    with pytest.raises(TypeMismatchError):
        value_test(base("NumericEquals"), ("ten",))
    with pytest.raises(TypeMismatchError):
        value_test(base("IpAddress"), ("10.0.0.0/99",))
    with pytest.raises(TypeMismatchError):
        value_test(base("Null"), ("maybe",))


def test_value_test_null_is_decided_on_presence() -> None:
    # Null compares presence, not values: its value test only reports "present".
    assert value_test(base("Null"), ("false",))("anything") is True
    assert value_test(base("Null"), ("true",))("anything") is False


# --- string operators --------------------------------------------------------------

TEAM = "aws:PrincipalTag/team"


@pytest.mark.parametrize(
    ("op", "values", "request_value", "expected"),
    [
        ("StringEquals", ["dev"], "dev", True),
        ("StringEquals", ["dev"], "Dev", False),
        ("StringEquals", ["ops", "dev"], "dev", True),  # values of one key are ORed
        ("StringEquals", ["d*"], "dev", False),  # no wildcards
        ("StringNotEquals", ["dev"], "dev", False),
        ("StringNotEquals", ["dev"], "Dev", True),
        ("StringNotEquals", ["ops", "dev"], "dev", False),  # negated: must match none
        ("StringNotEquals", ["ops", "qa"], "dev", True),
        ("StringEqualsIgnoreCase", ["DEV"], "dev", True),
        ("StringEqualsIgnoreCase", ["DEV"], "ops", False),
        ("StringNotEqualsIgnoreCase", ["DEV"], "dev", False),
        ("StringNotEqualsIgnoreCase", ["DEV"], "ops", True),
        ("StringLike", ["d*"], "dev", True),
        ("StringLike", ["d?v"], "dev", True),
        ("StringLike", ["d?v"], "deev", False),
        ("StringLike", ["D*"], "dev", False),  # case-sensitive
        ("StringLike", ["a.c"], "abc", False),  # regex metacharacters are literal
        ("StringLike", ["x", "*v"], "dev", True),
        ("StringNotLike", ["d*"], "dev", False),
        ("StringNotLike", ["o*", "q*"], "dev", True),
        ("StringNotLike", ["o*", "d*"], "dev", False),
    ],
)
def test_string_operators(op: str, values: list[str], request_value: str, expected: bool) -> None:
    assert holds(op, TEAM, values, {TEAM: request_value}) is expected


def test_condition_keys_match_case_insensitively() -> None:
    # IAM UG, Condition element: condition key names are not case-sensitive
    assert holds("StringEquals", "AWS:PRINCIPALTAG/TEAM", ["dev"], {"aws:principaltag/Team": "dev"})


# --- numeric operators ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "policy", "request_value", "expected"),
    [
        ("NumericEquals", "10", "10.0", True),
        ("NumericEquals", "10", "11", False),
        ("NumericNotEquals", "10", "11", True),
        ("NumericNotEquals", "10", "10", False),
        ("NumericLessThan", "10", "9.5", True),
        ("NumericLessThan", "10", "10", False),
        ("NumericLessThanEquals", "10", "10", True),
        ("NumericLessThanEquals", "10", "10.01", False),
        ("NumericGreaterThan", "10", "11", True),
        ("NumericGreaterThan", "10", "10", False),
        ("NumericGreaterThanEquals", "10", "10", True),
        ("NumericGreaterThanEquals", "10", "-10", False),
    ],
)
def test_numeric_operators(op: str, policy: str, request_value: str, expected: bool) -> None:
    assert holds(op, "s3:max-keys", [policy], {"s3:max-keys": request_value}) is expected


# --- date operators ------------------------------------------------------------------

NOW = "aws:CurrentTime"


@pytest.mark.parametrize(
    ("op", "policy", "request_value", "expected"),
    [
        ("DateEquals", "2024-06-15T12:00:00Z", "2024-06-15T12:00:00Z", True),
        ("DateEquals", "2024-06-15T12:00:00Z", "1718452800", True),  # epoch request
        ("DateEquals", "1718452800", "2024-06-15T14:00:00+02:00", True),  # epoch policy
        ("DateEquals", "2024-06-15T12:00:00Z", "2024-06-15T12:00:01Z", False),
        ("DateNotEquals", "2024-06-15T12:00:00Z", "2024-06-15T12:00:01Z", True),
        ("DateNotEquals", "2024-06-15T12:00:00Z", "1718452800", False),
        ("DateLessThan", "2024-06-15T12:00:00Z", "2024-06-15T11:59:59Z", True),
        ("DateLessThan", "2024-06-15T12:00:00Z", "2024-06-15T12:00:00Z", False),
        ("DateLessThanEquals", "2024-06-15T12:00:00Z", "2024-06-15T12:00:00Z", True),
        ("DateLessThanEquals", "2024-06-15T12:00:00Z", "2025-01-01T00:00:00Z", False),
        ("DateGreaterThan", "2024-06-15", "2024-06-15T00:00:01Z", True),
        ("DateGreaterThan", "2024-06-15", "2024-06-14T23:59:59Z", False),
        ("DateGreaterThanEquals", "1718452800", "1718452800", True),
        ("DateGreaterThanEquals", "1718452800", "1718452799.9", False),
    ],
)
def test_date_operators(op: str, policy: str, request_value: str, expected: bool) -> None:
    assert holds(op, NOW, [policy], {NOW: request_value}) is expected


# --- Bool, Binary ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "request_value", "expected"),
    [
        ("true", "true", True),
        ("true", "false", False),
        ("false", "false", True),
        ("TRUE", "true", True),
        ("true", "True", True),
    ],
)
def test_bool(policy: str, request_value: str, expected: bool) -> None:
    key = "aws:SecureTransport"
    assert holds("Bool", key, [policy], {key: request_value}) is expected


def test_binary_equals_compares_decoded_bytes() -> None:
    key = "ecr:blob"
    assert holds("BinaryEquals", key, ["aGVsbG8="], {key: "aGVsbG8="})
    assert not holds("BinaryEquals", key, ["aGVsbG8="], {key: "d29ybGQ="})
    assert holds("BinaryEquals", key, ["d29ybGQ=", "aGVsbG8="], {key: "aGVsbG8="})


# --- IP address --------------------------------------------------------------------

IP = "aws:SourceIp"


@pytest.mark.parametrize(
    ("op", "policy", "request_value", "expected"),
    [
        ("IpAddress", ["203.0.113.0/24"], "203.0.113.10", True),
        ("IpAddress", ["203.0.113.0/24"], "203.0.114.10", False),
        ("IpAddress", ["203.0.113.10"], "203.0.113.10", True),  # bare address = /32
        ("IpAddress", ["203.0.113.10"], "203.0.113.11", False),
        ("IpAddress", ["10.0.0.0/8", "2001:db8::/32"], "2001:db8:1::5", True),  # IPv6
        ("IpAddress", ["2001:db8::/32"], "2001:db9::5", False),
        ("IpAddress", ["2001:db8::/32"], "10.0.0.1", False),  # other family
        ("IpAddress", ["0.0.0.0/0"], "192.0.2.1", True),
        ("NotIpAddress", ["203.0.113.0/24"], "203.0.113.10", False),
        ("NotIpAddress", ["203.0.113.0/24"], "198.51.100.1", True),
        ("NotIpAddress", ["10.0.0.0/8", "203.0.113.0/24"], "203.0.113.10", False),
        ("NotIpAddress", ["2001:db8::/32"], "2001:db8::1", False),
        ("NotIpAddress", ["2001:db8::/32"], "10.0.0.1", True),
    ],
)
def test_ip_operators(op: str, policy: list[str], request_value: str, expected: bool) -> None:
    assert holds(op, IP, policy, {IP: request_value}) is expected


# --- ARN operators -----------------------------------------------------------------

SRC = "aws:SourceArn"
ROLE_ARN = "arn:aws:iam::111111111111:role/ops/deployer"


@pytest.mark.parametrize("positive", ["ArnEquals", "ArnLike"])
@pytest.mark.parametrize(
    ("policy", "request_value", "expected"),
    [
        (ROLE_ARN, ROLE_ARN, True),
        ("arn:aws:iam::*:role/ops/*", ROLE_ARN, True),
        ("arn:aws:iam::111111111111:role/*", ROLE_ARN, True),  # * crosses / in the id
        ("arn:aws:iam::????????????:role/ops/deployer", ROLE_ARN, True),
        ("arn:aws:iam::111111111111:role/OPS/*", ROLE_ARN, False),  # case-sensitive
        ("arn:aws:*:role/ops/deployer", ROLE_ARN, False),  # * stays in its segment
        ("arn:aws:iam::*", ROLE_ARN, False),
        ("*", ROLE_ARN, False),
        ("*", "no-colons", False),  # a request value must be an ARN
        ("arn:aws:iam::1:role/x", "arn:aws:iam::1", False),
    ],
)
def test_arn_operators(positive: str, policy: str, request_value: str, expected: bool) -> None:
    # IAM UG, ARN condition operators: ArnEquals and ArnLike behave the same; each of the
    # six segments is matched separately.
    negated = positive.replace("Arn", "ArnNot")
    assert holds(positive, SRC, [policy], {SRC: request_value}) is expected
    if request_value.count(":") >= 5:
        assert holds(negated, SRC, [policy], {SRC: request_value}) is not expected


# --- missing keys, IfExists, Null --------------------------------------------------

POSITIVE = [
    ("StringEquals", "x"),
    ("StringEqualsIgnoreCase", "x"),
    ("StringLike", "*"),
    ("NumericEquals", "1"),
    ("NumericLessThan", "1"),
    ("NumericLessThanEquals", "1"),
    ("NumericGreaterThan", "1"),
    ("NumericGreaterThanEquals", "1"),
    ("DateEquals", "1"),
    ("DateLessThan", "1"),
    ("DateLessThanEquals", "1"),
    ("DateGreaterThan", "1"),
    ("DateGreaterThanEquals", "1"),
    ("Bool", "true"),
    ("BinaryEquals", "eA=="),
    ("IpAddress", "0.0.0.0/0"),
    ("ArnEquals", "*"),
    ("ArnLike", "*"),
]
NEGATED = [
    ("StringNotEquals", "x"),
    ("StringNotEqualsIgnoreCase", "x"),
    ("StringNotLike", "*"),
    ("NumericNotEquals", "1"),
    ("DateNotEquals", "1"),
    ("NotIpAddress", "0.0.0.0/0"),
    ("ArnNotEquals", "*"),
    ("ArnNotLike", "*"),
]


@pytest.mark.parametrize(("op", "value"), POSITIVE)
def test_missing_key_makes_positive_operators_false(op: str, value: str) -> None:
    # IAM UG, Condition operators: a key absent from the request context does not match
    assert not holds(op, "k", [value], {"other": "x"})
    # ...IfExists: absent key => true
    assert holds(op + "IfExists", "k", [value], {})


@pytest.mark.parametrize(("op", "value"), NEGATED)
def test_missing_key_makes_negated_operators_true(op: str, value: str) -> None:
    # IAM UG, Condition operators: negated operators are true for an absent key
    assert holds(op, "k", [value], {})
    assert holds(op + "IfExists", "k", [value], {})


def test_if_exists_with_a_present_key_is_the_plain_operator() -> None:
    assert holds("StringEqualsIfExists", TEAM, ["dev"], {TEAM: "dev"})
    assert not holds("StringEqualsIfExists", TEAM, ["dev"], {TEAM: "ops"})
    assert not holds("StringNotEqualsIfExists", TEAM, ["dev"], {TEAM: "dev"})
    assert not holds("NumericLessThanIfExists", "n", ["1"], {"n": "abc"})


@pytest.mark.parametrize(
    ("values", "context", "expected"),
    [
        (["true"], {}, True),  # true: the key must be absent
        (["true"], {"k": "v"}, False),
        (["false"], {"k": "v"}, True),  # false: the key must be present
        (["false"], {}, False),
        (["TRUE"], {}, True),
        (["true", "false"], {}, True),
        (["true", "false"], {"k": "v"}, True),
        (["false"], {"k": ()}, True),  # an empty set is still present
        (["maybe"], {}, False),  # neither true nor false: never holds
        (["maybe"], {"k": "v"}, False),
    ],
)
def test_null(values: list[str], context: Ctx, expected: bool) -> None:
    # IAM UG, Condition operator to check existence of condition keys (Conditions_Null)
    assert holds("Null", "k", values, context) is expected


# --- set operators -----------------------------------------------------------------

KEYS = "aws:TagKeys"


@pytest.mark.parametrize(
    ("op", "policy", "request_keys", "expected"),
    [
        ("ForAnyValue:StringEquals", ["team", "env"], ("team", "x"), True),
        ("ForAnyValue:StringEquals", ["team", "env"], ("x", "y"), False),
        ("ForAnyValue:StringEquals", ["team"], (), False),  # empty set => false
        ("ForAllValues:StringEquals", ["team", "env"], ("team", "env"), True),
        ("ForAllValues:StringEquals", ["team", "env"], ("team", "x"), False),
        ("ForAllValues:StringEquals", ["team"], (), True),  # empty set => true
        ("ForAllValues:StringLike", ["team", "env*"], ("team", "env1", "env2"), True),
        ("ForAnyValue:StringLike", ["env*"], ("x", "env1"), True),
        # a negated inner operator applies to each request value
        ("ForAnyValue:StringNotEquals", ["team"], ("team", "x"), True),
        ("ForAnyValue:StringNotEquals", ["team"], ("team",), False),
        ("ForAllValues:StringNotLike", ["key1*"], ("key2", "key3"), True),
        ("ForAllValues:StringNotLike", ["key1*"], ("key2", "key1a"), False),
        ("ForAllValues:StringNotLike", ["key1*"], (), True),
        ("ForAnyValue:StringNotLike", ["key1*"], (), False),
        # a single-valued key is a one-element set
        ("ForAnyValue:StringEquals", ["team"], "team", True),
        ("ForAllValues:StringEquals", ["team"], "x", False),
    ],
)
def test_set_operators(
    op: str, policy: list[str], request_keys: ContextValue, expected: bool
) -> None:
    # IAM UG, Single-valued vs. multivalued context keys: ForAnyValue is false and
    # ForAllValues true for an empty set.
    assert holds(op, KEYS, policy, {KEYS: request_keys}) is expected


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("ForAnyValue:StringEquals", False),
        ("ForAnyValue:StringNotEquals", False),
        ("ForAllValues:StringEquals", True),
        ("ForAllValues:StringNotLike", True),
        ("ForAnyValue:StringEqualsIfExists", True),
        ("ForAllValues:StringEqualsIfExists", True),
    ],
)
def test_set_operators_with_missing_key(op: str, expected: bool) -> None:
    assert holds(op, KEYS, ["team"], {}) is expected


def test_plain_operator_on_a_multivalued_key() -> None:
    assert holds("StringEquals", KEYS, ["team"], {KEYS: ("x", "team")})
    assert not holds("StringEquals", KEYS, ["team"], {KEYS: ("x", "y")})
    assert not holds("StringEquals", KEYS, ["team"], {KEYS: ()})
    assert not holds("StringNotEquals", KEYS, ["team"], {KEYS: ("x", "team")})
    assert holds("StringNotEquals", KEYS, ["team"], {KEYS: ("x", "y")})
    assert holds("StringNotEquals", KEYS, ["team"], {KEYS: ()})


# --- type mismatches -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "policy", "bad_request_value"),
    [
        ("NumericEquals", "1", "one"),
        ("NumericNotEquals", "1", "one"),
        ("NumericLessThan", "1", ""),
        ("DateEquals", "2024-01-01", "yesterday"),
        ("DateNotEquals", "2024-01-01", "yesterday"),
        ("Bool", "true", "yes"),
        ("BinaryEquals", "eA==", "!!"),
        ("IpAddress", "10.0.0.0/8", "10.0.0.0/8"),
        ("NotIpAddress", "10.0.0.0/8", "not-an-address"),
        ("ForAnyValue:NumericEquals", "1", "one"),
        ("ForAllValues:NumericNotEquals", "1", "one"),
    ],
)
def test_request_value_of_the_wrong_type_fails_whatever_the_operator(
    op: str, policy: str, bad_request_value: str
) -> None:
    # conditions.py module contract: a request value that cannot be read as the
    # operator's type makes the test false, negated operators included.
    assert not holds(op, "k", [policy], {"k": bad_request_value})


def test_unreadable_policy_value_matches_nothing() -> None:
    assert not holds("NumericEquals", "k", ["ten"], {"k": "10"})
    assert holds("NumericEquals", "k", ["ten", "10"], {"k": "10"})
    assert holds("NumericNotEquals", "k", ["ten"], {"k": "10"})
    assert not holds("IpAddress", "k", ["10.0.0.0/99"], {"k": "10.0.0.1"})
    assert not holds("Bool", "k", ["yes"], {"k": "true"})


# --- variables -------------------------------------------------------------------


def test_variable_free_values_are_compiled_once() -> None:
    test = compiled("StringEquals", "Aws:UserName", ["alice"], variables=True)
    assert test.key == "aws:username"
    assert test.static_tests is not None
    assert len(test.static_tests) == 1
    null = compiled("Null", "k", ["true"], variables=True)
    assert null.static_tests is not None


def test_values_with_variables_are_resolved_per_request() -> None:
    test = compiled("StringEquals", "s3:prefix", ["home/${aws:username}"], variables=True)
    assert test.static_tests is None
    assert test.evaluate({"s3:prefix": "home/alice", "aws:username": "alice"})
    assert not test.evaluate({"s3:prefix": "home/alice", "aws:username": "bob"})


def test_unresolved_variable_fails_positive_and_passes_negated_operators() -> None:
    # IAM UG, Policy variables with no value: in a condition an unresolved variable makes
    # positive string operators false and negated ones true.
    context = {"s3:prefix": "home/alice"}
    assert not holds("StringEquals", "s3:prefix", ["home/${aws:username}"], context, variables=True)
    assert not holds("StringLike", "s3:prefix", ["home/${aws:username}*"], context, variables=True)
    assert holds("StringNotEquals", "s3:prefix", ["home/${aws:username}"], context, variables=True)
    assert holds(
        "StringEquals", "s3:prefix", ["home/${aws:username, 'alice'}"], context, variables=True
    )


def test_substituted_values_are_literal_in_like_operators() -> None:
    test = compiled("StringLike", "s3:prefix", ["home/${aws:username}/*"], variables=True)
    assert test.evaluate({"s3:prefix": "home/a*/x", "aws:username": "a*"})
    assert not test.evaluate({"s3:prefix": "home/ab/x", "aws:username": "a*"})


def test_special_character_escapes_are_literal() -> None:
    # IAM UG, Policy variables, special characters: ${*} is a literal asterisk
    assert holds("StringLike", "k", ["a${*}"], {"k": "a*"}, variables=True)
    assert not holds("StringLike", "k", ["a${*}"], {"k": "ab"}, variables=True)
    assert holds("StringLike", "k", ["a${?}"], {"k": "a?"}, variables=True)
    assert holds("StringEquals", "k", ["a${$}"], {"k": "a$"}, variables=True)


def test_variables_only_where_the_operator_and_version_allow() -> None:
    context = {"k": "alice", "aws:username": "alice"}
    # without variables (Version 2008 or a non-variable operator) the text is literal
    assert not holds("StringEquals", "k", ["${aws:username}"], context, variables=False)
    assert holds("StringEquals", "k", ["${aws:username}"], {"k": "${aws:username}"})
    assert not holds("NumericEquals", "n", ["${n2}"], {"n": "1", "n2": "1"}, variables=True)


def test_arn_and_bool_values_take_variables() -> None:
    principal = "arn:aws:iam::111111111111:user/alice"
    context = {"aws:principalarn": principal, "aws:username": "alice", "b": "true", "v": "true"}
    assert holds(
        "ArnLike",
        "aws:PrincipalArn",
        ["arn:aws:iam::*:user/${aws:username}"],
        context,
        variables=True,
    )
    assert holds("Bool", "b", ["${v}"], context, variables=True)
    assert not holds("Bool", "b", ["${missing}"], context, variables=True)


def test_enum_values() -> None:
    assert SetOperator("ForAnyValue") is SetOperator.ANY
    assert SetOperator("ForAllValues") is SetOperator.ALL
    assert ValueKind.IP.value == "IpAddress"
