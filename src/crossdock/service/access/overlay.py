"""A PolicySource that sees the stored policies with proposed edits applied.

The smallest fix is proved by deciding again through an
:class:`~crossdock.service.authz.Authorizer` over this source: nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from crossdock.auth.principal import Principal
from crossdock.service.authz import PolicyDocument, PolicySource, PrincipalPolicies, ResourceInfo


@dataclass
class PolicyEdits:
    """Proposed policy texts: replacements by policy id, new identity policies of one
    principal, and new repository policies by repository ARN."""

    replaced: dict[str, str] = field(default_factory=dict)
    added_identity: dict[str, str] = field(default_factory=dict)
    new_resource_policies: dict[str, str] = field(default_factory=dict)


def resource_policy_id(resource_arn: str) -> str:
    """The id decisions report a repository policy under (``service/ecr/policies.py``)."""
    return f"{resource_arn} repository policy"


@dataclass(frozen=True, slots=True)
class OverlaySource:
    """``base`` with ``edits`` applied; ``edits`` may change between decisions."""

    base: PolicySource
    edits: PolicyEdits

    def _doc(self, document: PolicyDocument) -> PolicyDocument:
        text = self.edits.replaced.get(document.policy_id)
        return document if text is None else PolicyDocument(document.policy_id, text)

    def principal_policies(self, principal: Principal) -> PrincipalPolicies:
        """The stored caller side, edited."""
        base = self.base.principal_policies(principal)
        identity = tuple(self._doc(d) for d in base.identity) + tuple(
            PolicyDocument(policy_id, text) for policy_id, text in self.edits.added_identity.items()
        )
        levels = None
        if base.scp_levels is not None:
            levels = tuple(tuple(self._doc(d) for d in level) for level in base.scp_levels)
        boundary = None if base.boundary is None else self._doc(base.boundary)
        return replace(base, identity=identity, boundary=boundary, scp_levels=levels)

    def resource(self, resource_arn: str) -> ResourceInfo | None:
        """The stored resource, with its policy edited or added."""
        found = self.base.resource(resource_arn)
        if found is None:
            return None
        if found.policy is not None:
            return replace(found, policy=self._doc(found.policy))
        text = self.edits.new_resource_policies.get(resource_arn)
        if text is None:
            return found
        return replace(found, policy=PolicyDocument(resource_policy_id(resource_arn), text))
