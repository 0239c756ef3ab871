"""Everything the access tools read, wired over one data dir's stores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crossdock.service.access.effective import AccessChecker
from crossdock.service.access.principals import Inventory
from crossdock.service.authz import Authorizer, PolicySource, ResourceLookup, StorePolicySource
from crossdock.service.principal_policies import IamResourceLookup, IdentityPolicyLoader
from crossdock.storage.identity_store import IdentityStores
from crossdock.storage.registry_store import RepositoryStore


@dataclass(frozen=True, slots=True)
class AccessContext:
    """The policy source, the Authorizer over it, the inventory and the clock reading."""

    source: PolicySource
    authorizer: Authorizer
    inventory: Inventory
    now: datetime

    @classmethod
    def create(
        cls,
        stores: IdentityStores,
        repositories: RepositoryStore,
        ecr_lookup: ResourceLookup,
        now: datetime,
    ) -> AccessContext:
        """Wire the same policy source the server's Authorizer reads (identity side from
        the identity store, ``iam`` and ``ecr`` resources)."""
        source = StorePolicySource(
            IdentityPolicyLoader(stores), {"iam": IamResourceLookup(stores), "ecr": ecr_lookup}
        )
        return cls(source, Authorizer(source), Inventory(stores, repositories, now), now)

    @property
    def checker(self) -> AccessChecker:
        """Decides verbs and actions through :attr:`authorizer`."""
        return AccessChecker(self.authorizer, self.now)
