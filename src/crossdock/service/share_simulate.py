"""Prove a share with simulated decisions, through :class:`~crossdock.service.authz.Authorizer`.

The policies come from a :class:`SharePolicySource`: the server's own stores when the
data dir is at hand (``base``), with the policies of the plan laid over them where the
stores do not hold them yet (a dry run, or an identity policy only printed); without a
data dir, only the policies read from the API and the ones share writes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from crossdock.auth.principal import Principal, SessionInfo
from crossdock.policy.context import PrincipalKind
from crossdock.policy.variables import ContextValue
from crossdock.service.authz import (
    Authorizer,
    PolicyDocument,
    PolicySource,
    PrincipalPolicies,
    RequestInfo,
    ResourceInfo,
)
from crossdock.service.credentials import root_principal, session_arn
from crossdock.service.share_local import SIMULATED_SESSION
from crossdock.service.share_policy import (
    LAMBDA_SERVICE,
    LOGIN_ACTION,
    RepositoryRef,
    ShareRequest,
    TargetKind,
    granted_actions,
)


@dataclass(frozen=True, slots=True)
class Proof:
    """One simulated decision."""

    principal: str
    action: str
    resource: str
    decision: str
    """``Allowed``, ``ImplicitlyDenied`` or ``ExplicitlyDenied``."""
    message: str | None
    """AWS's AccessDenied text for a denial."""
    statements: tuple[str, ...]
    """The decisive statements, ``<policy>#<Sid>``."""

    @property
    def allowed(self) -> bool:
        """True when the simulated request is allowed."""
        return self.decision == "Allowed"


@dataclass(frozen=True, slots=True)
class IdentityOverlay:
    """An identity policy to add to (or, with ``remove``, take from) one principal's side."""

    owner_arn: str
    """The user or role whose policies it is among."""
    document: PolicyDocument
    remove: bool = False


class SharePolicySource:
    """A :class:`PolicySource` over ``base`` (or nothing) with the plan's policies laid over.

    ``repository_text`` replaces the repository's policy when ``overlay_repository`` is
    true (None then means "no policy"). Service principals have no identity side.
    """

    def __init__(
        self,
        base: PolicySource | None,
        repository: RepositoryRef,
        *,
        overlay_repository: bool,
        repository_text: str | None,
        identity: Sequence[IdentityOverlay] = (),
        org_ids: dict[str, str] | None = None,
    ) -> None:
        self._base = base
        self._repository = repository
        self._overlay_repository = overlay_repository
        self._text = repository_text
        self._identity = tuple(identity)
        self._org_ids = dict(org_ids or {})

    def principal_policies(self, principal: Principal) -> PrincipalPolicies:
        """The base's answer with the overlays applied; nothing for service principals."""
        if principal.kind is PrincipalKind.SERVICE:
            return PrincipalPolicies()
        found = (
            self._base.principal_policies(principal)
            if self._base is not None
            else PrincipalPolicies(org_id=self._org_ids.get(principal.account_id))
        )
        owner = principal.session.role_arn if principal.session is not None else principal.arn
        documents = list(found.identity)
        for overlay in self._identity:
            if overlay.owner_arn != owner:
                continue
            documents = [d for d in documents if d.policy_id != overlay.document.policy_id]
            if not overlay.remove:
                documents.append(overlay.document)
        return replace(found, identity=tuple(documents))

    def resource(self, resource_arn: str) -> ResourceInfo | None:
        """The repository with the overlaid policy; other resources from the base."""
        base = self._base.resource(resource_arn) if self._base is not None else None
        if resource_arn != self._repository.arn or not self._overlay_repository:
            return base
        policy = (
            None
            if self._text is None
            else PolicyDocument(f"{resource_arn} repository policy", self._text)
        )
        tags = base.tags if base is not None else ()
        return ResourceInfo(resource_arn, self._repository.account, policy, tags)


def _fallback_principal(arn: str, now: datetime) -> Principal:
    """The principal for ``arn`` when no data dir knows it (unique id = the ARN)."""
    parts = arn.split(":", 5)
    account, resource = parts[4], parts[5]
    if resource == "root":
        return root_principal(account, "")
    kind, _, rest = resource.partition("/")
    if kind == "user":
        return Principal(account, PrincipalKind.USER, arn, arn, "", rest.rsplit("/", 1)[-1])
    if kind == "role":
        name = rest.rsplit("/", 1)[-1]
        session = SessionInfo(arn, arn, SIMULATED_SESSION, now, now)
        return Principal(
            account,
            PrincipalKind.ASSUMED_ROLE,
            session_arn(account, name, SIMULATED_SESSION),
            f"{arn}:{SIMULATED_SESSION}",
            "",
            session=session,
        )
    name, session_name = rest.split("/")[0], rest.split("/")[1]
    role_arn = f"arn:aws:iam::{account}:role/{name}"
    info = SessionInfo(role_arn, role_arn, session_name, now, now)
    return Principal(
        account, PrincipalKind.ASSUMED_ROLE, arn, f"{role_arn}:{session_name}", "", session=info
    )


def lambda_principal() -> Principal:
    """The Lambda service principal."""
    return Principal("", PrincipalKind.SERVICE, LAMBDA_SERVICE, LAMBDA_SERVICE, "")


def subjects(request: ShareRequest, members: Sequence[str] = ()) -> list[str]:
    """The principal ARNs a share is proven for: the consumer principal, the consumer
    account's root, the organization members' roots (``members``), or for Lambda the
    service principal and the function account's root."""
    if request.lambda_arn is not None:
        account = request.lambda_account or ""
        own = account == request.repository.account
        return [LAMBDA_SERVICE, *(() if own else (f"arn:aws:iam::{account}:root",))]
    target = request.target
    if target is None:
        return []
    if target.kind is TargetKind.ORGANIZATION:
        owner = request.repository.account
        return [f"arn:aws:iam::{m}:root" for m in members if m != owner]
    if target.kind is TargetKind.ACCOUNT:
        return [f"arn:aws:iam::{target.value}:root"]
    return [target.value]


def prove(
    authorizer: Authorizer,
    request: ShareRequest,
    principals: Sequence[Principal],
    info: RequestInfo,
) -> list[Proof]:
    """Decide every action the share grants for every principal (plus the login action
    for principals with an identity side)."""
    repo_arn = request.repository.arn
    actions = granted_actions(request.grants())
    proofs: list[Proof] = []
    for principal in principals:
        extra: dict[str, ContextValue] = {}
        pairs = [(action, repo_arn) for action in actions]
        if principal.kind is PrincipalKind.SERVICE:
            extra = {
                "aws:SourceArn": request.lambda_arn or "",
                "aws:SourceAccount": request.lambda_account or "",
                "aws:PrincipalIsAWSService": "true",
            }
        elif request.lambda_arn is None:
            pairs.insert(0, (LOGIN_ACTION, "*"))
        for action, resource in pairs:
            decision = authorizer.decide(principal, action, resource, info, extra)
            proofs.append(
                Proof(
                    principal.arn,
                    action,
                    resource,
                    decision.outcome.value,
                    decision.message,
                    tuple(s.label for s in decision.decisive),
                )
            )
    return proofs


def resolve_principals(
    arns: Sequence[str],
    now: datetime,
    stored: Callable[[str], Principal | None] | None = None,
) -> list[Principal]:
    """Principals for ``arns``: as the data dir knows them (``stored``), else built from
    the ARN alone (the unique id is then the ARN)."""
    found: list[Principal] = []
    for arn in arns:
        if arn == LAMBDA_SERVICE:
            found.append(lambda_principal())
            continue
        known = stored(arn) if stored is not None else None
        found.append(known if known is not None else _fallback_principal(arn, now))
    return found
