"""Amazon Resource Names: parse and format, never guess."""

from __future__ import annotations

import re
from dataclasses import dataclass

from crossdock.core.errors import AccountIdError, ArnError

_ACCOUNT_ID = re.compile(r"[0-9]{12}")


def is_account_id(value: str) -> bool:
    """True when ``value`` is exactly twelve ASCII digits."""
    return _ACCOUNT_ID.fullmatch(value) is not None


def require_account_id(value: str) -> str:
    """Return ``value`` when it is a 12-digit account id, else raise AccountIdError."""
    if not is_account_id(value):
        raise AccountIdError(value)
    return value


def account_principal(value: str) -> str | None:
    """The account a Principal value names as a whole (``123456789012`` or its root ARN)."""
    if is_account_id(value):
        return value
    parts = value.split(":")
    if len(parts) == 6 and parts[0] == "arn" and parts[2] == "iam" and parts[5] == "root":
        return parts[4]
    return None


@dataclass(frozen=True, slots=True)
class Arn:
    """The six colon-separated parts of an ARN; ``resource`` may itself hold colons."""

    partition: str
    service: str
    region: str
    account: str
    resource: str

    @classmethod
    def parse(cls, value: str) -> Arn:
        """Split ``arn:partition:service:region:account:resource``; raise ArnError if malformed."""
        parts = value.split(":", 5)
        if len(parts) != 6:
            raise ArnError(value, "expected 6 colon-separated parts")
        prefix, partition, service, region, account, resource = parts
        if prefix != "arn":
            raise ArnError(value, "must start with `arn:`")
        if not partition:
            raise ArnError(value, "the partition is empty")
        if not service:
            raise ArnError(value, "the service is empty")
        if not resource:
            raise ArnError(value, "the resource is empty")
        return cls(partition, service, region, account, resource)

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"
