"""The ECR operation table: one row per implemented AWS operation name."""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from crossdock.api.ecr import ops_images as images
from crossdock.api.ecr import ops_lifecycle as lifecycle
from crossdock.api.ecr import ops_repositories as repos
from crossdock.api.ecr.services import EcrServices
from crossdock.service.ecr.common import Actor

Handler = Callable[[EcrServices, Actor, dict[str, Any]], dict[str, Any]]

OPERATIONS: MappingProxyType[str, Handler] = MappingProxyType(
    {
        "CreateRepository": repos.create_repository,
        "DescribeRepositories": repos.describe_repositories,
        "DeleteRepository": repos.delete_repository,
        "SetRepositoryPolicy": repos.set_repository_policy,
        "GetRepositoryPolicy": repos.get_repository_policy,
        "DeleteRepositoryPolicy": repos.delete_repository_policy,
        "GetAuthorizationToken": repos.get_authorization_token,
        "PutImageTagMutability": repos.put_image_tag_mutability,
        "TagResource": repos.tag_resource,
        "UntagResource": repos.untag_resource,
        "ListTagsForResource": repos.list_tags_for_resource,
        "BatchGetImage": images.batch_get_image,
        "PutImage": images.put_image,
        "ListImages": images.list_images,
        "DescribeImages": images.describe_images,
        "BatchDeleteImage": images.batch_delete_image,
        "GetDownloadUrlForLayer": images.get_download_url_for_layer,
        "BatchCheckLayerAvailability": images.batch_check_layer_availability,
        "InitiateLayerUpload": images.initiate_layer_upload,
        "UploadLayerPart": images.upload_layer_part,
        "CompleteLayerUpload": images.complete_layer_upload,
        "PutLifecyclePolicy": lifecycle.put_lifecycle_policy,
        "GetLifecyclePolicy": lifecycle.get_lifecycle_policy,
        "DeleteLifecyclePolicy": lifecycle.delete_lifecycle_policy,
        "StartLifecyclePolicyPreview": lifecycle.start_lifecycle_policy_preview,
        "GetLifecyclePolicyPreview": lifecycle.get_lifecycle_policy_preview,
    }
)
"""Every implemented ECR operation; the model's other operations are UnsupportedOperation."""

INLINE_OPERATIONS = frozenset(
    {
        "GetAuthorizationToken",
        "DescribeRepositories",
        "GetRepositoryPolicy",
        "ListTagsForResource",
        "GetDownloadUrlForLayer",
        "BatchCheckLayerAvailability",
    }
)
"""Operations short enough to run on the event loop instead of a worker thread.

Each answers from a bounded number of indexed SQLite reads (WAL: readers never wait), and
GetAuthorizationToken adds one single-row insert; none touches blob data or loops over
stored images. A worker-thread hop costs 0.4-0.9 ms of CPU on a 2-core machine (two
cross-thread wake-ups), as much as the call itself, and these are the calls every login
and pull makes (docs/performance.md). Every other operation runs in the thread pool.
"""
