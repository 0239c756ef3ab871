"""``crossdock share`` / ``unshare``: plan both sides of a grant, apply them, roll back.

The repository side is the owner's repository policy; the identity side is a customer
managed policy in the consumer account (attached to the consumer user or role when
``--to`` names one). Both sides are reached through small protocols
(:class:`RepositorySide`, :class:`IdentitySide`) that ``service/share_aws.py`` implements
over boto3, so the same code runs against crossdock and against AWS.

Applying is all or nothing: each write is a step with its undo; when a step fails, the
steps already done are undone in reverse order (the previous repository policy is put
back exactly, or deleted when there was none) and :class:`ShareResult` says so.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from crossdock.core.errors import CrossdockError
from crossdock.service.share_policy import (
    IdentityGrant,
    RepositoryRef,
    ShareConflictError,
    ShareRequest,
    TargetKind,
    merge,
    same_policy,
    unmerge,
)


class ShareSideError(CrossdockError):
    """A call to one side failed (not found, access denied, ...): one line, for the user."""


@dataclass(frozen=True, slots=True)
class ManagedPolicy:
    """A customer managed policy as the identity side reads it."""

    arn: str
    document: Mapping[str, Any]
    attachment_count: int


class RepositorySide(Protocol):
    """The owner account's repository policy (Get/Set/DeleteRepositoryPolicy)."""

    def get_policy(self, repository: RepositoryRef) -> str | None:
        """The policy text, None when the repository has none; ShareSideError if the
        repository does not exist or cannot be read."""
        ...

    def set_policy(self, repository: RepositoryRef, text: str) -> None:
        """SetRepositoryPolicy."""
        ...

    def delete_policy(self, repository: RepositoryRef) -> None:
        """DeleteRepositoryPolicy."""
        ...


class IdentitySide(Protocol):
    """The consumer account's IAM, as far as a share needs it."""

    def get_policy(self, arn: str) -> ManagedPolicy | None:
        """The managed policy with its default version's document, None when absent."""
        ...

    def create_policy(self, name: str, document: str) -> None:
        """CreatePolicy."""
        ...

    def delete_policy(self, arn: str) -> None:
        """DeletePolicy."""
        ...

    def is_attached(self, kind: TargetKind, name: str, arn: str) -> bool:
        """True when the policy is attached to the user or role ``name``."""
        ...

    def attach(self, kind: TargetKind, name: str, arn: str) -> None:
        """AttachUserPolicy / AttachRolePolicy."""
        ...

    def detach(self, kind: TargetKind, name: str, arn: str) -> None:
        """DetachUserPolicy / DetachRolePolicy."""
        ...


class IdentityMode(Enum):
    """What happens on the consumer side."""

    WRITE = "write"
    """crossdock holds credentials for the consumer account and writes the policy."""
    PRINT = "print"
    """The consumer's administrator must attach the printed policy."""
    NONE = "none"
    """No identity policy is needed."""


@dataclass(frozen=True, slots=True)
class PolicyChange:
    """One policy before and after: what the diff shows."""

    title: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None

    @property
    def changed(self) -> bool:
        """False when applying would write nothing."""
        return not same_policy(self.before, self.after)


@dataclass(frozen=True, slots=True)
class AttachmentChange:
    """Attaching (share) or detaching (unshare) the identity policy, when needed."""

    kind: TargetKind
    name: str
    arn: str
    attach: bool
    needed: bool

    @property
    def description(self) -> str:
        """``attach <arn> to user puller`` and the like."""
        verb = "attach" if self.attach else "detach"
        where = "to" if self.attach else "from"
        return f"{verb} {self.arn} {where} {self.kind.value} {self.name}"


@dataclass(frozen=True, slots=True)
class SharePlan:
    """Both sides of a share or unshare, read from the live policies, not yet applied."""

    request: ShareRequest
    unshare: bool
    repository: PolicyChange
    repository_text: str | None
    """The repository policy text as read (the rollback restores exactly this)."""
    identity_mode: IdentityMode
    identity_grant: IdentityGrant | None
    identity: PolicyChange | None
    attachment: AttachmentChange | None
    notes: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """False when nothing would be written on either side."""
        return (
            self.repository.changed
            or (self.identity is not None and self.identity.changed)
            or (self.attachment is not None and self.attachment.needed)
        )


@dataclass
class ShareResult:
    """What applying did: each write done, and the rollback if one failed."""

    applied: list[str] = field(default_factory=list)
    failure: str | None = None
    rolled_back: list[str] = field(default_factory=list)
    rollback_failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every step succeeded."""
        return self.failure is None


def policy_json(document: Mapping[str, Any]) -> str:
    """The text crossdock sends for a policy document (compact, key order kept)."""
    return json.dumps(document, separators=(",", ":"))


def _load(text: str | None, what: str) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError:
        raise ShareSideError(f"the {what} is not JSON") from None
    if not isinstance(loaded, dict):
        raise ShareSideError(f"the {what} is not a JSON object")
    return loaded


def _identity_title(grant: IdentityGrant) -> str:
    return f"identity policy {grant.name} in {grant.account}"


def _mode_and_notes(
    request: ShareRequest, grant: IdentityGrant | None, identity: IdentitySide | None
) -> tuple[IdentityMode, tuple[str, ...]]:
    target = request.target
    if grant is None:
        return IdentityMode.NONE, (
            "no identity policy needed: the consumer is in the owner account and the"
            " repository policy names it",
        )
    if request.lambda_arn is not None:
        note = (
            "Lambda fetches the image as lambda.amazonaws.com, which has no identity policies;"
            f" the user or role that creates or updates the function in {grant.account}"
            f" needs {grant.name}"
        )
    elif target is not None and target.kind is TargetKind.ORGANIZATION:
        return IdentityMode.PRINT, (
            f"every principal of the organization {target.value} outside the owner account"
            " still needs this identity policy (crossdock cannot write it in every member"
            " account): its administrators must attach it",
        )
    elif grant.attach_kind is None:
        note = (
            f"{grant.name} is not attached to anyone: attach it to the users and roles of"
            f" {grant.account} that pull (the account root needs none)"
        )
    else:
        note = ""
    if identity is None:
        return IdentityMode.PRINT, (
            f"crossdock holds no credentials for {grant.account}: its administrator must"
            " create and attach this identity policy (or pass --to-profile)",
            *((note,) if note and grant.attach_kind is None else ()),
        )
    return IdentityMode.WRITE, (note,) if note else ()


def plan(
    request: ShareRequest,
    repository: RepositorySide,
    identity: IdentitySide | None,
    *,
    unshare: bool = False,
) -> SharePlan:
    """Read both sides and work out what share (or unshare) would change.

    Raises ShareConflictError when a name share owns holds something share did not write,
    ShareSideError when a side cannot be read.
    """
    repo = request.repository
    text = repository.get_policy(repo)
    before = _load(text, "repository policy")
    grants = request.grants()
    after = unmerge(before, grants) if unshare else merge(before, grants)
    repo_change = PolicyChange(f"repository policy of {repo.arn}", before, after)
    grant = request.identity()
    mode, notes = _mode_and_notes(request, grant, identity)
    if unshare and mode is IdentityMode.WRITE:
        notes = ()
    if unshare and grant is not None and mode is IdentityMode.PRINT:
        notes = (
            f"crossdock holds no credentials for the consumer side: its administrators may"
            f" now detach and delete {grant.name}",
        )
    identity_change: PolicyChange | None = None
    attachment: AttachmentChange | None = None
    if grant is not None and mode is IdentityMode.PRINT:
        identity_change = PolicyChange(
            _identity_title(grant), None, None if unshare else dict(grant.document)
        )
    elif grant is not None and identity is not None:
        identity_change, attachment = _plan_identity(grant, identity, unshare)
    return SharePlan(
        request, unshare, repo_change, text, mode, grant, identity_change, attachment, notes
    )


def _plan_identity(
    grant: IdentityGrant, identity: IdentitySide, unshare: bool
) -> tuple[PolicyChange, AttachmentChange | None]:
    existing = identity.get_policy(grant.arn)
    where = f"identity policy {grant.arn}"
    if existing is not None and not same_policy(existing.document, grant.document):
        raise ShareConflictError(
            f"the {where} exists with other content that crossdock share did not write:"
            " rename or delete it, then run the command again"
        )
    current = None if existing is None else existing.document
    attachment = None
    attached = False
    if grant.attach_kind is not None and grant.attach_name is not None:
        attached = existing is not None and identity.is_attached(
            grant.attach_kind, grant.attach_name, grant.arn
        )
        needed = attached if unshare else not attached
        attachment = AttachmentChange(
            grant.attach_kind, grant.attach_name, grant.arn, not unshare, needed
        )
    title = _identity_title(grant)
    if not unshare:
        return PolicyChange(title, current, dict(grant.document)), attachment
    # Unshare deletes the policy only when nobody else still has it attached.
    others = 0 if existing is None else existing.attachment_count - (1 if attached else 0)
    return PolicyChange(title, current, current if others > 0 else None), attachment


@dataclass(frozen=True, slots=True)
class _Step:
    """One write with its undo."""

    intent: str
    """What it does, as in ``could not <intent>``."""
    done: str
    run: Callable[[], None]
    undone: str
    undo: Callable[[], None]

    def reversed(self) -> _Step:
        """The opposite step (detach for attach, create for delete)."""
        return _Step(self.undone_intent, self.undone, self.undo, self.done, self.run)

    @property
    def undone_intent(self) -> str:
        """The intent of the opposite step (``undone`` without its past tense)."""
        verb, _, rest = self.undone.partition(" ")
        return f"{_PRESENT.get(verb, verb)} {rest}"


_PRESENT = {
    "created": "create",
    "deleted": "delete",
    "attached": "attach",
    "detached": "detach",
    "restored": "restore",
    "set": "set",
}


def _repository_steps(plan_: SharePlan, repository: RepositorySide) -> list[_Step]:
    change, repo = plan_.repository, plan_.request.repository
    if not change.changed:
        return []
    previous = plan_.repository_text

    def restore() -> None:
        if previous is None:
            repository.delete_policy(repo)
        else:
            repository.set_policy(repo, previous)

    undone = (
        f"deleted the repository policy of {repo.arn} again (it had none)"
        if previous is None
        else f"restored the previous repository policy of {repo.arn}"
    )
    if change.after is None:
        return [
            _Step(
                f"delete the repository policy of {repo.arn}",
                f"deleted the repository policy of {repo.arn}",
                lambda: repository.delete_policy(repo),
                undone,
                restore,
            )
        ]
    text = policy_json(change.after)
    return [
        _Step(
            f"set the repository policy of {repo.arn}",
            f"set the repository policy of {repo.arn}",
            lambda: repository.set_policy(repo, text),
            undone,
            restore,
        )
    ]


def _identity_steps(plan_: SharePlan, identity: IdentitySide) -> list[_Step]:
    grant, change, attachment = plan_.identity_grant, plan_.identity, plan_.attachment
    if plan_.identity_mode is not IdentityMode.WRITE or grant is None or change is None:
        return []
    document = policy_json(grant.document)
    create = _Step(
        f"create {grant.arn}",
        f"created {grant.arn}",
        lambda: identity.create_policy(grant.name, document),
        f"deleted {grant.arn}",
        lambda: identity.delete_policy(grant.arn),
    )
    steps: list[_Step] = []
    if not plan_.unshare and change.before is None:
        steps.append(create)
    if attachment is not None and attachment.needed:
        kind, name, arn = attachment.kind, attachment.name, attachment.arn
        attach = _Step(
            f"attach {arn} to {kind.value} {name}",
            f"attached {arn} to {kind.value} {name}",
            lambda: identity.attach(kind, name, arn),
            f"detached {arn} from {kind.value} {name}",
            lambda: identity.detach(kind, name, arn),
        )
        steps.append(attach if attachment.attach else attach.reversed())
    if plan_.unshare and change.before is not None and change.after is None:
        steps.append(create.reversed())
    return steps


def apply(
    plan_: SharePlan, repository: RepositorySide, identity: IdentitySide | None
) -> ShareResult:
    """Write the plan: the repository side first, then the identity side; when a step
    fails, undo every step done, newest first."""
    steps = _repository_steps(plan_, repository)
    if identity is not None:
        steps += _identity_steps(plan_, identity)
    result = ShareResult()
    done: list[_Step] = []
    for step in steps:
        try:
            step.run()
        except ShareSideError as error:
            result.failure = f"could not {step.intent}: {error}"
            break
        done.append(step)
        result.applied.append(step.done)
    if result.failure is None:
        return result
    for step in reversed(done):
        try:
            step.undo()
        except ShareSideError as error:
            result.rollback_failures.append(f"could not undo `{step.done}`: {error}")
        else:
            result.rolled_back.append(step.undone)
    return result
