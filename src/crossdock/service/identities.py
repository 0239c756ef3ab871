"""The IAM service, and the identity side of the composition root.

:class:`IdentityService` groups the IAM operations by entity (``users``, ``roles``,
``groups``, ``policies``); every operation authorizes through
:meth:`crossdock.service.authz.Authorizer.require` before it touches data.

:func:`build_identity` wires the identity vertical over one store: the credential
resolver for SigV4, the policy loader and the ``iam`` resource lookup for the authorizer,
the principal directory for the ECR side, and the IAM and STS services.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from crossdock.service.accounts import AccountAdmin
from crossdock.service.authz import (
    Authorizer,
    DecisionRecorder,
    ResourceLookup,
    StorePolicySource,
)
from crossdock.service.credentials import StoreCredentialResolver
from crossdock.service.iam_common import IamContext
from crossdock.service.iam_groups import GroupOperations
from crossdock.service.iam_policies import PolicyOperations
from crossdock.service.iam_roles import RoleOperations
from crossdock.service.iam_users import UserOperations
from crossdock.service.principal_policies import (
    IamResourceLookup,
    IdentityDirectory,
    IdentityPolicyLoader,
)
from crossdock.service.sts import StsService
from crossdock.storage.identity_store import IdentityStores
from crossdock.storage.secrets import SecretBox


@dataclass(frozen=True, slots=True)
class IdentityService:
    """The IAM operations, by entity."""

    users: UserOperations
    roles: RoleOperations
    groups: GroupOperations
    policies: PolicyOperations

    @classmethod
    def create(cls, ctx: IamContext, box: SecretBox) -> IdentityService:
        """The IAM service over one context."""
        return cls(
            users=UserOperations(ctx, box),
            roles=RoleOperations(ctx),
            groups=GroupOperations(ctx),
            policies=PolicyOperations(ctx),
        )


@dataclass(frozen=True, slots=True)
class IdentityComponents:
    """Everything the identity vertical contributes to the server."""

    authorizer: Authorizer
    resolver: StoreCredentialResolver
    directory: IdentityDirectory
    iam: IdentityService
    sts: StsService
    accounts: AccountAdmin


def build_identity(
    stores: IdentityStores,
    box: SecretBox,
    clock: Callable[[], datetime],
    resource_lookups: Mapping[str, ResourceLookup] | None = None,
    recorder: DecisionRecorder | None = None,
) -> IdentityComponents:
    """Wire the identity vertical; ``resource_lookups`` adds other services' resources
    (``{"ecr": ...}``) to the authorizer next to ``iam``; ``recorder`` gets every decision."""
    lookups: dict[str, ResourceLookup] = {"iam": IamResourceLookup(stores)}
    lookups.update(resource_lookups or {})
    source = StorePolicySource(IdentityPolicyLoader(stores), lookups)
    authorizer = Authorizer(source, recorder)
    directory = IdentityDirectory(stores)
    ctx = IamContext(stores, authorizer, clock, directory)
    return IdentityComponents(
        authorizer=authorizer,
        resolver=StoreCredentialResolver(stores, box),
        directory=directory,
        iam=IdentityService.create(ctx, box),
        sts=StsService(ctx, box),
        accounts=AccountAdmin(stores, box, clock),
    )
