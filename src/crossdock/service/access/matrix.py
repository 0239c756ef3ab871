"""``crossdock access-matrix``: effective pull and push, repositories × principals.

Every cell is decided exactly as ``who-can`` decides (``effective.py``), so the matrix
and ``who-can`` cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crossdock.service.access.actions import PULL_ACTIONS, PUSH_ACTIONS
from crossdock.service.access.context import AccessContext
from crossdock.service.access.effective import Access
from crossdock.service.access.principals import KnownPrincipal
from crossdock.service.ecr.common import repository_arn


@dataclass(frozen=True, slots=True)
class Repository:
    """A column of the matrix."""

    account_id: str
    region: str
    name: str

    @property
    def arn(self) -> str:
        """The repository ARN."""
        return repository_arn(self.region, self.account_id, self.name)


@dataclass(frozen=True, slots=True)
class Cell:
    """One principal's pull and push access to one repository."""

    pull: Access
    push: Access

    @property
    def label(self) -> str:
        """``pull+push``, ``pull``, ``push`` or ``none``; ``?`` marks a conditional one."""
        parts = [
            verb + ("?" if access is Access.CONDITIONAL else "")
            for verb, access in (("pull", self.pull), ("push", self.push))
            if access is not Access.DENIED
        ]
        return "+".join(parts) or "none"


@dataclass(frozen=True, slots=True)
class AccessMatrix:
    """Rows are principals, columns repositories, both grouped by account."""

    accounts: tuple[str, ...]
    principals: tuple[KnownPrincipal, ...]
    repositories: tuple[Repository, ...]
    cells: tuple[tuple[Cell, ...], ...]
    """``cells[row][column]``: principal ``row``, repository ``column``."""

    def to_json(self) -> dict[str, Any]:
        """The JSON form: repositories, principals, and one object per cell."""
        return {
            "accounts": list(self.accounts),
            "repositories": [
                {"account": r.account_id, "region": r.region, "name": r.name, "arn": r.arn}
                for r in self.repositories
            ],
            "principals": [
                {
                    "account": p.account_id,
                    "principal": p.arn,
                    "type": p.kind.value,
                    "label": p.label,
                }
                for p in self.principals
            ],
            "cells": [
                {
                    "principal": principal.arn,
                    "repository": repository.arn,
                    "pull": cell.pull.value,
                    "push": cell.push.value,
                    "label": cell.label,
                }
                for principal, row in zip(self.principals, self.cells, strict=True)
                for repository, cell in zip(self.repositories, row, strict=True)
            ],
        }


def access_matrix(context: AccessContext, accounts: tuple[str, ...] | None = None) -> AccessMatrix:
    """The matrix over ``accounts`` (default: every known account): their repositories
    against their principals. Raises AccessInputError for an unknown account."""
    inventory = context.inventory
    chosen = (
        tuple(inventory.require_account(a) for a in accounts)
        if accounts
        else tuple(inventory.account_ids())
    )
    repositories = tuple(
        Repository(r.account_id, r.region, r.name)
        for account in chosen
        for r in inventory.repositories(account)
    )
    principals = tuple(p for account in chosen for p in inventory.principals(account))
    checker = context.checker
    rows = []
    for principal in principals:
        row = []
        for repository in repositories:
            pull = checker.check(principal, PULL_ACTIONS, repository.arn, repository.region)
            push = checker.check(principal, PUSH_ACTIONS, repository.arn, repository.region)
            row.append(Cell(pull.access, push.access))
        rows.append(tuple(row))
    return AccessMatrix(chosen, principals, repositories, tuple(rows))
