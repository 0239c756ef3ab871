"""One authorization decision as a CloudTrail-shaped JSON object (docs/trail.md).

:func:`trail_record` is pure: it reads the principal, the decision and the request facts
and returns the event. Request parameters pass an allow-list, so no secret (a secret key,
a session token, a registry password, a policy or manifest body) can reach the trail.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from crossdock.auth.principal import Principal
from crossdock.policy.context import PrincipalKind
from crossdock.policy.decide import Decision, Outcome
from crossdock.service.authz import RequestInfo

_string = json.encoder.encode_basestring_ascii

EVENT_VERSION = "1.08"

DECISIONS = {
    Outcome.ALLOWED: "Allowed",
    Outcome.IMPLICITLY_DENIED: "ImplicitDeny",
    Outcome.EXPLICITLY_DENIED: "ExplicitDeny",
}
"""The trail's names for the three outcomes."""

_IDENTITY_TYPES = {
    PrincipalKind.ROOT: "Root",
    PrincipalKind.USER: "IAMUser",
    PrincipalKind.ROLE: "Role",
    PrincipalKind.ASSUMED_ROLE: "AssumedRole",
    PrincipalKind.FEDERATED_USER: "FederatedUser",
    PrincipalKind.SERVICE: "AWSService",
}

TOKEN_EXPIRED = "TokenExpired"
"""``crossdock.decision`` of a ``/v2/`` request refused for its expired registry token."""
EXPIRED_TOKEN_CODE = "ExpiredTokenException"
"""Its ``errorCode``: the ECR API's code for an expired credential (``/v2/`` says DENIED)."""
EXPIRED_TOKEN_MESSAGE = "Your authorization token has expired. Reauthenticate and try again."
"""Its ``errorMessage``: the ``DENIED`` text the ``/v2/`` client received."""

_DENIED_CODES = {"ecr": "AccessDeniedException"}
"""The error code each service's clients see for a denial (IAM and STS: AccessDenied)."""

RECORDED_PARAMETERS = frozenset(
    {
        # ECR
        "registryId",
        "registryIds",
        "repositoryName",
        "repositoryNames",
        "imageIds",
        "imageTag",
        "imageDigest",
        "imageManifestMediaType",
        "imageTagMutability",
        "layerDigest",
        "layerDigests",
        "uploadId",
        "partFirstByte",
        "partLastByte",
        "maxResults",
        "tagKeys",
        # IAM and STS
        "userName",
        "roleName",
        "groupName",
        "policyArn",
        "policyName",
        "versionId",
        "path",
        "pathPrefix",
        "roleArn",
        "roleSessionName",
        "durationSeconds",
        "permissionsBoundary",
        "maxItems",
    }
)
"""The only request parameters the trail records. Nothing secret is on the list: secret
keys, session tokens and passwords are never request parameters here, and bodies that
could carry anything (policy documents, manifests, layer parts, tag values) are left out."""


def _camel(name: str) -> str:
    # The Query protocol names members UserName; CloudTrail writes userName.
    return name[:1].lower() + name[1:]


def _plain(value: object) -> Any:
    """``value`` as plain JSON data (strings for anything unexpected)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def request_parameters(resource: str, info: RequestInfo) -> dict[str, Any]:
    """What the request named: repository and registry from the ARN, then the allow-list."""
    found: dict[str, Any] = {}
    parts = resource.split(":", 5)
    if len(parts) == 6 and parts[2] == "ecr" and parts[5].startswith("repository/"):
        name = parts[5].removeprefix("repository/")
        if name != "*":  # every repository of the registry (DescribeRepositories, _catalog)
            found["repositoryName"] = name
        found["registryId"] = parts[4]
    elif len(parts) == 6 and parts[2] == "iam" and parts[5].startswith("role/"):
        found["roleArn"] = resource
    for key, value in (info.parameters or {}).items():
        name = _camel(key)
        if name in RECORDED_PARAMETERS:
            found[name] = _plain(value)
    return found


def user_identity(principal: Principal) -> dict[str, Any]:
    """CloudTrail's ``userIdentity`` for ``principal`` (an access key id is not a secret)."""
    identity: dict[str, Any] = {
        "type": _IDENTITY_TYPES.get(principal.kind, principal.kind.value),
        "principalId": principal.unique_id,
        "arn": principal.arn,
        "accountId": principal.account_id,
        "accessKeyId": principal.access_key_id,
    }
    if principal.user_name is not None:
        identity["userName"] = principal.user_name
    session = principal.session
    if session is not None:
        identity["sessionContext"] = {
            "sessionIssuer": {
                "type": "Role",
                "principalId": session.role_id,
                "arn": session.role_arn,
                "accountId": principal.account_id,
                "userName": session.role_arn.rsplit("/", 1)[-1],
            },
            "attributes": {"creationDate": _iso(session.issued_at)},
        }
    return identity


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _statements(decision: Decision) -> list[dict[str, str]]:
    found = []
    for outcome in decision.decisive:
        policy, _, sid = outcome.label.rpartition("#")
        found.append({"policy": policy, "sid": sid, "effect": outcome.effect.value})
    return found


def _outcome_fields(decision: Decision, protocol: str) -> dict[str, Any]:
    """The fields after ``eventType``: who received it, the error, the crossdock block."""
    request = decision.request
    service = request.action.partition(":")[0]
    resource_account = request.resource_account
    fields: dict[str, Any] = {"recipientAccountId": resource_account}
    if not decision.allowed:
        fields["errorCode"] = _DENIED_CODES.get(service, "AccessDenied")
        fields["errorMessage"] = decision.message
    side = decision.side
    fields["crossdock"] = {
        "decision": DECISIONS[decision.outcome],
        "action": request.action,
        "resource": request.resource,
        "side": None if side is None else side.value,
        "sides": {
            "principalAccount": request.caller.account,
            "resourceAccount": resource_account,
            "crossAccount": not request.same_account,
        },
        "policyType": None if decision.policy_type is None else decision.policy_type.value,
        "reason": decision.reason,
        "statements": _statements(decision),
        "gaps": [kind.value for kind in decision.gaps],
        "protocol": protocol,
    }
    return fields


def trail_record(
    principal: Principal, decision: Decision, info: RequestInfo, event_id: str | None = None
) -> dict[str, Any]:
    """The CloudTrail-shaped event of one decision (``event_id``: a fresh UUID if None)."""
    request = decision.request
    service, _, action_name = request.action.partition(":")
    record: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": user_identity(principal),
        "eventTime": _iso(info.now),
        "eventSource": f"{service}.amazonaws.com",
        "eventName": info.operation or action_name,
        "awsRegion": info.region,
        "sourceIPAddress": info.source_ip,
        "userAgent": info.user_agent,
        "requestParameters": request_parameters(request.resource, info),
        "responseElements": None,
        "eventID": event_id or str(uuid.uuid4()),
        "eventType": "AwsApiCall",
    }
    record.update(_outcome_fields(decision, info.protocol))
    return record


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


class TrailEncoder:
    """Encodes events as JSON lines, exactly ``json.dumps(trail_record(...))`` compacted.

    The writer thread encodes every decision, so the parts that repeat under load (the
    caller's identity, the decision's outcome, the time to the second) are encoded once
    and kept in small bounded caches. Event ids are a per-encoder random prefix and a
    counter, in UUID form.
    """

    def __init__(self, limit: int = 1024) -> None:
        self._limit = limit
        self._identities: dict[Principal, str] = {}
        self._outcomes: dict[tuple[object, ...], str] = {}
        self._time: tuple[int, str, date] = (-1, "", date.min)
        self._parameters: dict[tuple[str, tuple[tuple[str, object], ...]], str] = {}
        prefix = uuid.uuid4().hex
        self._prefix = f"{prefix[:8]}-{prefix[8:12]}-{prefix[12:16]}-{prefix[16:20]}-"
        self._ids = itertools.count(int(prefix[20:], 16))

    def _identity(self, principal: Principal) -> str:
        found = self._identities.get(principal)
        if found is None:
            if len(self._identities) >= self._limit:
                self._identities.clear()
            found = self._identities[principal] = _dumps(user_identity(principal))
        return found

    def _outcome(self, decision: Decision, protocol: str) -> str:
        request = decision.request
        key = (
            request.caller.arn,
            request.action,
            request.resource,
            decision.outcome,
            decision.policy_type,
            decision.reason,
            decision.decisive_ids,
            decision.gaps,
            protocol,
        )
        found = self._outcomes.get(key)
        if found is None:
            if len(self._outcomes) >= self._limit:
                self._outcomes.clear()
            found = self._outcomes[key] = _dumps(_outcome_fields(decision, protocol))[1:-1]
        return found

    def _event_time(self, moment: datetime) -> tuple[int, str, date]:
        # One tuple, replaced whole: request threads share it.
        cached = self._time
        second = int(moment.timestamp())
        if second != cached[0]:
            cached = self._time = (second, _dumps(_iso(moment)), moment.astimezone(UTC).date())
        return cached

    def _request_parameters(self, resource: str, info: RequestInfo) -> str:
        parameters = info.parameters
        if parameters is None or len(parameters) > 2:
            return _dumps(request_parameters(resource, info))
        try:  # the /v2/ routes name one flat parameter: worth a cache
            key = (resource, tuple(parameters.items()))
            found = self._parameters.get(key)
        except TypeError:
            return _dumps(request_parameters(resource, info))
        if found is None:
            if len(self._parameters) >= self._limit:
                self._parameters.clear()
            found = self._parameters[key] = _dumps(request_parameters(resource, info))
        return found

    def event_id(self) -> str:
        """The next event id (UUID-shaped, unique within this encoder)."""
        return f"{self._prefix}{next(self._ids) & 0xFFFFFFFFFFFF:012x}"

    def line(self, principal: Principal, decision: Decision, info: RequestInfo) -> str:
        """One event as one compact JSON line (no newline)."""
        return self.encode(principal, decision, info)[1]

    def encode(
        self, principal: Principal, decision: Decision, info: RequestInfo
    ) -> tuple[date, str]:
        """The event's UTC day (its file) and its compact JSON line (no newline).

        Safe to call from several threads at once.
        """
        request = decision.request
        service, _, action_name = request.action.partition(":")
        text = _string
        _, event_time, day = self._event_time(info.now)
        return day, "".join(
            (
                '{"eventVersion":"',
                EVENT_VERSION,
                '","userIdentity":',
                self._identity(principal),
                ',"eventTime":',
                event_time,
                ',"eventSource":',
                text(f"{service}.amazonaws.com"),
                ',"eventName":',
                text(info.operation or action_name),
                ',"awsRegion":',
                text(info.region),
                ',"sourceIPAddress":',
                text(info.source_ip),
                ',"userAgent":',
                text(info.user_agent),
                ',"requestParameters":',
                self._request_parameters(request.resource, info),
                ',"responseElements":null,"eventID":"',
                self.event_id(),
                '","eventType":"AwsApiCall",',
                self._outcome(decision, info.protocol),
                "}",
            )
        )


@dataclass(frozen=True, slots=True)
class ExpiredTokenUse:
    """A ``/v2/`` request refused before any decision: its registry token had expired.

    Only a token whose secret matched gets here, so its principal and key are trusted.
    """

    principal_arn: str
    access_key_id: str
    expired_at: datetime
    issued_at: datetime | None
    action: str
    """The ECR action the route needs (``ecr:BatchGetImage``)."""
    resource: str
    """The repository ARN, or ``*`` (the base ``/v2/``, an unknown route)."""
    registry_host: str
    """The registry host the client addressed (where it must log in again)."""
    secure: bool
    """Whether the request came over TLS (the registry's scheme)."""
    principal: Principal | None = None
    """The key's principal now, when it still is the token's; None if gone."""


_ARN_TYPES = (
    (":root", "Root"),
    (":user/", "IAMUser"),
    (":assumed-role/", "AssumedRole"),
    (":federated-user/", "FederatedUser"),
)


def arn_identity(arn: str, access_key_id: str) -> dict[str, Any]:
    """``userIdentity`` from an ARN alone (a principal that no longer resolves)."""
    kind = next((name for marker, name in _ARN_TYPES if marker in arn), "Unknown")
    parts = arn.split(":", 5)
    account = parts[4] if len(parts) == 6 else ""
    identity: dict[str, Any] = {
        "type": kind,
        "arn": arn,
        "accountId": account,
        "accessKeyId": access_key_id,
    }
    if kind == "IAMUser":
        identity["userName"] = arn.rsplit("/", 1)[-1]
    return identity


def expired_token_record(
    use: ExpiredTokenUse, info: RequestInfo, event_id: str | None = None
) -> dict[str, Any]:
    """The CloudTrail-shaped event of a request refused for its expired registry token."""
    service, _, action_name = use.action.partition(":")
    identity = (
        user_identity(use.principal)
        if use.principal is not None
        else arn_identity(use.principal_arn, use.access_key_id)
    )
    parts = use.resource.split(":", 5)
    principal_account = str(identity["accountId"])
    resource_account = parts[4] if len(parts) == 6 else principal_account
    return {
        "eventVersion": EVENT_VERSION,
        "userIdentity": identity,
        "eventTime": _iso(info.now),
        "eventSource": f"{service}.amazonaws.com",
        "eventName": info.operation or action_name,
        "awsRegion": info.region,
        "sourceIPAddress": info.source_ip,
        "userAgent": info.user_agent,
        "requestParameters": request_parameters(use.resource, info),
        "responseElements": None,
        "eventID": event_id or str(uuid.uuid4()),
        "eventType": "AwsApiCall",
        "recipientAccountId": resource_account,
        "errorCode": EXPIRED_TOKEN_CODE,
        "errorMessage": EXPIRED_TOKEN_MESSAGE,
        "crossdock": {
            "decision": TOKEN_EXPIRED,
            "action": use.action,
            "resource": use.resource,
            "side": None,
            "sides": {
                "principalAccount": principal_account,
                "resourceAccount": resource_account,
                "crossAccount": principal_account != resource_account,
            },
            "policyType": None,
            "reason": "the registry token had expired: no policy was consulted",
            "statements": [],
            "gaps": [],
            "protocol": info.protocol,
            "tokenExpiredAt": _iso(use.expired_at),
            "tokenIssuedAt": None if use.issued_at is None else _iso(use.issued_at),
            "registryHost": use.registry_host,
            "registryEndpoint": f"{'https' if use.secure else 'http'}://{use.registry_host}",
        },
    }
