"""What ``crossdock share`` writes, as pure functions: statements, names, merge, unmerge.

A share is a set of *grants*. Each grant is one repository-policy statement with a Sid
derived from what is shared, so that running ``share`` again finds its own statement and
changes nothing, and ``unshare`` removes exactly that statement:

=====================  =======================================================
``CrossdockPull<who>``  pull actions for ``--to`` (no ``--push``)
``CrossdockPush<who>``  pull and push actions for ``--to`` with ``--push``
``CrossdockLambda<A>``  ``lambda.amazonaws.com``, ``aws:sourceArn`` of account A's functions
``CrossdockLambdaAccount<A>``  the account-level grant Lambda also needs (cross-account)
=====================  =======================================================

``<who>`` is the consumer account id, ``Org`` + the organization id without its hyphen,
or the account id + ``User``/``Role``/``Session`` + the entity name (with a short hash
of the ARN when the name has a path or characters other than letters and digits).

A statement with one of these Sids but other content was not written by ``share``:
merging or removing refuses (:class:`ShareConflictError`) rather than overwrite it.
Statements are compared by meaning (a string and a one-element list are equal, order of
values does not matter), because ECR re-serializes the policy text it stores.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from crossdock.core.arn import Arn, account_principal, is_account_id
from crossdock.core.errors import ArnError, CrossdockError

PULL_ACTIONS = (
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchCheckLayerAvailability",
)
"""What a pull needs on the repository (docker and skopeo also HEAD blobs)."""
PUSH_ACTIONS = (
    "ecr:PutImage",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
)
"""What a push needs besides :data:`PULL_ACTIONS` (spec §3.3)."""
LAMBDA_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
"""What Lambda needs to fetch a function's container image (Lambda developer guide)."""
LOGIN_ACTION = "ecr:GetAuthorizationToken"
LAMBDA_SERVICE = "lambda.amazonaws.com"
POLICY_VERSION = "2012-10-17"

_ORG_ID = re.compile(r"o-[a-z0-9]{10,32}")
_ALNUM = re.compile(r"[^A-Za-z0-9]")
_POLICY_NAME_LIMIT = 128


class ShareInputError(CrossdockError, ValueError):
    """An argument of ``share``/``unshare`` is not usable (one line: what and what to do)."""


class ShareConflictError(CrossdockError):
    """A policy holds something under a name ``share`` owns, but ``share`` did not write it."""


class TargetKind(Enum):
    """What ``--to`` names."""

    ACCOUNT = "account"
    ORGANIZATION = "organization"
    USER = "user"
    ROLE = "role"
    SESSION = "session"


@dataclass(frozen=True, slots=True)
class Target:
    """The consumer: an account, an organization, or one principal ARN."""

    kind: TargetKind
    value: str
    """The account id, the organization id, or the principal ARN."""
    account: str | None
    """The consumer account (None for an organization)."""

    @property
    def entity_name(self) -> str | None:
        """The user or role name an identity policy is attached to (None for the others)."""
        if self.kind is TargetKind.USER or self.kind is TargetKind.ROLE:
            return self.value.rsplit("/", 1)[-1]
        if self.kind is TargetKind.SESSION:
            return self.value.split("/")[1]
        return None

    @property
    def principal(self) -> Any:
        """The ``Principal`` element of the repository statement."""
        if self.kind is TargetKind.ORGANIZATION:
            return "*"
        if self.kind is TargetKind.ACCOUNT:
            return {"AWS": f"arn:aws:iam::{self.value}:root"}
        return {"AWS": self.value}

    @property
    def condition(self) -> dict[str, Any] | None:
        """The organization condition, for the organization pattern only."""
        if self.kind is TargetKind.ORGANIZATION:
            return {"StringEquals": {"aws:PrincipalOrgID": self.value}}
        return None

    @property
    def sid_suffix(self) -> str:
        """The part of the Sid that says who the grant is for."""
        if self.kind is TargetKind.ACCOUNT:
            return self.value
        if self.kind is TargetKind.ORGANIZATION:
            return "Org" + self.value.replace("-", "")
        name = self.entity_name or ""
        label = {TargetKind.USER: "User", TargetKind.ROLE: "Role"}.get(self.kind, "Session")
        resource = Arn.parse(self.value).resource
        plain = _ALNUM.sub("", name)
        simple = resource.split("/") == [resource.split("/")[0], name] and plain == name
        tail = "" if simple else _short_hash(self.value)
        return f"{self.account}{label}{plain}{tail}"


def _short_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:8]


def parse_target(value: str) -> Target:
    """Read ``--to``: a 12-digit account id, ``o-...``, or a user/role/session/root ARN."""
    if is_account_id(value):
        return Target(TargetKind.ACCOUNT, value, value)
    if value.startswith("o-"):
        if _ORG_ID.fullmatch(value) is None:
            raise ShareInputError(
                f"`{value}` is not an organization id: use o- and 10 to 32 lowercase letters"
                " or digits"
            )
        return Target(TargetKind.ORGANIZATION, value, None)
    try:
        arn = Arn.parse(value)
    except ArnError:
        raise ShareInputError(
            f"`{value}` is not a consumer: use a 12-digit account id, an organization id"
            " (o-...) or a user or role ARN"
        ) from None
    root = account_principal(value)
    if root is not None:
        return Target(TargetKind.ACCOUNT, root, root)
    if not is_account_id(arn.account):
        raise ShareInputError(f"`{value}` has no 12-digit account id")
    parts = arn.resource.split("/")
    if arn.service == "iam" and parts[0] == "user" and len(parts) >= 2 and parts[-1]:
        return Target(TargetKind.USER, value, arn.account)
    if arn.service == "iam" and parts[0] == "role" and len(parts) >= 2 and parts[-1]:
        return Target(TargetKind.ROLE, value, arn.account)
    if arn.service == "sts" and parts[0] == "assumed-role" and len(parts) == 3 and all(parts):
        return Target(TargetKind.SESSION, value, arn.account)
    raise ShareInputError(
        f"`{value}` is not a user, role or assumed-role session ARN: share with one of those,"
        " an account id or an organization id"
    )


@dataclass(frozen=True, slots=True)
class RepositoryRef:
    """A repository: its owner account, region and name."""

    account: str
    region: str
    name: str

    @property
    def arn(self) -> str:
        """``arn:aws:ecr:<region>:<account>:repository/<name>``."""
        return f"arn:aws:ecr:{self.region}:{self.account}:repository/{self.name}"


@dataclass(frozen=True, slots=True)
class Grant:
    """One repository-policy statement a share adds."""

    sid: str
    statement: Mapping[str, Any]
    actions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class IdentityGrant:
    """The identity policy the consumer side needs, and whom to attach it to."""

    account: str
    name: str
    document: Mapping[str, Any]
    attach_kind: TargetKind | None
    """USER or ROLE when the policy is attached to one entity; None to leave it unattached."""
    attach_name: str | None

    @property
    def arn(self) -> str:
        """The customer managed policy's ARN in the consumer account."""
        return f"arn:aws:iam::{self.account}:policy/{self.name}"


@dataclass(frozen=True, slots=True)
class ShareRequest:
    """Everything ``share``/``unshare`` was asked: what, to whom, how."""

    repository: RepositoryRef
    target: Target | None
    push: bool = False
    lambda_arn: str | None = None

    @property
    def mode(self) -> str:
        """``pull``, ``push`` or ``lambda``: names the Sid and the identity policy."""
        if self.lambda_arn is not None:
            return "lambda"
        return "push" if self.push else "pull"

    @property
    def lambda_account(self) -> str | None:
        """The account of the Lambda function, when ``--lambda`` was given."""
        return None if self.lambda_arn is None else Arn.parse(self.lambda_arn).account

    @property
    def consumer_account(self) -> str | None:
        """The account whose principals receive the share (None for an organization)."""
        if self.lambda_arn is not None:
            return self.lambda_account
        return None if self.target is None else self.target.account

    def grants(self) -> tuple[Grant, ...]:
        """The repository-policy statements this share consists of."""
        if self.lambda_arn is not None:
            return self._lambda_grants()
        target = self.target
        if target is None:  # pragma: no cover - make_request guarantees a target
            raise ShareInputError("--to is required")
        actions = PULL_ACTIONS + PUSH_ACTIONS if self.push else PULL_ACTIONS
        sid = ("CrossdockPush" if self.push else "CrossdockPull") + target.sid_suffix
        statement: dict[str, Any] = {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": target.principal,
            "Action": list(actions),
        }
        if target.condition is not None:
            statement["Condition"] = target.condition
        return (Grant(sid, statement, actions),)

    def _lambda_grants(self) -> tuple[Grant, ...]:
        arn = Arn.parse(self.lambda_arn or "")
        source = f"arn:{arn.partition}:lambda:{arn.region}:{arn.account}:function:*"
        service_sid = f"CrossdockLambda{arn.account}"
        service = {
            "Sid": service_sid,
            "Effect": "Allow",
            "Principal": {"Service": LAMBDA_SERVICE},
            "Action": list(LAMBDA_ACTIONS),
            "Condition": {"StringLike": {"aws:sourceArn": source}},
        }
        grants = [Grant(service_sid, service, LAMBDA_ACTIONS)]
        if arn.account != self.repository.account:
            account_sid = f"CrossdockLambdaAccount{arn.account}"
            account = {
                "Sid": account_sid,
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{arn.account}:root"},
                "Action": list(LAMBDA_ACTIONS),
            }
            grants.append(Grant(account_sid, account, LAMBDA_ACTIONS))
        return tuple(grants)

    def identity(self) -> IdentityGrant | None:
        """The consumer's identity policy; None when no principal needs one (same account)."""
        account = self.consumer_account
        if account == self.repository.account:
            return None
        repo = self.repository
        actions = self.grants()[0].actions
        statements: list[dict[str, Any]] = [
            {
                "Sid": "Crossdock" + self.mode.capitalize(),
                "Effect": "Allow",
                "Action": list(actions),
                "Resource": repo.arn,
            }
        ]
        if self.lambda_arn is None:
            statements.append(
                {
                    "Sid": "CrossdockLogin",
                    "Effect": "Allow",
                    "Action": LOGIN_ACTION,
                    "Resource": "*",
                }
            )
        target = self.target
        attach_kind: TargetKind | None = None
        if self.lambda_arn is None and target is not None and target.entity_name is not None:
            attach_kind = TargetKind.USER if target.kind is TargetKind.USER else TargetKind.ROLE
        return IdentityGrant(
            account=account or "",
            name=identity_policy_name(self.mode, repo),
            document={"Version": POLICY_VERSION, "Statement": statements},
            attach_kind=attach_kind,
            attach_name=target.entity_name if attach_kind is not None and target else None,
        )


def identity_policy_name(mode: str, repository: RepositoryRef) -> str:
    """``crossdock-<mode>-<owner>-<repository>`` (``/`` becomes ``+``, which repository
    names never hold, so distinct repositories get distinct names)."""
    name = f"crossdock-{mode}-{repository.account}-{repository.name.replace('/', '+')}"
    if len(name) <= _POLICY_NAME_LIMIT:
        return name
    return name[: _POLICY_NAME_LIMIT - 9] + "-" + _short_hash(name)


def make_request(
    repository: RepositoryRef, to: str | None, push: bool, lambda_arn: str | None
) -> ShareRequest:
    """Check the arguments together and build the request (ShareInputError if unusable)."""
    if lambda_arn is None:
        if to is None:
            raise ShareInputError("--to is required: an account id, o-... or a principal ARN")
        target = parse_target(to)
        if target.kind is TargetKind.ACCOUNT and target.account == repository.account:
            raise ShareInputError(
                f"`{to}` owns the repository: its principals need only identity policies"
            )
        return ShareRequest(repository, target, push)
    if push:
        raise ShareInputError("--push cannot be combined with --lambda: Lambda only pulls")
    try:
        arn = Arn.parse(lambda_arn)
    except ArnError:
        arn = None
    valid = (
        arn is not None
        and arn.service == "lambda"
        and is_account_id(arn.account)
        and arn.resource.startswith("function:")
        and len(arn.resource) > len("function:")
    )
    if arn is None or not valid:
        raise ShareInputError(
            f"`{lambda_arn}` is not a Lambda function ARN"
            " (arn:aws:lambda:REGION:ACCOUNT:function:NAME)"
        )
    if arn.region != repository.region:
        raise ShareInputError(
            f"the function is in {arn.region} but the repository is in {repository.region}:"
            " Lambda pulls images only from its own region"
        )
    consumer = None
    if to is not None:
        consumer = parse_target(to)
        if consumer.kind is not TargetKind.ACCOUNT or consumer.account != arn.account:
            raise ShareInputError(
                f"with --lambda, --to must be the function's account {arn.account} (or omitted)"
            )
    return ShareRequest(repository, consumer, False, lambda_arn)


# --- comparing and merging statements ---------------------------------------------------


def _canonical(value: Any) -> Any:
    """A comparable form: a string and a one-element list are equal, lists are unordered."""
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _canonical(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        items = {repr(item): item for item in map(_item, value)}
        return ("[]", tuple(items[key] for key in sorted(items)))
    return ("[]", (value,))


def _item(value: Any) -> Any:
    return _canonical(value) if isinstance(value, Mapping | list | tuple) else value


def same_statement(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """True when two statements mean the same (order and string-vs-list do not matter)."""
    return bool(_canonical(a) == _canonical(b))


def statements_of(policy: Mapping[str, Any] | None) -> list[Any]:
    """The policy's statements as a list (``Statement`` may be one object)."""
    if policy is None:
        return []
    body = policy.get("Statement")
    if body is None:
        return []
    return list(body) if isinstance(body, list) else [body]


def _sid_of(statement: Any) -> str | None:
    return statement.get("Sid") if isinstance(statement, Mapping) else None


def _conflict(sid: str, where: str) -> ShareConflictError:
    return ShareConflictError(
        f"the {where} has a statement with Sid `{sid}` that crossdock share did not write:"
        " rename or remove that statement, then run the command again"
    )


def merge(
    policy: Mapping[str, Any] | None, grants: Iterable[Grant], where: str = "repository policy"
) -> dict[str, Any]:
    """``policy`` with every grant's statement added once; other statements are kept as
    they are, in their order. A grant already present is left alone (idempotent)."""
    out: dict[str, Any] = {"Version": POLICY_VERSION} if policy is None else dict(policy)
    statements = statements_of(policy)
    for grant in grants:
        found = [s for s in statements if _sid_of(s) == grant.sid]
        if found:
            if not all(same_statement(s, grant.statement) for s in found):
                raise _conflict(grant.sid, where)
            continue
        statements.append(dict(grant.statement))
    single = policy is not None and not isinstance(policy.get("Statement"), list)
    if single and len(statements) == 1:  # nothing added: keep the single-object shape
        return out
    out["Statement"] = statements
    return out


def unmerge(
    policy: Mapping[str, Any] | None, grants: Iterable[Grant], where: str = "repository policy"
) -> dict[str, Any] | None:
    """``policy`` without the grants' statements; None when no statement is left (the
    repository policy is then deleted). Grants not present are skipped."""
    if policy is None:
        return None
    statements = statements_of(policy)
    kept = list(statements)
    for grant in grants:
        found = [s for s in kept if _sid_of(s) == grant.sid]
        if found and not all(same_statement(s, grant.statement) for s in found):
            raise _conflict(grant.sid, where)
        kept = [s for s in kept if _sid_of(s) != grant.sid]
    if not kept:
        return None
    out = dict(policy)
    if len(kept) == len(statements):
        return out
    out["Statement"] = kept
    return out


def same_policy(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    """True when two documents mean the same (both absent, or equal statements and keys)."""
    if a is None or b is None:
        return a is None and b is None
    rest_a = {k: v for k, v in a.items() if k != "Statement"}
    rest_b = {k: v for k, v in b.items() if k != "Statement"}
    if bool(_canonical(rest_a) != _canonical(rest_b)):
        return False
    left, right = statements_of(a), statements_of(b)
    return len(left) == len(right) and all(
        isinstance(x, Mapping) and isinstance(y, Mapping) and same_statement(x, y)
        for x, y in zip(left, right, strict=True)
    )


def granted_actions(grants: Sequence[Grant]) -> tuple[str, ...]:
    """Every action the grants cover, each once, in order."""
    seen: dict[str, None] = {}
    for grant in grants:
        for action in grant.actions:
            seen.setdefault(action, None)
    return tuple(seen)
