"""The linter's condition rules: keys, value types, account ids, impossible combinations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import MappingProxyType

from crossdock.core.arn import Arn, is_account_id
from crossdock.core.errors import ArnError
from crossdock.policy.catalog import (
    ECR_CONDITION_KEYS,
    GLOBAL_CONDITION_KEYS,
    IAM_CONDITION_KEYS,
    STS_CONDITION_KEYS,
    condition_key,
    condition_key_service,
    is_known_condition_key,
)
from crossdock.policy.conditions import (
    OperatorSpec,
    SetOperator,
    TypeMismatchError,
    ValueKind,
    parse_operator,
    read_binary,
    read_bool,
    read_date,
    read_network,
    read_number,
)
from crossdock.policy.findings import Finding
from crossdock.policy.lint_rules import (
    Path,
    StatementView,
    account_finding,
    did_you_mean,
    finding,
    has_variable,
    literal_account,
    spread,
)
from crossdock.policy.model import Condition

_READERS: MappingProxyType[ValueKind, Callable[[str], object]] = MappingProxyType(
    {
        ValueKind.NUMERIC: read_number,
        ValueKind.DATE: read_date,
        ValueKind.BOOL: read_bool,
        ValueKind.BINARY: read_binary,
        ValueKind.IP: read_network,
        ValueKind.NULL: read_bool,
    }
)
_EXPECTED = MappingProxyType(
    {
        ValueKind.NUMERIC: "a number",
        ValueKind.DATE: "an ISO 8601 date-time or epoch seconds",
        ValueKind.BOOL: '"true" or "false"',
        ValueKind.BINARY: "base64 text",
        ValueKind.IP: "an IP address or CIDR block",
        ValueKind.NULL: '"true" (key absent) or "false" (key present)',
    }
)
_TYPE_KINDS: MappingProxyType[str, tuple[tuple[ValueKind, ...], str]] = MappingProxyType(
    {
        "String": ((ValueKind.STRING,), "a String operator"),
        "ARN": ((ValueKind.ARN, ValueKind.STRING), "an Arn or String operator"),
        "Date": ((ValueKind.DATE,), "a Date operator"),
        "Bool": ((ValueKind.BOOL,), "Bool"),
        "Numeric": ((ValueKind.NUMERIC,), "a Numeric operator"),
        "IPAddress": ((ValueKind.IP,), "IpAddress or NotIpAddress"),
    }
)
_ACCOUNT_KEYS = frozenset(
    {"aws:principalaccount", "aws:resourceaccount", "aws:sourceaccount", "aws:vpceaccount"}
)
_KNOWN_NAMES = tuple(
    key.name
    for key in GLOBAL_CONDITION_KEYS + ECR_CONDITION_KEYS + STS_CONDITION_KEYS + IAM_CONDITION_KEYS
    if key.template_prefix is None
)
"""Catalogued key names offered as did-you-mean suggestions (templates left out)."""
_OPPOSITES = (
    ("StringEquals", "StringNotEquals"),
    ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"),
)


@dataclass(frozen=True, slots=True)
class Clause:
    """One ``operator: {key: values}`` entry with its operator read and its locations."""

    condition: Condition
    spec: OperatorSpec
    path: Path
    value_paths: tuple[Path, ...]

    @property
    def key(self) -> str:
        """The condition key as written."""
        return self.condition.key

    def values(self) -> list[tuple[str, Path]]:
        """Each value (as IAM compares it) with its location."""
        return list(zip(self.condition.values, self.value_paths, strict=True))


def clauses(view: StatementView) -> list[Clause]:
    """The statement's conditions, with their operators and JSON locations."""
    block = view.raw.get("Condition", {})
    found: list[Clause] = []
    for condition in view.statement.conditions:
        spec = parse_operator(condition.operator)
        if spec is not None:  # check_policy has reported any other operator
            path = view.at("Condition", condition.operator, condition.key)
            paths = spread(block[condition.operator][condition.key], path)
            found.append(Clause(condition, spec, path, tuple(paths)))
    return found


def condition_rule(view: StatementView) -> Iterator[Finding]:
    """Every condition rule, over the statement's clauses."""
    found = clauses(view)
    for clause in found:
        yield from _key(clause)
        yield from _values(clause, view.variables)
        yield from _type(clause)
        yield from _accounts(clause)
    yield from _unsatisfiable(found)


def _key(clause: Clause) -> Iterator[Finding]:
    key = clause.key
    if condition_key_service(key) is None:
        message = f"`{key}` is not a condition key: write `service:name`, e.g. aws:PrincipalOrgID"
        yield finding("UNKNOWN_CONDITION_KEY", message, clause.path)
    elif not is_known_condition_key(key):
        hint = did_you_mean(key, _KNOWN_NAMES)
        message = (
            f"AWS defines no condition key `{key}`{hint}: the key is never in the request, "
            f"so this condition is never true (or, negated, always true)"
        )
        yield finding("UNKNOWN_CONDITION_KEY", message, clause.path)


def _values(clause: Clause, variables: bool) -> Iterator[Finding]:
    base = clause.spec.base
    reader = _READERS.get(base.kind)
    if reader is None:
        return
    for text, path in clause.values():
        if variables and base.variables and has_variable(text):
            continue
        try:
            reader(text)
        except TypeMismatchError:
            message = (
                f"`{clause.spec.text}` expects {_EXPECTED[base.kind]}, not `{text}`: "
                f"this value never matches"
            )
            yield finding("INVALID_CONDITION_VALUE", message, path)


def _type(clause: Clause) -> Iterator[Finding]:
    entry = condition_key(clause.key)
    kind = clause.spec.base.kind
    if entry is None or kind is ValueKind.NULL:
        return
    allowed: set[ValueKind] = set()
    for data_type in entry.types:
        kinds, _ = _TYPE_KINDS.get(data_type.removeprefix("ArrayOf"), (tuple(ValueKind), ""))
        allowed.update(kinds)
    if kind in allowed:
        return
    _, hint = _TYPE_KINDS[entry.data_type.removeprefix("ArrayOf")]
    message = (
        f"`{clause.spec.text}` does not fit `{clause.key}` (type {entry.data_type}): use {hint}"
    )
    yield finding("CONDITION_TYPE_MISMATCH", message, clause.path)


def _accounts(clause: Clause) -> Iterator[Finding]:
    kind = clause.spec.base.kind
    if kind not in (ValueKind.STRING, ValueKind.ARN):
        return
    if clause.key.lower() in _ACCOUNT_KEYS and kind is ValueKind.STRING:
        for text, path in clause.values():
            if literal_account(text) and not is_account_id(text):
                yield from account_finding(text, path)
        return
    entry = condition_key(clause.key)
    if entry is None or not any(t.endswith("ARN") for t in entry.types):
        return
    for text, path in clause.values():
        account = _arn_account(text)
        if account is not None and literal_account(account) and not is_account_id(account):
            yield from account_finding(account, path, text)


def _arn_account(text: str) -> str | None:
    try:
        return Arn.parse(text).account
    except ArnError:
        return None


def _unsatisfiable(found: list[Clause]) -> Iterator[Finding]:
    by_key: dict[str, list[Clause]] = {}
    for clause in found:
        by_key.setdefault(clause.key.lower(), []).append(clause)
    for group in by_key.values():
        if len(group) > 1:
            yield from _null_conflict(group)
            yield from _opposites(group)


def _null_conflict(group: list[Clause]) -> Iterator[Finding]:
    absent = [c for c in group if c.spec.base.kind is ValueKind.NULL and _all_true(c)]
    present = [c for c in group if _requires_presence(c.spec)]
    for null in absent[:1]:
        for other in present[:1]:
            message = (
                f"`Null` requires `{null.key}` to be absent, and `{other.spec.text}` requires "
                f"it to be present: this statement never applies"
            )
            yield finding("UNSATISFIABLE_CONDITION", message, null.path)


def _all_true(clause: Clause) -> bool:
    return all(value.strip().lower() == "true" for value in clause.condition.values)


def _requires_presence(spec: OperatorSpec) -> bool:
    base = spec.base
    if base.kind is ValueKind.NULL or spec.if_exists or spec.set_operator is SetOperator.ALL:
        return False
    return not base.negated or spec.set_operator is SetOperator.ANY


def _opposites(group: list[Clause]) -> Iterator[Finding]:
    plain = {c.spec.text: c for c in group if c.spec.set_operator is None}
    for positive_name, negative_name in _OPPOSITES:
        positive, negative = plain.get(positive_name), plain.get(negative_name)
        if positive is None or negative is None or positive.spec.if_exists:
            continue
        fold = str.lower if positive_name.endswith("IgnoreCase") else str
        wanted = {fold(v) for v in positive.condition.values}
        refused = {fold(v) for v in negative.condition.values}
        if wanted <= refused and not any(has_variable(v) for v in wanted):
            message = (
                f"`{negative_name}` refuses every value `{positive_name}` accepts for "
                f"`{negative.key}`: this statement never applies"
            )
            yield finding("UNSATISFIABLE_CONDITION", message, negative.path)
