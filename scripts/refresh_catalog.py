#!/usr/bin/env python3
"""Regenerate the ECR catalogue (src/crossdock/policy/catalog/ecr.py) from AWS's service reference.

AWS publishes the actions, resource types, condition keys and operation-to-action map of
every service as JSON ("Simplified AWS service authorization reference information"); ECR's
document is https://servicereference.us-east-1.amazonaws.com/v1/ecr/ecr.json. This script
fetches it (or reads a local copy given with --from), cross-checks it against the ECR service
model that botocore ships, and rewrites the catalogue module. The output is deterministic:
everything is sorted and laid out so that `ruff format` leaves it unchanged, so running the
script twice over the same input is a no-op.

examples:
  python scripts/refresh_catalog.py                      fetch from AWS, rewrite ecr.py
  python scripts/refresh_catalog.py --check              exit 1 if ecr.py is out of date
  python scripts/refresh_catalog.py --from ecr.json      use a downloaded copy
  python scripts/refresh_catalog.py --from ecr.json --date 2026-11-28 --output /tmp/ecr.py

The script needs only the standard library; botocore is optional (without it the
cross-check is skipped with a warning). See docs/catalog.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeAlias

DEFAULT_URL = "https://servicereference.us-east-1.amazonaws.com/v1/ecr/ecr.json"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO_ROOT / "src" / "crossdock" / "policy" / "catalog" / "ecr.py"
SERVICE = "ecr"
LINE_LENGTH = 100
MAX_LABEL = 88  # keeps `SOURCE = "<label>"` within LINE_LENGTH
FETCH_TIMEOUT_SECONDS = 30

# AWS's access-level flags, in the order that decides an action's single level: an action
# flagged both "Permissions management" and "Write" is Permissions management, and so on.
_LEVEL_FLAGS = (
    ("IsPermissionManagement", "PERMISSIONS_MANAGEMENT"),
    ("IsTaggingOnly", "TAGGING"),
    ("IsWrite", "WRITE"),
    ("IsList", "LIST"),
)
_SAFE_TEXT = re.compile(r"[\x20-\x7e]*")


class ServiceReferenceError(Exception):
    """The service reference document cannot be turned into a catalogue."""


@dataclass(frozen=True)
class Action:
    name: str
    access_level: str  # an AccessLevel member name, e.g. "READ"
    resource_types: tuple[str, ...]
    condition_keys: tuple[str, ...]


@dataclass(frozen=True)
class ResourceType:
    name: str
    arn_formats: tuple[str, ...]
    condition_keys: tuple[str, ...]


@dataclass(frozen=True)
class Key:
    name: str
    types: tuple[str, ...]


@dataclass(frozen=True)
class Operation:
    name: str
    authorized_actions: tuple[str, ...]  # "service:Action"


@dataclass(frozen=True)
class Catalogue:
    version: str
    actions: tuple[Action, ...]
    resource_types: tuple[ResourceType, ...]
    condition_keys: tuple[Key, ...]
    operations: tuple[Operation, ...] | None  # None: the document has no Operations map


# --- reading the service reference ---------------------------------------------------------------


def fetch(url: str) -> bytes:
    """Download the service reference document."""
    request = urllib.request.Request(url, headers={"User-Agent": "crossdock-refresh-catalog"})
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as response:
        body: bytes = response.read()
    return body


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ServiceReferenceError(f"{where}: expected a non-empty string, got {value!r}")
    if _SAFE_TEXT.fullmatch(value) is None or '"' in value or "\\" in value:
        raise ServiceReferenceError(f"{where}: unexpected characters in {value!r}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ServiceReferenceError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ServiceReferenceError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _names(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(values)))


def _access_level(raw: dict[str, Any], where: str) -> str:
    annotations = _object(raw.get("Annotations", {}), f"{where}.Annotations")
    properties = _object(annotations.get("Properties", {}), f"{where}.Annotations.Properties")
    for flag, level in _LEVEL_FLAGS:
        value = properties.get(flag, False)
        if not isinstance(value, bool):
            raise ServiceReferenceError(
                f"{where}.Annotations.Properties.{flag}: expected a boolean"
            )
        if value:
            return level
    return "READ"


def parse_reference(document: Any) -> Catalogue:
    """Turn a servicereference JSON document into a sorted, validated catalogue."""
    doc = _object(document, "document")
    name = doc.get("Name")
    if name != SERVICE:
        raise ServiceReferenceError(f"document.Name: expected {SERVICE!r}, got {name!r}")
    version = doc.get("Version", "")
    if not isinstance(version, str):
        raise ServiceReferenceError("document.Version: expected a string")
    version = _text(version, "document.Version") if version else ""

    actions: dict[str, Action] = {}
    for i, raw_action in enumerate(_list(doc.get("Actions"), "Actions")):
        where = f"Actions[{i}]"
        raw = _object(raw_action, where)
        action_name = _text(raw.get("Name"), f"{where}.Name")
        if action_name.lower() in actions:
            raise ServiceReferenceError(f"{where}.Name: duplicate action {action_name!r}")
        resources = [
            _text(_object(r, f"{where}.Resources[{j}]").get("Name"), f"{where}.Resources[{j}]")
            for j, r in enumerate(_list(raw.get("Resources"), f"{where}.Resources"))
        ]
        keys = [
            _text(k, f"{where}.ActionConditionKeys[{j}]")
            for j, k in enumerate(
                _list(raw.get("ActionConditionKeys"), f"{where}.ActionConditionKeys")
            )
        ]
        actions[action_name.lower()] = Action(
            name=action_name,
            access_level=_access_level(raw, where),
            resource_types=_names(resources),
            condition_keys=_names(keys),
        )
    if not actions:
        raise ServiceReferenceError("Actions: the document lists no actions")

    resource_types = []
    for i, raw_resource in enumerate(_list(doc.get("Resources"), "Resources")):
        where = f"Resources[{i}]"
        raw = _object(raw_resource, where)
        resource_types.append(
            ResourceType(
                name=_text(raw.get("Name"), f"{where}.Name"),
                arn_formats=_names(
                    _text(a, f"{where}.ARNFormats[{j}]")
                    for j, a in enumerate(_list(raw.get("ARNFormats"), f"{where}.ARNFormats"))
                ),
                condition_keys=_names(
                    _text(k, f"{where}.ConditionKeys[{j}]")
                    for j, k in enumerate(_list(raw.get("ConditionKeys"), f"{where}.ConditionKeys"))
                ),
            )
        )

    declared_keys = []
    for i, raw_key in enumerate(_list(doc.get("ConditionKeys"), "ConditionKeys")):
        where = f"ConditionKeys[{i}]"
        raw = _object(raw_key, where)
        types = tuple(
            _text(t, f"{where}.Types[{j}]")
            for j, t in enumerate(_list(raw.get("Types"), f"{where}.Types"))
        )
        declared_keys.append(
            Key(name=_text(raw.get("Name"), f"{where}.Name"), types=types or ("String",))
        )

    operations: list[Operation] | None = None
    if "Operations" in doc:
        operations = []
        for i, raw_operation in enumerate(_list(doc.get("Operations"), "Operations")):
            where = f"Operations[{i}]"
            raw = _object(raw_operation, where)
            authorized = []
            for j, raw_authorized in enumerate(
                _list(raw.get("AuthorizedActions"), f"{where}.AuthorizedActions")
            ):
                item = _object(raw_authorized, f"{where}.AuthorizedActions[{j}]")
                service = _text(item.get("Service"), f"{where}.AuthorizedActions[{j}].Service")
                action = _text(item.get("Name"), f"{where}.AuthorizedActions[{j}].Name")
                authorized.append(f"{service.lower()}:{action}")
            operations.append(
                Operation(_text(raw.get("Name"), f"{where}.Name"), _names(authorized))
            )

    return Catalogue(
        version=version,
        actions=tuple(sorted(actions.values(), key=lambda a: a.name)),
        resource_types=tuple(sorted(resource_types, key=lambda r: r.name)),
        condition_keys=tuple(sorted(declared_keys, key=lambda k: k.name)),
        operations=None if operations is None else tuple(sorted(operations, key=lambda o: o.name)),
    )


# --- cross-checking against botocore -------------------------------------------------------------


def botocore_operations() -> tuple[str, tuple[str, ...]] | None:
    """(botocore version, ECR API operation names), or None when botocore is not installed."""
    try:
        import botocore  # type: ignore[import-untyped]
        import botocore.session  # type: ignore[import-untyped]
    except ImportError:
        return None
    model = botocore.session.get_session().get_service_model(SERVICE)
    version = str(getattr(botocore, "__version__", "unknown"))
    return version, tuple(sorted(model.operation_names))


def _consistency(catalogue: Catalogue) -> list[str]:
    """Warnings for actions naming resource types or condition keys the document omits."""
    messages: list[str] = []
    resource_names = {r.name for r in catalogue.resource_types}
    for action in catalogue.actions:
        for resource in action.resource_types:
            if resource not in resource_names:
                messages.append(
                    f"warning: action {action.name} names unknown resource type {resource}"
                )
    declared = {k.name for k in catalogue.condition_keys}
    for action in catalogue.actions:
        for key in action.condition_keys:
            if key not in declared:
                messages.append(
                    f"warning: action {action.name} uses undeclared condition key {key}"
                )
    return messages


def reconcile(
    catalogue: Catalogue, api: tuple[str, tuple[str, ...]] | None
) -> tuple[Catalogue, list[str]]:
    """Check the reference against botocore's operations; fill in a missing Operations map.

    Returns the (possibly completed) catalogue and the messages to print.
    """
    messages = _consistency(catalogue)
    action_names = {a.name.lower(): a.name for a in catalogue.actions}
    if api is None:
        messages.append("warning: botocore is not installed; skipped the cross-check")
        if catalogue.operations is None:
            messages.append("warning: the reference has no Operations map; writing none")
            return replace(catalogue, operations=()), messages
        return catalogue, messages

    version, api_operations = api
    operations = catalogue.operations
    if operations is None:
        messages.append(
            "note: the reference has no Operations map; mapping each botocore operation to the "
            "action of the same name"
        )
        operations = tuple(
            Operation(op, (f"{SERVICE}:{action_names[op.lower()]}",))
            for op in api_operations
            if op.lower() in action_names
        )
        catalogue = replace(catalogue, operations=operations)

    mapped = {o.name.lower(): o for o in operations}
    for op in api_operations:
        if op.lower() in action_names:
            continue
        if op.lower() in mapped:
            actions = ", ".join(mapped[op.lower()].authorized_actions)
            messages.append(
                f"note: operation {op} has no action of its own; it is authorized by {actions}"
            )
        else:
            messages.append(
                f"warning: botocore {version} operation {op} is missing from the reference "
                "(neither an action nor in the Operations map)"
            )
    known_api = {op.lower() for op in api_operations}
    for operation in operations:
        if operation.name.lower() not in known_api:
            messages.append(
                f"note: the reference maps operation {operation.name}, "
                f"unknown to botocore {version}"
            )
    permission_only = [a.name for a in catalogue.actions if a.name.lower() not in known_api]
    if permission_only:
        messages.append(
            f"note: permission-only actions (no API operation): {', '.join(permission_only)}"
        )
    return catalogue, messages


# --- rendering -----------------------------------------------------------------------------------
# A tiny pretty-printer: a node is written on one line when it fits, otherwise exploded one item
# per line with a trailing comma. ruff format keeps both shapes (the trailing comma is "magic"),
# so the output is stable under `ruff format` whatever the widths.


@dataclass(frozen=True)
class _Raw:
    code: str


@dataclass(frozen=True)
class _Tuple:
    items: tuple[_Node, ...]


@dataclass(frozen=True)
class _Call:
    func: str
    kwargs: tuple[tuple[str, _Node], ...]


_Node: TypeAlias = _Raw | _Tuple | _Call


def _str(value: str) -> _Raw:
    return _Raw(f'"{value}"')


def _strings(values: Iterable[str]) -> _Tuple:
    return _Tuple(tuple(_str(v) for v in values))


def _flat(node: _Node) -> str:
    if isinstance(node, _Raw):
        return node.code
    if isinstance(node, _Tuple):
        if len(node.items) == 1:
            return f"({_flat(node.items[0])},)"
        return "(" + ", ".join(_flat(i) for i in node.items) + ")"
    args = ", ".join(f"{k}={_flat(v)}" for k, v in node.kwargs)
    return f"{node.func}({args})"


def _render(node: _Node, indent: int, prefix: str, suffix: str) -> list[str]:
    pad = "    " * indent
    line = f"{pad}{prefix}{_flat(node)}{suffix}"
    if len(line) <= LINE_LENGTH or isinstance(node, _Raw):
        if len(line) > LINE_LENGTH:
            raise ServiceReferenceError(f"cannot fit {line.strip()!r} in {LINE_LENGTH} columns")
        return [line]
    if isinstance(node, _Tuple):
        opening, closing = "(", ")"
        children: list[tuple[str, _Node]] = [("", item) for item in node.items]
    else:
        opening, closing = f"{node.func}(", ")"
        children = [(f"{k}=", v) for k, v in node.kwargs]
    lines = [f"{pad}{prefix}{opening}"]
    for child_prefix, child in children:
        lines.extend(_render(child, indent + 1, child_prefix, ","))
    lines.append(f"{pad}{closing}{suffix}")
    return lines


def _assignment(name: str, annotation: str, items: Sequence[_Node]) -> list[str]:
    if not items:
        return [f"{name}: {annotation} = ()"]
    lines = [f"{name}: {annotation} = ("]
    for item in items:
        lines.extend(_render(item, 1, "", ","))
    lines.append(")")
    return lines


_PRELUDE = '''\
"""Amazon ECR (service prefix ``ecr``): actions, resource types, condition keys and operations.

Generated data: do not edit. Query it through :mod:`crossdock.policy.catalog`; docs/catalog.md
says where it comes from and how to refresh it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from crossdock.policy.catalog.global_keys import ConditionKey


class AccessLevel(StrEnum):
    """The access level AWS assigns to an action (one per action)."""

    READ = "Read"
    LIST = "List"
    WRITE = "Write"
    PERMISSIONS_MANAGEMENT = "Permissions management"
    TAGGING = "Tagging"


@dataclass(frozen=True, slots=True)
class EcrAction:
    """One ``ecr:`` IAM action.

    ``name`` has AWS's exact casing and no ``ecr:`` prefix. ``resource_types`` is empty when
    the action supports no resource-level permissions, so a statement must name ``"*"``.
    ``condition_keys`` are the keys AWS lists for the action, resource keys included.
    """

    name: str
    access_level: AccessLevel
    resource_types: tuple[str, ...]
    condition_keys: tuple[str, ...]

    @property
    def iam_name(self) -> str:
        """The action as written in a policy, e.g. ``ecr:BatchGetImage``."""
        return f"ecr:{self.name}"

    @property
    def requires_star(self) -> bool:
        """True when the action takes no resource ARN, only ``"*"``."""
        return not self.resource_types


@dataclass(frozen=True, slots=True)
class EcrResourceType:
    """A resource type ECR actions can be scoped to, with its ARN templates and keys."""

    name: str
    arn_formats: tuple[str, ...]
    condition_keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EcrOperation:
    """An ECR API operation and the IAM actions (``service:Action``) that authorize it."""

    name: str
    authorized_actions: tuple[str, ...]
'''


def render(catalogue: Catalogue, *, source: str, retrieved: str) -> str:
    """The text of the catalogue module for ``catalogue``."""
    header = [
        "# GENERATED by scripts/refresh_catalog.py -- do not edit by hand; re-run the script.",
        f"# Source: {source}",
        f"# Reference version: {catalogue.version or 'unversioned'}",
        f"# Retrieved: {retrieved}",
    ]
    constants = [
        f'SERVICE_PREFIX = "{SERVICE}"',
        f'SOURCE = "{source}"',
        f'REFERENCE_VERSION = "{catalogue.version}"',
        f'RETRIEVED = "{retrieved}"',
    ]
    actions = [
        _Call(
            "EcrAction",
            (
                ("name", _str(a.name)),
                ("access_level", _Raw(f"AccessLevel.{a.access_level}")),
                ("resource_types", _strings(a.resource_types)),
                ("condition_keys", _strings(a.condition_keys)),
            ),
        )
        for a in catalogue.actions
    ]
    resources = [
        _Call(
            "EcrResourceType",
            (
                ("name", _str(r.name)),
                ("arn_formats", _strings(r.arn_formats)),
                ("condition_keys", _strings(r.condition_keys)),
            ),
        )
        for r in catalogue.resource_types
    ]
    keys = [
        _Call("ConditionKey", (("name", _str(k.name)), ("types", _strings(k.types))))
        for k in catalogue.condition_keys
    ]
    operations = [
        _Call(
            "EcrOperation",
            (("name", _str(o.name)), ("authorized_actions", _strings(o.authorized_actions))),
        )
        for o in catalogue.operations or ()
    ]
    blocks = [
        "\n".join(header) + "\n" + _PRELUDE.rstrip("\n"),
        "\n".join(constants),
        "\n".join(_assignment("ACTIONS", "tuple[EcrAction, ...]", actions)),
        "\n".join(_assignment("RESOURCE_TYPES", "tuple[EcrResourceType, ...]", resources)),
        "\n".join(_assignment("CONDITION_KEYS", "tuple[ConditionKey, ...]", keys)),
        "\n".join(_assignment("OPERATIONS", "tuple[EcrOperation, ...]", operations)),
    ]
    text = "\n\n\n".join(blocks[:2]) + "\n\n" + "\n\n".join(blocks[2:]) + "\n"
    for number, line in enumerate(text.splitlines(), start=1):
        if len(line) > LINE_LENGTH:
            raise ServiceReferenceError(
                f"generated line {number} is longer than {LINE_LENGTH} columns"
            )
    return text


# --- command line --------------------------------------------------------------------------------


def _date(value: str) -> str:
    try:
        return datetime.date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{value}` is not a date: use YYYY-MM-DD") from None


def _label(value: str) -> str:
    if not value or len(value) > MAX_LABEL or _SAFE_TEXT.fullmatch(value) is None or '"' in value:
        raise argparse.ArgumentTypeError(f"use 1-{MAX_LABEL} printable ASCII characters, no quotes")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface (its --help is the script's usage documentation)."""
    parser = argparse.ArgumentParser(
        prog="refresh_catalog.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--from",
        dest="source_file",
        metavar="FILE",
        type=Path,
        help="read the service reference JSON from FILE instead of fetching it",
    )
    parser.add_argument(
        "--url", default=DEFAULT_URL, help="where to fetch from (default: %(default)s)"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="module to write (default: src/crossdock/policy/catalog/ecr.py)",
    )
    parser.add_argument(
        "--date",
        type=_date,
        default=None,
        help="retrieval date recorded in the module (default: today, UTC)",
    )
    parser.add_argument(
        "--source-label",
        type=_label,
        default=None,
        help="where the data came from, recorded in the module (default: the URL)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the module differs from what would be generated",
    )
    parser.add_argument(
        "--skip-botocore",
        action="store_true",
        help="do not cross-check against botocore's ECR model",
    )
    return parser


_RECORDED = re.compile(
    r'^SOURCE = "(?P<source>[^"]*)"\n'
    r'REFERENCE_VERSION = "[^"]*"\n'
    r'RETRIEVED = "(?P<retrieved>[^"]*)"$',
    re.M,
)


def _recorded(text: str | None) -> tuple[str, str] | None:
    """The (source label, retrieval date) an existing catalogue module records, if any."""
    match = None if text is None else _RECORDED.search(text)
    return None if match is None else (match["source"], match["retrieved"])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the refresh; returns the process exit status."""
    args = build_parser().parse_args(argv)
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    default_label = args.url if args.source_file is None else f"local copy of {args.url}"
    if args.source_label is None:
        try:
            _label(default_label)
        except argparse.ArgumentTypeError as error:
            print(f"error: cannot record `{default_label}` as the source: {error}", file=sys.stderr)
            print("give a shorter one with --source-label", file=sys.stderr)
            return 2
    try:
        raw = args.source_file.read_bytes() if args.source_file is not None else fetch(args.url)
        catalogue = parse_reference(json.loads(raw))
        api = None if args.skip_botocore else botocore_operations()
        catalogue, messages = reconcile(catalogue, api)
        if args.skip_botocore:
            messages = [m for m in messages if "botocore is not installed" not in m]
        text = render(
            catalogue, source=args.source_label or default_label, retrieved=args.date or today
        )
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else None
        recorded = _recorded(current)
        if recorded is not None:
            # Same data as the module already holds: keep the provenance it records, so a
            # re-run over the same input changes nothing.
            source, retrieved = recorded
            same = render(
                catalogue, source=args.source_label or source, retrieved=args.date or retrieved
            )
            if same == current:
                text = same
    except (OSError, urllib.error.URLError) as error:
        print(f"error: cannot read the service reference: {error}", file=sys.stderr)
        return 2
    except (json.JSONDecodeError, ServiceReferenceError) as error:
        print(f"error: the service reference is not usable: {error}", file=sys.stderr)
        return 2
    for message in messages:
        print(message, file=sys.stderr)

    summary = f"{len(catalogue.actions)} actions, {len(catalogue.operations or ())} operations"
    if current == text:
        print(f"{args.output}: up to date ({summary})", file=sys.stderr)
        return 0
    if args.check:
        print(f"{args.output}: out of date; run scripts/refresh_catalog.py", file=sys.stderr)
        return 1
    args.output.write_text(text, encoding="utf-8")
    print(f"{args.output}: written ({summary})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
