"""STS over the Query protocol: the one operation table."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from crossdock.api.context import CallContext
from crossdock.api.query.shapes import ParsedValue
from crossdock.service.errors import InvalidParameterError
from crossdock.service.sts import StsService

Params = Mapping[str, ParsedValue]
Result = dict[str, Any] | None
StsHandler = Callable[[StsService, CallContext, Params], Result]


def _get_caller_identity(sts: StsService, ctx: CallContext, p: Params) -> Result:
    identity = sts.get_caller_identity(ctx.principal)
    return {"UserId": identity.user_id, "Account": identity.account, "Arn": identity.arn}


def _assume_role(sts: StsService, ctx: CallContext, p: Params) -> Result:
    if p.get("PolicyArns"):
        # Ignoring them would give the session more than the caller asked for.
        raise InvalidParameterError(
            "PolicyArns (managed session policies) are not supported yet: pass the policy"
            " document as Policy",
            code="ValidationError",
        )
    tags = [(tag["Key"], tag.get("Value", "")) for tag in p.get("Tags") or ()]
    assumed = sts.assume_role(
        ctx.principal,
        ctx.info,
        p["RoleArn"],
        p["RoleSessionName"],
        duration=p.get("DurationSeconds"),
        external_id=p.get("ExternalId"),
        policy=p.get("Policy"),
        tags=tags,
    )
    return {
        "Credentials": {
            "AccessKeyId": assumed.access_key_id,
            "SecretAccessKey": assumed.secret_access_key,
            "SessionToken": assumed.session_token,
            "Expiration": assumed.expiration,
        },
        "AssumedRoleUser": {"AssumedRoleId": assumed.assumed_role_id, "Arn": assumed.arn},
    }


STS_OPERATIONS: Mapping[str, StsHandler] = {
    "GetCallerIdentity": _get_caller_identity,
    "AssumeRole": _assume_role,
}
"""The STS operations crossdock serves, by AWS name."""
