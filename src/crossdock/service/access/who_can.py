"""``crossdock who-can``: every principal of every account that can pull or push.

Each principal the data dir knows (``principals.py``) is decided for every action of the
verb through the Authorizer, both sides, SCPs and boundaries included. Principals that
are denied are left out; the others are ``allowed`` or ``conditional`` (the grant hinges
on request-time condition keys, see ``conditions.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crossdock.service.access.actions import VERBS
from crossdock.service.access.context import AccessContext
from crossdock.service.access.effective import Access, AccessResult
from crossdock.service.access.errors import AccessInputError
from crossdock.service.ecr.common import RepositoryRef


def access_json(result: AccessResult) -> dict[str, Any]:
    """One principal's row: who, how, and the statements that grant it."""
    principal = result.principal
    return {
        "account": principal.account_id,
        "principal": principal.arn,
        "type": principal.kind.value,
        "label": principal.label,
        "access": result.access.value,
        "conditionalOn": list(result.conditional_on),
        "grants": [grant.to_json() for grant in result.grants()],
    }


@dataclass(frozen=True, slots=True)
class WhoCan:
    """The principals that can ``verb`` the repository, by account then principal."""

    verb: str
    repository_arn: str
    entries: tuple[AccessResult, ...]

    def by_account(self) -> dict[str, list[AccessResult]]:
        """The entries grouped by the principal's account, in account order."""
        grouped: dict[str, list[AccessResult]] = {}
        for entry in self.entries:
            grouped.setdefault(entry.principal.account_id, []).append(entry)
        return grouped

    def to_json(self) -> list[dict[str, Any]]:
        """The ``--format json`` list: one object per principal."""
        return [access_json(entry) for entry in self.entries]


def verb_actions(verb: str) -> tuple[str, ...]:
    """The actions of ``pull`` or ``push``."""
    actions = VERBS.get(verb)
    if actions is None:
        raise AccessInputError(f"`{verb}` is not pull or push", "use who-can pull or who-can push")
    return actions


def who_can(context: AccessContext, verb: str, repository: RepositoryRef) -> WhoCan:
    """Every known principal that can ``verb`` (pull or push) ``repository``.

    Raises AccessInputError for an unknown repository or account.
    """
    actions = verb_actions(verb)
    record = context.inventory.repository(repository)
    checker = context.checker
    entries = []
    for account in context.inventory.account_ids():
        for principal in context.inventory.principals(account):
            result = checker.check(principal, actions, repository.arn, record.region)
            if result.access is not Access.DENIED:
                entries.append(result)
    return WhoCan(verb, repository.arn, tuple(entries))
