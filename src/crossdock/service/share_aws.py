"""The two sides of a share over boto3: ECR repository policies and IAM managed policies.

Works against crossdock (``--endpoint-url``) and AWS alike. Every botocore failure
becomes a :class:`~crossdock.service.share.ShareSideError` with one line that says what
went wrong, in AWS's words where AWS gave some.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
)

from crossdock.service.share import ManagedPolicy, ShareSideError
from crossdock.service.share_policy import RepositoryRef, TargetKind

T = TypeVar("T")


def error_code(error: ClientError) -> str:
    """The AWS error code of a botocore ClientError."""
    return str(error.response.get("Error", {}).get("Code", ""))


def describe(error: Exception) -> str:
    """One line for a botocore failure: ``Code: message`` or botocore's own text."""
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{details.get('Code', 'Error')}: {details.get('Message', '')}".rstrip(": ")
    if isinstance(error, NoCredentialsError):
        return "no AWS credentials found (pass --profile, or --data-dir for a crossdock server)"
    return str(error)


def call(what: str, operation: Callable[[], T]) -> T:
    """Run one API call; raise ShareSideError naming ``what`` when it fails."""
    try:
        return operation()
    except (ClientError, BotoCoreError) as error:
        raise ShareSideError(f"{what}: {describe(error)}") from None


class EcrRepositorySide:
    """:class:`~crossdock.service.share.RepositorySide` over a boto3 ECR client of the owner."""

    def __init__(self, ecr: Any) -> None:
        self._ecr = ecr

    def get_policy(self, repository: RepositoryRef) -> str | None:
        """GetRepositoryPolicy; None for RepositoryPolicyNotFoundException."""
        try:
            response = self._ecr.get_repository_policy(
                registryId=repository.account, repositoryName=repository.name
            )
        except ClientError as error:
            code = error_code(error)
            if code == "RepositoryPolicyNotFoundException":
                return None
            if code == "RepositoryNotFoundException":
                raise ShareSideError(
                    f"the repository `{repository.name}` does not exist in {repository.account}"
                    f" ({repository.region}): check REPOSITORY, --from and --region"
                ) from None
            raise ShareSideError(f"GetRepositoryPolicy: {describe(error)}") from None
        except BotoCoreError as error:
            raise ShareSideError(f"GetRepositoryPolicy: {describe(error)}") from None
        return str(response["policyText"])

    def set_policy(self, repository: RepositoryRef, text: str) -> None:
        """SetRepositoryPolicy (ECR checks that every principal exists)."""
        try:
            self._ecr.set_repository_policy(
                registryId=repository.account, repositoryName=repository.name, policyText=text
            )
        except (ClientError, BotoCoreError) as error:
            hint = ""
            if "Principal not found" in describe(error):
                hint = ": an account or principal the policy names (--to) does not exist"
            raise ShareSideError(f"SetRepositoryPolicy: {describe(error)}{hint}") from None

    def delete_policy(self, repository: RepositoryRef) -> None:
        """DeleteRepositoryPolicy."""
        call(
            "DeleteRepositoryPolicy",
            lambda: self._ecr.delete_repository_policy(
                registryId=repository.account, repositoryName=repository.name
            ),
        )

    def image_reference(self, repository: RepositoryRef) -> str | None:
        """A tag to pull (``latest`` when there is one), else a digest; None when empty."""
        response = call(
            "ListImages",
            lambda: self._ecr.list_images(
                registryId=repository.account, repositoryName=repository.name
            ),
        )
        ids = response.get("imageIds", [])
        tags = [str(i["imageTag"]) for i in ids if i.get("imageTag")]
        if "latest" in tags:
            return "latest"
        if tags:
            return tags[0]
        digests = [str(i["imageDigest"]) for i in ids if i.get("imageDigest")]
        return digests[0] if digests else None


def _document(value: Any) -> dict[str, Any]:
    # botocore decodes IAM policy documents itself; other clients leave them URL-encoded.
    if isinstance(value, dict):
        return value
    loaded = json.loads(unquote(str(value)))
    if not isinstance(loaded, dict):
        raise ShareSideError("GetPolicyVersion returned a document that is not a JSON object")
    return loaded


class IamIdentitySide:
    """:class:`~crossdock.service.share.IdentitySide` over a boto3 IAM client of the consumer."""

    def __init__(self, iam: Any) -> None:
        self._iam = iam

    def get_policy(self, arn: str) -> ManagedPolicy | None:
        """GetPolicy and GetPolicyVersion of its default version; None for NoSuchEntity."""
        try:
            policy = self._iam.get_policy(PolicyArn=arn)["Policy"]
        except ClientError as error:
            if error_code(error) == "NoSuchEntity":
                return None
            raise ShareSideError(f"GetPolicy: {describe(error)}") from None
        except BotoCoreError as error:
            raise ShareSideError(f"GetPolicy: {describe(error)}") from None
        version = call(
            "GetPolicyVersion",
            lambda: self._iam.get_policy_version(
                PolicyArn=arn, VersionId=policy["DefaultVersionId"]
            ),
        )
        document = _document(version["PolicyVersion"]["Document"])
        return ManagedPolicy(arn, document, int(policy.get("AttachmentCount", 0)))

    def create_policy(self, name: str, document: str) -> None:
        """CreatePolicy (with a description saying who wrote it)."""
        call(
            "CreatePolicy",
            lambda: self._iam.create_policy(
                PolicyName=name,
                PolicyDocument=document,
                Description="Written by crossdock share; crossdock unshare removes it.",
            ),
        )

    def delete_policy(self, arn: str) -> None:
        """DeletePolicy."""
        call("DeletePolicy", lambda: self._iam.delete_policy(PolicyArn=arn))

    def is_attached(self, kind: TargetKind, name: str, arn: str) -> bool:
        """Whether ``arn`` is among the user's or role's attached policies (all pages)."""
        noun = "User" if kind is TargetKind.USER else "Role"
        operation = getattr(self._iam, f"list_attached_{noun.lower()}_policies")
        marker: str | None = None
        while True:
            extra = {"Marker": marker} if marker else {}
            response = call(
                f"ListAttached{noun}Policies",
                lambda extra=extra: operation(**{f"{noun}Name": name}, **extra),  # type: ignore[misc]
            )
            if any(p.get("PolicyArn") == arn for p in response.get("AttachedPolicies", [])):
                return True
            if not response.get("IsTruncated"):
                return False
            marker = response.get("Marker")

    def attach(self, kind: TargetKind, name: str, arn: str) -> None:
        """AttachUserPolicy / AttachRolePolicy."""
        noun = "User" if kind is TargetKind.USER else "Role"
        operation = getattr(self._iam, f"attach_{noun.lower()}_policy")
        call(f"Attach{noun}Policy", lambda: operation(**{f"{noun}Name": name}, PolicyArn=arn))

    def detach(self, kind: TargetKind, name: str, arn: str) -> None:
        """DetachUserPolicy / DetachRolePolicy."""
        noun = "User" if kind is TargetKind.USER else "Role"
        operation = getattr(self._iam, f"detach_{noun.lower()}_policy")
        call(f"Detach{noun}Policy", lambda: operation(**{f"{noun}Name": name}, PolicyArn=arn))
