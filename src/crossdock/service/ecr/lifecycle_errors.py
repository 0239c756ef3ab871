"""The errors of the lifecycle policy operations (the ECR error table adds ``Exception``).

Messages marked UNVERIFIED in docs/lifecycle.md were not observed on AWS.
"""

from __future__ import annotations

from crossdock.service.ecr.errors import invalid_parameter
from crossdock.service.ecr.lifecycle_model import LifecyclePolicyError
from crossdock.service.errors import ConflictError, InvalidParameterError, NotFoundError


def invalid_lifecycle_policy(error: LifecyclePolicyError) -> InvalidParameterError:
    """ECR's text for a policy that fails validation."""
    return invalid_parameter(
        "LifecyclePolicyText", f"Lifecycle policy validation failure: {error.reason}"
    )


class LifecyclePolicyNotFoundError(NotFoundError):
    """Get/Delete (or a preview of the current policy) on a repository without one."""

    code = "LifecyclePolicyNotFound"

    def __init__(self, name: str, registry_id: str) -> None:
        self.name, self.registry_id = name, registry_id
        super().__init__(
            f"Lifecycle policy does not exist for the repository with name '{name}' "
            f"in the registry with id '{registry_id}'"
        )


class LifecyclePolicyPreviewNotFoundError(NotFoundError):
    """GetLifecyclePolicyPreview before any StartLifecyclePolicyPreview."""

    code = "LifecyclePolicyPreviewNotFound"

    def __init__(self, name: str, registry_id: str) -> None:
        self.name, self.registry_id = name, registry_id
        super().__init__(
            "Lifecycle policy preview does not exist for the repository with name "
            f"'{name}' in the registry with id '{registry_id}'"
        )


class LifecyclePolicyPreviewInProgressError(ConflictError):
    """StartLifecyclePolicyPreview while the previous preview still runs."""

    code = "LifecyclePolicyPreviewInProgress"

    def __init__(self, name: str, registry_id: str) -> None:
        self.name, self.registry_id = name, registry_id
        super().__init__(
            "The previous lifecycle policy preview request for the repository with name "
            f"'{name}' in the registry with id '{registry_id}' has not completed. "
            "Wait and try again."
        )
