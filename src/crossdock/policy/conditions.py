"""Condition operators: the table, and how one ``operator: {key: values}`` test is run.

Semantics (IAM UG, "IAM JSON policy elements: Condition operators" and "Condition
operators for multivalued context keys"):

* values of one key are ORed; a negated operator (``StringNotEquals``, ``NotIpAddress``,
  ...) instead requires the request value to match none of them;
* a missing key makes a positive operator false and a negated one true; ``...IfExists``
  makes any operator true; ``Null`` tests presence itself;
* ``ForAnyValue:`` is true when some request value passes (false for an empty or missing
  set); ``ForAllValues:`` when every request value passes (true for an empty or missing
  set); a negated inner operator applies to each request value;
* a plain operator on a multivalued key: positive when some request value matches some
  policy value, negated when no request value matches any;
* a request value of the wrong type (a non-number for ``Numeric*``, a bad address for
  ``IpAddress``, ...) makes the test false whatever the operator.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from functools import cache

from crossdock.policy.variables import Context, Piece, Template, flatten, resolve, to_chunks
from crossdock.policy.wildcard import GlobStyle, chunks_to_regex


class ValueKind(Enum):
    """What a base operator compares."""

    STRING = "String"
    NUMERIC = "Numeric"
    DATE = "Date"
    BOOL = "Bool"
    BINARY = "Binary"
    IP = "IpAddress"
    ARN = "Arn"
    NULL = "Null"


class SetOperator(Enum):
    """The ``ForAnyValue:`` / ``ForAllValues:`` qualifiers."""

    ANY = "ForAnyValue"
    ALL = "ForAllValues"


class TypeMismatchError(Exception):
    """A request or policy value cannot be read as the operator's type."""


@dataclass(frozen=True, slots=True)
class BaseOperator:
    """One operator of the table, before ``IfExists`` and set qualifiers."""

    name: str
    kind: ValueKind
    negated: bool
    variables: bool
    comparison: str


@cache
def _table() -> dict[str, BaseOperator]:
    rows: list[tuple[str, ValueKind, bool, bool, str]] = [
        ("StringEquals", ValueKind.STRING, False, True, "eq"),
        ("StringNotEquals", ValueKind.STRING, True, True, "eq"),
        ("StringEqualsIgnoreCase", ValueKind.STRING, False, True, "ieq"),
        ("StringNotEqualsIgnoreCase", ValueKind.STRING, True, True, "ieq"),
        ("StringLike", ValueKind.STRING, False, True, "like"),
        ("StringNotLike", ValueKind.STRING, True, True, "like"),
        ("NumericEquals", ValueKind.NUMERIC, False, False, "eq"),
        ("NumericNotEquals", ValueKind.NUMERIC, True, False, "eq"),
        ("NumericLessThan", ValueKind.NUMERIC, False, False, "lt"),
        ("NumericLessThanEquals", ValueKind.NUMERIC, False, False, "le"),
        ("NumericGreaterThan", ValueKind.NUMERIC, False, False, "gt"),
        ("NumericGreaterThanEquals", ValueKind.NUMERIC, False, False, "ge"),
        ("DateEquals", ValueKind.DATE, False, False, "eq"),
        ("DateNotEquals", ValueKind.DATE, True, False, "eq"),
        ("DateLessThan", ValueKind.DATE, False, False, "lt"),
        ("DateLessThanEquals", ValueKind.DATE, False, False, "le"),
        ("DateGreaterThan", ValueKind.DATE, False, False, "gt"),
        ("DateGreaterThanEquals", ValueKind.DATE, False, False, "ge"),
        ("Bool", ValueKind.BOOL, False, True, "eq"),
        ("BinaryEquals", ValueKind.BINARY, False, False, "eq"),
        ("IpAddress", ValueKind.IP, False, False, "in"),
        ("NotIpAddress", ValueKind.IP, True, False, "in"),
        ("ArnEquals", ValueKind.ARN, False, True, "like"),
        ("ArnNotEquals", ValueKind.ARN, True, True, "like"),
        ("ArnLike", ValueKind.ARN, False, True, "like"),
        ("ArnNotLike", ValueKind.ARN, True, True, "like"),
        ("Null", ValueKind.NULL, False, False, "null"),
    ]
    return {name: BaseOperator(name, kind, neg, var, cmp) for name, kind, neg, var, cmp in rows}


@dataclass(frozen=True, slots=True)
class OperatorSpec:
    """A full operator name as written, split into its parts."""

    text: str
    base: BaseOperator
    set_operator: SetOperator | None
    if_exists: bool


def base_operators() -> tuple[str, ...]:
    """Every base operator name IAM defines."""
    return tuple(_table())


def parse_operator(text: str) -> OperatorSpec | None:
    """Split ``ForAnyValue:StringLikeIfExists`` and the like; None if IAM has no such operator."""
    set_operator: SetOperator | None = None
    name = text
    if ":" in text:
        qualifier, _, name = text.partition(":")
        try:
            set_operator = SetOperator(qualifier)
        except ValueError:
            return None
    if_exists = name.endswith("IfExists")
    if if_exists:
        name = name[: -len("IfExists")]
    base = _table().get(name)
    if base is None or (if_exists and base.kind is ValueKind.NULL):
        return None
    if set_operator is not None and base.kind is ValueKind.NULL:
        return None
    return OperatorSpec(text, base, set_operator, if_exists)


# --- typed readers -------------------------------------------------------------------

_EPOCH = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


_NUMBER = re.compile(r"^\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$")


def read_number(value: str) -> Decimal:
    """Read an integer or decimal (no ``_`` separators, no NaN); raise TypeMismatchError."""
    if _NUMBER.match(value) is None:
        raise TypeMismatchError(value)
    return Decimal(value.strip())


def read_date(value: str) -> Decimal:
    """Read an ISO 8601 date-time or epoch seconds as epoch seconds."""
    text = value.strip()
    if _EPOCH.match(text):
        return Decimal(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise TypeMismatchError(value) from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return Decimal(str(moment.timestamp()))


def read_bool(value: str) -> bool:
    """Read ``true`` / ``false`` (any case)."""
    folded = value.strip().lower()
    if folded not in ("true", "false"):
        raise TypeMismatchError(value)
    return folded == "true"


def read_binary(value: str) -> bytes:
    """Read a base64 value."""
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as error:
        raise TypeMismatchError(value) from error


def read_network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """Read a CIDR block or a bare address (a /32 or /128)."""
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError as error:
        raise TypeMismatchError(value) from error


def read_address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """Read a single IP address."""
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError as error:
        raise TypeMismatchError(value) from error


# --- one policy value against one request value ------------------------------------

ValueTest = Callable[[str], bool]
"""Does one request value satisfy one policy value (positive sense)?"""


def _ordered(comparison: str, policy: Decimal, reader: Callable[[str], Decimal]) -> ValueTest:
    checks: dict[str, Callable[[Decimal], bool]] = {
        "eq": lambda v: v == policy,
        "lt": lambda v: v < policy,
        "le": lambda v: v <= policy,
        "gt": lambda v: v > policy,
        "ge": lambda v: v >= policy,
    }
    check = checks[comparison]
    return lambda request: check(reader(request))


def _regex_test(pieces: tuple[Piece, ...], style: GlobStyle) -> ValueTest:
    regex = re.compile(chunks_to_regex(to_chunks(pieces), style), re.DOTALL)
    return lambda request: regex.fullmatch(request) is not None


def _arn_test(pieces: tuple[Piece, ...]) -> ValueTest:
    matches = _regex_test(pieces, GlobStyle.ARN_CONDITION)
    return lambda request: request.count(":") >= 5 and matches(request)


def value_test(base: BaseOperator, pieces: tuple[Piece, ...]) -> ValueTest:
    """Build the positive test for one resolved policy value.

    Raises TypeMismatchError when the policy value itself cannot be read (such a value
    matches no request value).
    """
    text = flatten(pieces)
    kind = base.kind
    if kind is ValueKind.STRING:
        if base.comparison == "eq":
            return lambda request: request == text
        if base.comparison == "ieq":
            folded = text.lower()
            return lambda request: request.lower() == folded
        return _regex_test(pieces, GlobStyle.PLAIN)
    if kind is ValueKind.ARN:
        return _arn_test(pieces)
    if kind is ValueKind.NUMERIC:
        return _ordered(base.comparison, read_number(text), read_number)
    if kind is ValueKind.DATE:
        return _ordered(base.comparison, read_date(text), read_date)
    if kind is ValueKind.BOOL:
        expected = read_bool(text)
        return lambda request: read_bool(request) is expected
    if kind is ValueKind.BINARY:
        expected_bytes = read_binary(text)
        return lambda request: read_binary(request) == expected_bytes
    if kind is ValueKind.IP:
        network = read_network(text)
        return lambda request: read_address(request) in network
    # ValueKind.NULL is decided on presence alone (see ConditionTest.evaluate).
    expected_absent = read_bool(text)
    return lambda request: not expected_absent


def _never(request: str) -> bool:
    return False


# --- a whole clause ---------------------------------------------------------------


class ConditionTest:
    """One compiled ``operator: {key: values}`` entry.

    The operator's parts are read into plain attributes once: this runs for every
    statement of every request.
    """

    __slots__ = (
        "key",
        "negated",
        "null_expectations",
        "set_operator",
        "spec",
        "static_tests",
        "templates",
        "when_missing",
    )

    def __init__(
        self,
        spec: OperatorSpec,
        key: str,
        templates: tuple[Template, ...],
        static_tests: tuple[ValueTest, ...] | None,
    ) -> None:
        self.spec = spec
        self.key = key
        self.templates = templates
        self.static_tests = static_tests
        self.negated = spec.base.negated
        self.set_operator = spec.set_operator
        self.null_expectations: tuple[bool | None, ...] | None = None
        if spec.base.kind is ValueKind.NULL:
            self.null_expectations = tuple(_null_expects_absent(t.source) for t in templates)
        self.when_missing = _when_missing(spec)

    def _tests(self, context: Context) -> tuple[ValueTest, ...]:
        tests: list[ValueTest] = []
        for template in self.templates:
            pieces = resolve(template, context)
            tests.append(_never if pieces is None else _safe_value_test(self.spec.base, pieces))
        return tuple(tests)

    def evaluate(self, context: Context) -> bool:
        """True when the request context satisfies this entry."""
        raw = context.get(self.key)
        if self.null_expectations is not None:
            absent = raw is None
            return any(expected is absent for expected in self.null_expectations)
        if raw is None:
            return self.when_missing
        tests = self.static_tests if self.static_tests is not None else self._tests(context)
        try:
            if self.set_operator is None and isinstance(raw, str):
                # One request value: the tests of one entry all read it the same way (or
                # not at all), so the first match decides.
                for test in tests:
                    if test(raw):
                        return not self.negated
                return self.negated
            values = (raw,) if isinstance(raw, str) else raw
            # Every value is tested (no short cut), so a value of the wrong type makes the
            # condition false wherever it stands among the request values.
            if self.set_operator is None:
                matched = True in [test(value) for value in values for test in tests]
                return not matched if self.negated else matched
            per_value = [self._one(value, tests) for value in values]
            return any(per_value) if self.set_operator is _ANY else all(per_value)
        except TypeMismatchError:
            return False

    def _one(self, value: str, tests: tuple[ValueTest, ...]) -> bool:
        matched = True in [test(value) for test in tests]
        return not matched if self.negated else matched


_ANY = SetOperator.ANY


def _when_missing(spec: OperatorSpec) -> bool:
    """The result when the key is absent from the request context."""
    if spec.if_exists or spec.set_operator is SetOperator.ALL:
        return True
    if spec.set_operator is SetOperator.ANY:
        return False
    return spec.base.negated


def _null_expects_absent(text: str) -> bool | None:
    folded = text.strip().lower()
    if folded == "true":
        return True
    if folded == "false":
        return False
    return None


def _safe_value_test(base: BaseOperator, pieces: tuple[Piece, ...]) -> ValueTest:
    try:
        return value_test(base, pieces)
    except TypeMismatchError:
        return _never


def compile_condition(
    spec: OperatorSpec, key: str, templates: tuple[Template, ...]
) -> ConditionTest:
    """Compile one condition entry; variable-free values are compiled here, once."""
    if spec.base.kind is ValueKind.NULL or not any(t.has_variables for t in templates):
        static = tuple(_safe_value_test(spec.base, t.pieces) for t in templates)
        return ConditionTest(spec, key.lower(), templates, static)
    return ConditionTest(spec, key.lower(), templates, None)


__all__ = [
    "BaseOperator",
    "ConditionTest",
    "OperatorSpec",
    "SetOperator",
    "TypeMismatchError",
    "ValueKind",
    "base_operators",
    "compile_condition",
    "parse_operator",
]
