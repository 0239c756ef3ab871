"""Who exists: the IAM side answers this for the ECR side (policy validation and binding)."""

from __future__ import annotations

from typing import Protocol


class PrincipalDirectory(Protocol):
    """Resolves principal ARNs to the unique ids that policies bind to, and back.

    AWS binds a resource policy's user and role principals to the entity's unique id when
    the policy is saved: a deleted and recreated user with the same name no longer matches.
    """

    def account_exists(self, account_id: str) -> bool:
        """True when crossdock knows the account."""
        ...

    def unique_id(self, arn: str) -> str | None:
        """``AIDA...`` for an existing user ARN, ``AROA...`` for an existing role ARN, else None."""
        ...

    def arn_of(self, unique_id: str) -> str | None:
        """The current ARN of the user or role with ``unique_id``; None once it is deleted."""
        ...
