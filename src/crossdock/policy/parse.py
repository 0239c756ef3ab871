"""JSON → :class:`~crossdock.policy.model.Policy`, or every reason it is not a policy.

:func:`parse_policy` raises :class:`PolicyParseError` (first problem plus all of them,
each with a JSON pointer). :func:`check_policy` returns the problems instead, for the
linter. :func:`load_policy_json` reads policy text, keeping track of duplicate keys,
which IAM rejects but ``json.loads`` silently merges.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from crossdock.policy.conditions import parse_operator
from crossdock.policy.errors import PolicyParseError, Problem
from crossdock.policy.model import (
    VERSION_2008,
    VERSION_2012,
    Condition,
    Effect,
    Policy,
    PrincipalSpec,
    Statement,
)

POLICY_KEYS = ("Version", "Id", "Statement")
STATEMENT_KEYS = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)
PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")
_EXCLUSIVE = (("Principal", "NotPrincipal"), ("Action", "NotAction"), ("Resource", "NotResource"))


class DuplicateKeyDict(dict[str, Any]):
    """A JSON object that remembers which keys appeared more than once."""

    duplicates: tuple[str, ...] = ()


def _pairs(pairs: list[tuple[str, Any]]) -> DuplicateKeyDict:
    result = DuplicateKeyDict()
    seen: list[str] = []
    for key, value in pairs:
        if key in result:
            seen.append(key)
        result[key] = value
    result.duplicates = tuple(seen)
    return result


def load_policy_json(text: str) -> Any:
    """``json.loads`` that records duplicate keys; raises PolicyParseError on bad JSON."""
    try:
        return json.loads(text, object_pairs_hook=_pairs)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}"
        message = f"the document is not valid JSON: {error.msg} at {where}"
        raise PolicyParseError((Problem("INVALID_JSON", message, ""),)) from error
    except ValueError as error:  # an integer literal longer than Python converts
        limit = sys.get_int_max_str_digits()
        message = f"the document holds a number of more than {limit} digits, which no policy needs"
        raise PolicyParseError((Problem("INVALID_JSON", message, ""),)) from error
    except RecursionError as error:
        message = "the document is nested too deeply to be a policy"
        raise PolicyParseError((Problem("INVALID_JSON", message, ""),)) from error


def pointer(*parts: str | int) -> str:
    """An RFC 6901 JSON pointer built from path parts."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def _suggestion(key: str, known: tuple[str, ...]) -> str | None:
    folded = key.lower().rstrip("s")
    for candidate in known:
        if candidate.lower() == folded or candidate.lower() == key.lower():
            return candidate
    return None


def _shown(value: Any) -> str:
    """A short JSON rendering of a bad value for a message, whatever the value is."""
    if isinstance(value, str):
        text = json.dumps(value)
        return text if len(text) <= 80 else text[:76] + '…"'
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float):
        digits = repr(value) if isinstance(value, float) else None
        if digits is None:
            try:
                digits = str(value)
            except ValueError:  # over sys.get_int_max_str_digits() digits
                return "a very long number"
        return digits if len(digits) <= 40 else digits[:37] + "..."
    return _type_name(value)


def _type_name(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), next((n for t, n in names.items() if isinstance(value, t)), "?"))


class _Parser:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, code: str, message: str, *path: str | int) -> None:
        self.problems.append(Problem(code, message, pointer(*path)))

    def check_duplicates(self, obj: dict[str, Any], *path: str | int) -> None:
        for key in getattr(obj, "duplicates", ()):
            self.problem("DUPLICATE_KEY", f"the key `{key}` appears more than once", *path, key)

    def check_keys(self, obj: dict[str, Any], known: tuple[str, ...], *path: str | int) -> None:
        self.check_duplicates(obj, *path)
        for key in obj:
            if key in known:
                continue
            suggestion = _suggestion(key, known)
            if suggestion:
                message = f"unknown element `{key}`: did you mean `{suggestion}`?"
                self.problem("MISSPELLED_ELEMENT", message, *path, key)
            else:
                allowed = ", ".join(known)
                self.problem(
                    "UNKNOWN_ELEMENT", f"unknown element `{key}`: use {allowed}", *path, key
                )

    def policy(self, raw: Any) -> Policy | None:
        if not isinstance(raw, dict):
            self.problem("WRONG_TYPE", f"a policy must be a JSON object, not {_type_name(raw)}")
            return None
        self.check_keys(raw, POLICY_KEYS)
        version = raw.get("Version")
        if version is not None and version not in (VERSION_2012, VERSION_2008):
            shown = _shown(version)
            message = f"`Version` {shown} is not valid: use `{VERSION_2012}`"
            self.problem("INVALID_VERSION", message, "Version")
            version = None
        policy_id = raw.get("Id")
        if policy_id is not None and not isinstance(policy_id, str):
            self.problem("WRONG_TYPE", f"`Id` must be a string, not {_type_name(policy_id)}", "Id")
            policy_id = None
        if "Statement" not in raw:
            self.problem("MISSING_STATEMENT", "the policy has no `Statement` element")
            return None
        body = raw["Statement"]
        if isinstance(body, dict):
            entries: list[tuple[Any, tuple[str | int, ...]]] = [(body, ("Statement",))]
        elif isinstance(body, list):
            entries = [(item, ("Statement", i)) for i, item in enumerate(body)]
        else:
            message = f"`Statement` must be an object or an array, not {_type_name(body)}"
            self.problem("WRONG_TYPE", message, "Statement")
            return None
        statements = [self.statement(item, i, path) for i, (item, path) in enumerate(entries)]
        if self.problems:
            return None
        return Policy(version, tuple(s for s in statements if s is not None), policy_id)

    def statement(self, raw: Any, index: int, path: tuple[str | int, ...]) -> Statement | None:
        if not isinstance(raw, dict):
            self.problem(
                "WRONG_TYPE", f"a statement must be an object, not {_type_name(raw)}", *path
            )
            return None
        before = len(self.problems)
        self.check_keys(raw, STATEMENT_KEYS, *path)
        sid = raw.get("Sid")
        if sid is not None and not isinstance(sid, str):
            self.problem(
                "WRONG_TYPE", f"`Sid` must be a string, not {_type_name(sid)}", *path, "Sid"
            )
        effect_text = raw.get("Effect")
        effect: Effect | None = None
        if effect_text is None:
            self.problem(
                "MISSING_EFFECT", "the statement has no `Effect`: use `Allow` or `Deny`", *path
            )
        elif effect_text in ("Allow", "Deny"):
            effect = Effect(effect_text)
        else:
            shown = _shown(effect_text)
            message = f"`Effect` {shown} is not valid: use exactly `Allow` or `Deny`"
            self.problem("INVALID_EFFECT", message, *path, "Effect")
        for first, second in _EXCLUSIVE:
            if first in raw and second in raw:
                message = f"a statement cannot have both `{first}` and `{second}`"
                self.problem("CONFLICTING_ELEMENTS", message, *path, second)
        if "Action" not in raw and "NotAction" not in raw:
            self.problem("MISSING_ACTION", "the statement has no `Action` or `NotAction`", *path)
        principal = self.principal(raw, "Principal", path)
        not_principal = self.principal(raw, "NotPrincipal", path)
        action = self.strings(raw, "Action", path)
        not_action = self.strings(raw, "NotAction", path)
        resource = self.strings(raw, "Resource", path)
        not_resource = self.strings(raw, "NotResource", path)
        conditions = self.conditions(raw, path)
        if len(self.problems) > before or effect is None:
            return None
        return Statement(
            index=index,
            sid=sid if isinstance(sid, str) else None,
            effect=effect,
            principal=principal,
            not_principal=not_principal,
            action=action,
            not_action=not_action,
            resource=resource,
            not_resource=not_resource,
            conditions=conditions,
        )

    def strings(
        self, raw: dict[str, Any], key: str, path: tuple[str | int, ...]
    ) -> tuple[str, ...] | None:
        if key not in raw:
            return None
        value = raw[key]
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return tuple(value)
        if isinstance(value, list) and not value:
            self.problem("EMPTY_VALUE", f"`{key}` must not be an empty array", *path, key)
            return None
        if isinstance(value, list):
            bad = next(i for i, v in enumerate(value) if not isinstance(v, str))
            message = f"every `{key}` entry must be a string, not {_type_name(value[bad])}"
            self.problem("WRONG_TYPE", message, *path, key, bad)
            return None
        message = f"`{key}` must be a string or an array of strings, not {_type_name(value)}"
        self.problem("WRONG_TYPE", message, *path, key)
        return None

    def principal(
        self, raw: dict[str, Any], key: str, path: tuple[str | int, ...]
    ) -> PrincipalSpec | None:
        if key not in raw:
            return None
        value = raw[key]
        if value == "*":
            return PrincipalSpec(star=True)
        if not isinstance(value, dict):
            message = (
                f'`{key}` must be "*" or an object such as {{"AWS": ...}}, not {_type_name(value)}'
            )
            self.problem("INVALID_PRINCIPAL", message, *path, key)
            return None
        if not value:
            self.problem("EMPTY_VALUE", f"`{key}` must name at least one principal", *path, key)
            return None
        self.check_keys(value, PRINCIPAL_TYPES, *path, key)
        entries: list[tuple[str, tuple[str, ...]]] = []
        for kind in value:
            values = self.strings(value, kind, (*path, key))
            if values is not None and kind in PRINCIPAL_TYPES:
                entries.append((kind, values))
        return PrincipalSpec(star=False, entries=tuple(entries))

    def conditions(self, raw: dict[str, Any], path: tuple[str | int, ...]) -> tuple[Condition, ...]:
        if "Condition" not in raw:
            return ()
        block = raw["Condition"]
        where = (*path, "Condition")
        if not isinstance(block, dict):
            self.problem(
                "WRONG_TYPE", f"`Condition` must be an object, not {_type_name(block)}", *where
            )
            return ()
        self.check_duplicates(block, *where)
        found: list[Condition] = []
        for operator, entries in block.items():
            if parse_operator(operator) is None:
                message = f"unknown condition operator `{operator}`"
                self.problem("UNKNOWN_OPERATOR", message, *where, operator)
                continue
            if not isinstance(entries, dict) or not entries:
                message = (
                    f"`{operator}` must map condition keys to values, not {_type_name(entries)}"
                )
                self.problem("WRONG_TYPE", message, *where, operator)
                continue
            self.check_duplicates(entries, *where, operator)
            for key, values in entries.items():
                texts = self.condition_values(values, (*where, operator, key))
                if texts is not None:
                    found.append(Condition(operator, key, texts))
        return tuple(found)

    def condition_values(self, values: Any, path: tuple[str | int, ...]) -> tuple[str, ...] | None:
        items = values if isinstance(values, list) else [values]
        texts: list[str] = []
        for position, item in enumerate(items):
            text = condition_value_text(item)
            if text is None:
                message = (
                    f"a condition value must be a string, number or boolean, not {_type_name(item)}"
                )
                extra = (position,) if isinstance(values, list) else ()
                self.problem("WRONG_TYPE", message, *path, *extra)
                return None
            texts.append(text)
        return tuple(texts)


def condition_value_text(value: Any) -> str | None:
    """The string IAM compares for a JSON condition value; None for objects, arrays, null."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:  # over sys.get_int_max_str_digits() digits
            return None
    if isinstance(value, float):
        return repr(value)
    return None


def check_policy(raw: Any) -> tuple[Policy | None, tuple[Problem, ...]]:
    """Parse ``raw`` (decoded JSON), returning the policy or every problem found."""
    parser = _Parser()
    policy = parser.policy(raw)
    return policy, tuple(parser.problems)


def parse_policy(raw: Any) -> Policy:
    """Parse decoded JSON into a Policy; raise PolicyParseError listing every problem."""
    policy, problems = check_policy(raw)
    if problems or policy is None:
        raise PolicyParseError(problems)
    return policy


def parse_policy_text(text: str) -> Policy:
    """Parse policy JSON text (duplicate keys are an error, as in IAM)."""
    return parse_policy(load_policy_json(text))
