"""The linter's statement rules: principals, actions, resources, Sids.

Each rule takes a :class:`StatementView` (a statement that parsed cleanly, with its raw
JSON and its location) and yields findings. Condition rules live in
:mod:`crossdock.policy.lint_conditions`; the whole-document rules in
:mod:`crossdock.policy.lint`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from crossdock.core.arn import Arn, account_principal, is_account_id
from crossdock.core.errors import ArnError
from crossdock.policy.catalog import ecr_action, ecr_action_names, ecr_action_requires_star
from crossdock.policy.conditions import SetOperator, ValueKind, parse_operator
from crossdock.policy.context import Caller, PrincipalError
from crossdock.policy.findings import Finding, PolicyKind
from crossdock.policy.model import Effect, Statement
from crossdock.policy.parse import pointer
from crossdock.policy.wildcard import GlobStyle, glob_match, has_wildcard

Path = tuple[str | int, ...]
Rule = Callable[["StatementView"], Iterator[Finding]]

_ACTION = re.compile(r"[A-Za-z0-9-]+:[A-Za-z0-9*?]+")
_UNIQUE_ID = re.compile(r"A[A-Z]{3}[A-Z0-9]{12,124}")
_SID = re.compile(r"[A-Za-z0-9]*")
_VARIABLE = re.compile(r"\$\{[^}]*\}")
_REPOSITORY_PREFIX = "repository/"
_SUGGEST_MAX = 128
"""Names longer than this get no did-you-mean (difflib is quadratic in length)."""


def finding(code: str, message: str, path: Path) -> Finding:
    """A finding for ``code`` at the JSON location ``path``."""
    return Finding.of(code, message, pointer(*path))


def spread(raw: Any, path: Path) -> list[Path]:
    """The paths of the values of an element: one per array item, or the element itself."""
    if isinstance(raw, list):
        return [(*path, index) for index in range(len(raw))]
    return [path]


def did_you_mean(name: str, candidates: Iterable[str], prefix: str = "") -> str:
    """`` (did you mean `<prefix>X`?)`` for the closest candidate (any case), or ``""``."""
    if len(name) > _SUGGEST_MAX:
        return ""
    folded = {candidate.lower(): candidate for candidate in candidates}
    close = difflib.get_close_matches(name.lower(), list(folded), n=1, cutoff=0.75)
    return f" (did you mean `{prefix}{folded[close[0]]}`?)" if close else ""


def has_variable(text: str) -> bool:
    """True when ``text`` holds a ``${...}`` policy variable."""
    return _VARIABLE.search(text) is not None


@dataclass(frozen=True, slots=True)
class StatementView:
    """A statement that parsed cleanly, seen by the rules.

    ``raw`` is its JSON object (so a value's location is known), ``path`` the location of
    the statement itself, ``variables`` whether the policy's Version enables variables.
    """

    kind: PolicyKind
    statement: Statement
    raw: Mapping[str, Any]
    path: Path
    variables: bool

    def at(self, *parts: str | int) -> Path:
        """A location inside this statement."""
        return (*self.path, *parts)

    def values(self, element: str) -> list[tuple[str, Path]]:
        """The strings of ``Action``/``NotAction``/``Resource``/``NotResource`` with paths."""
        statement = self.statement
        found = {
            "Action": statement.action,
            "NotAction": statement.not_action,
            "Resource": statement.resource,
            "NotResource": statement.not_resource,
        }[element]
        if found is None:
            return []
        return list(zip(found, spread(self.raw[element], self.at(element)), strict=True))

    def principals(self, element: str) -> list[tuple[str, str, Path]]:
        """``(type, value, path)`` for each value of ``Principal`` or ``NotPrincipal``."""
        raw = self.raw.get(element)
        if raw is None:
            return []
        if raw == "*":
            return [("AWS", "*", self.at(element))]
        found: list[tuple[str, str, Path]] = []
        for kind, values in raw.items():
            texts = [values] if isinstance(values, str) else values
            paths = spread(values, self.at(element, kind))
            found.extend((kind, text, path) for text, path in zip(texts, paths, strict=True))
        return found


# --- Sid -------------------------------------------------------------------------------------


def sid_rule(view: StatementView) -> Iterator[Finding]:
    """IAM (identity and trust policies) accepts only ASCII letters and digits in a Sid."""
    sid = view.statement.sid
    if sid is None or view.kind not in (PolicyKind.IDENTITY, PolicyKind.TRUST):
        return
    if _SID.fullmatch(sid) is None:
        message = f"`Sid` `{sid}` is not valid in {view.kind.a_label}: use only A-Z, a-z, 0-9"
        yield finding("INVALID_SID", message, view.at("Sid"))


# --- principals ----------------------------------------------------------------------------


def principal_presence_rule(view: StatementView) -> Iterator[Finding]:
    """Principal required in resource-based policies and forbidden elsewhere."""
    statement, kind = view.statement, view.kind
    present = [e for e in ("Principal", "NotPrincipal") if e in view.raw]
    if kind.has_principal and not present:
        message = f"a statement in {kind.a_label} must name a `Principal`"
        yield finding("MISSING_PRINCIPAL", message, view.path)
    if not kind.has_principal:
        for element in present:
            message = f"`{element}` is not allowed in {kind.a_label}: remove it"
            yield finding("PRINCIPAL_NOT_ALLOWED", message, view.at(element))
        return
    if statement.not_principal is None:
        return
    if kind is PolicyKind.TRUST:
        message = "`NotPrincipal` is not allowed in a trust policy: name the principals to trust"
        yield finding("NOT_PRINCIPAL_IN_TRUST", message, view.at("NotPrincipal"))
    elif statement.effect is Effect.ALLOW:
        message = (
            "`NotPrincipal` with `Allow` grants access to every principal not listed, in "
            "every AWS account: use `Principal` instead"
        )
        yield finding("NOT_PRINCIPAL_WITH_ALLOW", message, view.at("NotPrincipal"))
    else:
        yield from _not_principal_accounts(view)


def _not_principal_accounts(view: StatementView) -> Iterator[Finding]:
    listed = view.principals("NotPrincipal")
    accounts = {account_principal(value) for kind, value, _ in listed if kind == "AWS"}
    for kind, value, path in listed:
        account = _arn_account(value) if kind == "AWS" else None
        if account is None or account in accounts or account_principal(value) is not None:
            continue
        message = (
            f"`{value}` is exempt from this Deny only if its account "
            f"`arn:aws:iam::{account}:root` is listed too: add it to `NotPrincipal`"
        )
        yield finding("NOT_PRINCIPAL_MISSING_ACCOUNT", message, path)


def _arn_account(value: str) -> str | None:
    try:
        account = Arn.parse(value).account
    except ArnError:
        return None
    return account if is_account_id(account) else None


def principal_values_rule(view: StatementView) -> Iterator[Finding]:
    """Each principal value must name something that can call ECR or assume a role."""
    if not view.kind.has_principal:
        return
    for element in ("Principal", "NotPrincipal"):
        for kind, value, path in view.principals(element):
            if kind == "AWS":
                yield from _aws_principal(value, path)
            elif kind in ("Federated", "CanonicalUser") and view.kind is not PolicyKind.TRUST:
                message = (
                    f'a `{kind}` principal cannot be used in {view.kind.a_label}: use "AWS" '
                    f'or "Service"'
                )
                yield finding("INVALID_PRINCIPAL", message, path)


def _aws_principal(value: str, path: Path) -> Iterator[Finding]:
    if value == "*":
        return
    if has_wildcard(value):
        message = (
            f'`{value}`: a principal cannot hold wildcards except the whole value "*": '
            f"name the account, user or role, or use a condition such as aws:PrincipalArn"
        )
        yield finding("PARTIAL_WILDCARD_PRINCIPAL", message, path)
    elif value.isascii() and value.isdigit():
        if not is_account_id(value):
            yield from account_finding(value, path)
    elif not value.startswith("arn:"):
        if _UNIQUE_ID.fullmatch(value) is None:
            message = f"`{value}` is not a principal: use a 12-digit account id or an IAM ARN"
            yield finding("INVALID_PRINCIPAL", message, path)
    else:
        yield from _principal_arn(value, path)


def _principal_arn(value: str, path: Path) -> Iterator[Finding]:
    try:
        arn = Arn.parse(value)
    except ArnError as error:
        yield finding("INVALID_ARN", f"{error}: use arn:aws:iam::<account>:...", path)
        return
    if not is_account_id(arn.account):
        yield from account_finding(arn.account, path, value)
        return
    try:
        Caller.parse(value)
    except PrincipalError:
        message = (
            f"`{value}` is not a principal: use an account (`:root`), user, role, "
            f"assumed-role session or federated user ARN"
        )
        yield finding("INVALID_PRINCIPAL", message, path)


def account_finding(account: str, path: Path, within: str | None = None) -> Iterator[Finding]:
    """INVALID_ACCOUNT_ID for ``account`` (found inside the ARN ``within``, if given)."""
    where = f" in `{within}`" if within is not None else ""
    digits = f"{len(account)} digits" if account.isdigit() else "not a number"
    message = (
        f"the account id `{account}`{where} is {digits}: AWS account ids are exactly 12 "
        f"digits (keep the leading zeros)"
    )
    yield finding("INVALID_ACCOUNT_ID", message, path)


_RESTRICTING_KEYS = frozenset(
    {
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:principalservicename",
        "aws:sourceaccount",
        "aws:sourcearn",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:sourceip",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:sourcevpcarn",
        "aws:vpcsourceip",
        "aws:userid",
        "aws:username",
    }
)
"""Keys that, tested positively, limit who can use a ``"*"`` principal."""


def public_access_rule(view: StatementView) -> Iterator[Finding]:
    """``"*"`` on an Allow in a resource-based policy, with no condition narrowing it."""
    statement = view.statement
    if not view.kind.has_principal or statement.effect is not Effect.ALLOW:
        return
    if statement.principal is None:
        return
    star = statement.principal.star or "*" in statement.principal.values("AWS")
    if not star or any(_restricts(c.operator, c.key, c.values) for c in statement.conditions):
        return
    opens = {
        PolicyKind.REPOSITORY: "opens the repository to every AWS account",
        PolicyKind.REGISTRY: "opens the registry to every AWS account",
        PolicyKind.TRUST: "lets every AWS account assume this role",
    }[view.kind]
    message = (
        f'`Principal` "*" {opens}: name the accounts, or add a condition such as '
        f"aws:PrincipalOrgID or aws:PrincipalAccount"
    )
    yield finding("PUBLIC_ACCESS", message, view.at("Principal"))


def _restricts(operator: str, key: str, values: tuple[str, ...]) -> bool:
    spec = parse_operator(operator)
    if spec is None or key.lower() not in _RESTRICTING_KEYS:
        return False
    base = spec.base
    if base.negated or spec.if_exists or base.kind is ValueKind.NULL:
        return False
    if spec.set_operator is SetOperator.ALL:
        return False
    return "*" not in values


# --- actions -------------------------------------------------------------------------------


def action_rule(view: StatementView) -> Iterator[Finding]:
    """Actions are ``service:name``; ``ecr:`` names must exist and suit the policy kind."""
    for element in ("Action", "NotAction"):
        for value, path in view.values(element):
            if value == "*":
                continue
            if _ACTION.fullmatch(value) is None:
                message = f"`{value}` is not an action: write `service:ActionName`, e.g. ecr:*"
                yield finding("INVALID_ACTION", message, path)
                continue
            service = value.split(":", 1)[0].lower()
            if service == "ecr":
                yield from _ecr_action(view, element, value, path)
            elif element == "Action" and view.kind in (PolicyKind.REPOSITORY, PolicyKind.REGISTRY):
                message = (
                    f"`{value}` is not an ECR action: {view.kind.a_label} only governs ecr: "
                    f"actions, so this entry has no effect"
                )
                yield finding("NON_ECR_ACTION", message, path)


def _ecr_action(view: StatementView, element: str, value: str, path: Path) -> Iterator[Finding]:
    if not matching_ecr_actions(value):
        if has_wildcard(value):
            message = f"`{value}` matches no ECR action"
        else:
            hint = did_you_mean(value.split(":", 1)[1], ecr_action_names(), "ecr:")
            message = f"`{value}` is not an ECR action{hint}"
        yield finding("UNKNOWN_ACTION", message, path)
        return
    star = element == "Action" and ecr_action_requires_star(value)
    if view.kind is PolicyKind.REPOSITORY and star:
        message = (
            f"`{value}` is not a repository action: ECR rejects it in a repository policy; "
            f'grant it in an identity policy on "Resource": "*"'
        )
        yield finding("NON_REPOSITORY_ACTION", message, path)


def matching_ecr_actions(value: str) -> tuple[str, ...]:
    """The ECR action names an ``ecr:`` action pattern matches (any case)."""
    name = value.split(":", 1)[1]
    if not has_wildcard(name):
        action = ecr_action(name)
        return () if action is None else (action.name,)
    return tuple(
        candidate
        for candidate in ecr_action_names()
        if glob_match(name, candidate, ignore_case=True)
    )


# --- resources -----------------------------------------------------------------------------


def resource_presence_rule(view: StatementView) -> Iterator[Finding]:
    """Resource is implicit in repository and trust policies, required elsewhere."""
    present = [e for e in ("Resource", "NotResource") if e in view.raw]
    kind = view.kind
    if kind is PolicyKind.REPOSITORY:
        for element in present:
            message = (
                f"`{element}` in a repository policy: the policy applies to its own repository, "
                f"and ECR has rejected policies with `Resource`; remove it"
            )
            yield finding("RESOURCE_IN_REPOSITORY_POLICY", message, view.at(element))
    elif kind is PolicyKind.TRUST:
        for element in present:
            message = f"`{element}` is not allowed in a role trust policy: remove it"
            yield finding("RESOURCE_IN_TRUST_POLICY", message, view.at(element))
    elif not present:
        message = f"a statement in {kind.a_label} needs `Resource` (or `NotResource`)"
        if kind is PolicyKind.REGISTRY:
            message = "a registry policy statement needs `Resource`, e.g. arn:aws:ecr:...:*"
        yield finding("MISSING_RESOURCE", message, view.path)


def resource_values_rule(view: StatementView) -> Iterator[Finding]:
    """Every resource is ``*`` or a well-formed ARN with a 12-digit account."""
    for element in ("Resource", "NotResource"):
        for value, path in view.values(element):
            yield from check_arn(value, path)


def check_arn(value: str, path: Path) -> Iterator[Finding]:
    """Findings for a resource ARN pattern: shape, service segment, account id."""
    if value == "*":
        return
    try:
        arn = Arn.parse(value)
    except ArnError as error:
        yield finding("INVALID_ARN", f'{error}: use "*" or arn:partition:service:...', path)
        return
    if "${" in ":".join(value.split(":", 5)[:5]):
        return  # a variable before the resource part: LITERAL_VARIABLE explains it
    if has_wildcard(arn.service) or has_variable(arn.service):
        message = f"`{value}`: the service segment of an ARN cannot hold wildcards or variables"
        yield finding("INVALID_ARN", message, path)
    elif arn.service == "ecr" and not (arn.region and arn.account):
        message = (
            f"`{value}`: an ECR ARN names a region and an account, "
            f"e.g. arn:aws:ecr:us-east-1:111122223333:repository/name"
        )
        yield finding("INVALID_ARN", message, path)
    if literal_account(arn.account) and not is_account_id(arn.account):
        yield from account_finding(arn.account, path, value)


def literal_account(account: str) -> bool:
    """An account segment that must be an id: not empty, ``aws``, a wildcard or variable."""
    return bool(account) and account != "aws" and not has_wildcard(account) and "$" not in account


def action_resource_rule(view: StatementView) -> Iterator[Finding]:
    """An ``ecr:`` action none of the statement's resources can ever match."""
    statement = view.statement
    if statement.resource is None:
        return
    resources = statement.resource
    for value, path in view.values("Action"):
        if not value.lower().startswith("ecr:") or _ACTION.fullmatch(value) is None:
            continue
        names = matching_ecr_actions(value)
        if names and not any(_reachable(name, resources) for name in names):
            yield finding("ACTION_RESOURCE_MISMATCH", _mismatch(value, names[0]), path)


def _mismatch(value: str, name: str) -> str:
    if has_wildcard(value):
        return (
            f"`{value}` matches no ECR action that a `Resource` of this statement can match: "
            f'repository actions need a repository ARN, registry-level actions "*"'
        )
    if ecr_action_requires_star(name):
        return (
            f'`{value}` is authorized on "*" only, which no `Resource` of this statement '
            f'matches: grant it in a statement with "Resource": "*"'
        )
    return (
        f"`{value}` applies to repositories, and no `Resource` of this statement can match "
        f"a repository ARN (arn:aws:ecr:<region>:<account>:repository/<name>)"
    )


def _reachable(name: str, resources: tuple[str, ...]) -> bool:
    if ecr_action_requires_star(name):
        return any(glob_match(r, "*", style=GlobStyle.ARN_RESOURCE) for r in resources)
    return any(may_match_repository(r) for r in resources)


def may_match_repository(pattern: str) -> bool:
    """False only when ``pattern`` certainly matches no ECR repository ARN."""
    parts = pattern.split(":", 5)
    if len(parts) < 6:
        return pattern != "" and (has_wildcard(pattern) or has_variable(pattern))
    service, resource = parts[2], parts[5]
    if not has_wildcard(service) and service.lower() != "ecr":
        return False
    head = re.split(r"[*?]|\$\{", resource, maxsplit=1)[0]
    if head != resource:
        return head.startswith(_REPOSITORY_PREFIX) or _REPOSITORY_PREFIX.startswith(head)
    return resource.startswith(_REPOSITORY_PREFIX) and len(resource) > len(_REPOSITORY_PREFIX)


def literal_variable_rule(view: StatementView) -> Iterator[Finding]:
    """``${...}`` is a variable only under Version 2012-10-17, and only after the 5th colon."""
    for element in ("Resource", "NotResource"):
        for value, path in view.values(element):
            if not has_variable(value):
                continue
            parts = value.split(":", 5)
            head = value if len(parts) < 6 else ":".join(parts[:5])
            if not view.variables:
                yield finding("LITERAL_VARIABLE", _old_version(value), path)
            elif "${" in head:
                message = (
                    f"`{value}`: policy variables are replaced only in the resource part of "
                    f"an ARN (after the fifth colon); here the variable is literal text"
                )
                yield finding("LITERAL_VARIABLE", message, path)


def _old_version(value: str) -> str:
    return (
        f"`{value}` holds a policy variable, but without Version 2012-10-17 it is compared "
        f'as literal text: add "Version": "2012-10-17"'
    )
