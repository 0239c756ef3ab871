"""What ``pull`` and ``push`` mean as ECR actions, and which resource each action takes."""

from __future__ import annotations

from crossdock.policy.catalog import ecr_action, ecr_action_requires_star
from crossdock.service.access.errors import AccessInputError

PULL_ACTIONS = (
    "ecr:GetAuthorizationToken",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchCheckLayerAvailability",
)
"""Every action a ``docker pull`` needs (the token, the manifest, the layers)."""

PUSH_ACTIONS = (
    "ecr:GetAuthorizationToken",
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
    "ecr:BatchGetImage",
)
"""Every action a ``docker push`` needs."""

VERBS = {"pull": PULL_ACTIONS, "push": PUSH_ACTIONS}


def expand_action(value: str) -> tuple[str, ...]:
    """``pull``/``push`` → their actions; an ECR action name → itself in AWS's casing.

    Raises AccessInputError for anything else (another service, a wildcard, a typo).
    """
    verb = VERBS.get(value.lower())
    if verb is not None:
        return verb
    action = ecr_action(value)
    if action is None or ":" not in value:
        raise AccessInputError(
            f"`{value}` is not an ECR action",
            "use pull, push or an action such as ecr:BatchGetImage",
        )
    return (f"ecr:{action.name}",)


def action_resource(action: str, repository_arn: str) -> str:
    """The resource ``action`` is authorized on: ``*`` for account-level actions
    (``ecr:GetAuthorizationToken``), else the repository."""
    return "*" if ecr_action_requires_star(action) else repository_arn
