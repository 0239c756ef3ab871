"""Service records → ECR response members (AWS casing lives here and in the operations)."""

from __future__ import annotations

from typing import Any

from crossdock.service.ecr.addressing import RegistryAddressing
from crossdock.service.ecr.common import repository_arn
from crossdock.service.ecr.images import ImageFailure, ImageId
from crossdock.storage.registry_store import ImageRecord, RepositoryRecord


def repository(record: RepositoryRecord, addressing: RegistryAddressing) -> dict[str, Any]:
    """A ``Repository`` structure."""
    settings = record.settings
    out: dict[str, Any] = {
        "repositoryArn": repository_arn(record.region, record.account_id, record.name),
        "registryId": record.account_id,
        "repositoryName": record.name,
        "repositoryUri": addressing.repository_uri(record.account_id, record.region, record.name),
        "createdAt": record.created_at,
        "imageTagMutability": settings.tag_mutability,
        "imageScanningConfiguration": {"scanOnPush": settings.scan_on_push},
        "encryptionConfiguration": {"encryptionType": settings.encryption_type},
    }
    if settings.mutability_filters:
        out["imageTagMutabilityExclusionFilters"] = [
            {"filterType": "WILDCARD", "filter": f} for f in settings.mutability_filters
        ]
    if settings.kms_key is not None:
        out["encryptionConfiguration"]["kmsKey"] = settings.kms_key
    return out


def image_id(value: ImageId) -> dict[str, str]:
    """An ``ImageIdentifier``."""
    out = {}
    if value.digest is not None:
        out["imageDigest"] = value.digest
    if value.tag is not None:
        out["imageTag"] = value.tag
    return out


def image(record: ImageRecord, tag: str | None, registry_id: str, name: str) -> dict[str, Any]:
    """An ``Image`` (BatchGetImage, PutImage)."""
    return {
        "registryId": registry_id,
        "repositoryName": name,
        "imageId": image_id(ImageId(record.digest, tag)),
        "imageManifest": record.manifest.decode("utf-8", errors="replace"),
        "imageManifestMediaType": record.media_type,
    }


def image_detail(record: ImageRecord, registry_id: str, name: str) -> dict[str, Any]:
    """An ``ImageDetail`` (DescribeImages)."""
    out: dict[str, Any] = {
        "registryId": registry_id,
        "repositoryName": name,
        "imageDigest": record.digest,
        "imageSizeInBytes": record.size,
        "imagePushedAt": record.pushed_at,
        "imageManifestMediaType": record.media_type,
        "imageStatus": "ACTIVE",
    }
    if record.tags:
        out["imageTags"] = list(record.tags)
    if record.artifact_type is not None:
        out["artifactMediaType"] = record.artifact_type
    if record.subject_digest is not None:
        out["subjectManifestDigest"] = record.subject_digest
    return out


def failure(value: ImageFailure) -> dict[str, Any]:
    """An ``ImageFailure``."""
    return {
        "imageId": image_id(value.image_id),
        "failureCode": value.code.value,
        "failureReason": value.reason,
    }
