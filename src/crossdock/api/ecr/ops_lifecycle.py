"""Lifecycle policy operations: request members → service → response."""

from __future__ import annotations

from typing import Any

from crossdock.api.ecr.services import EcrServices
from crossdock.service.ecr.common import Actor
from crossdock.service.ecr.images import ImageId, TagStatus
from crossdock.service.ecr.lifecycle import StoredLifecyclePolicy
from crossdock.storage.registry_store import LifecyclePreviewEntry

Params = dict[str, Any]
Result = dict[str, Any]


def _policy(stored: StoredLifecyclePolicy, with_evaluated: bool = True) -> Result:
    out: Result = {
        "registryId": stored.registry_id,
        "repositoryName": stored.repository_name,
        "lifecyclePolicyText": stored.text,
    }
    if with_evaluated and stored.last_evaluated_at is not None:
        out["lastEvaluatedAt"] = stored.last_evaluated_at
    return out


def put_lifecycle_policy(services: EcrServices, actor: Actor, params: Params) -> Result:
    """PutLifecyclePolicy."""
    stored = services.lifecycle.put_policy(
        actor, params.get("registryId"), params["repositoryName"], params["lifecyclePolicyText"]
    )
    return _policy(stored, with_evaluated=False)


def get_lifecycle_policy(services: EcrServices, actor: Actor, params: Params) -> Result:
    """GetLifecyclePolicy."""
    return _policy(
        services.lifecycle.get_policy(actor, params.get("registryId"), params["repositoryName"])
    )


def delete_lifecycle_policy(services: EcrServices, actor: Actor, params: Params) -> Result:
    """DeleteLifecyclePolicy."""
    return _policy(
        services.lifecycle.delete_policy(actor, params.get("registryId"), params["repositoryName"])
    )


def start_lifecycle_policy_preview(services: EcrServices, actor: Actor, params: Params) -> Result:
    """StartLifecyclePolicyPreview."""
    started = services.lifecycle.start_preview(
        actor,
        params.get("registryId"),
        params["repositoryName"],
        params.get("lifecyclePolicyText"),
    )
    return {
        "registryId": started.registry_id,
        "repositoryName": started.repository_name,
        "lifecyclePolicyText": started.text,
        "status": started.status,
    }


def _result(entry: LifecyclePreviewEntry) -> Result:
    out: Result = {
        "imageDigest": entry.digest,
        "imagePushedAt": entry.pushed_at,
        "action": {"type": "EXPIRE"},
        "appliedRulePriority": entry.rule_priority,
        "storageClass": "STANDARD",
    }
    if entry.tags:
        out["imageTags"] = list(entry.tags)
    return out


def get_lifecycle_policy_preview(services: EcrServices, actor: Actor, params: Params) -> Result:
    """GetLifecyclePolicyPreview."""
    ids = params.get("imageIds")
    image_ids = None
    if ids is not None:
        image_ids = [ImageId(i.get("imageDigest"), i.get("imageTag")) for i in ids]
    status = TagStatus((params.get("filter") or {}).get("tagStatus") or "ANY")
    page = services.lifecycle.get_preview(
        actor,
        params.get("registryId"),
        params["repositoryName"],
        image_ids,
        status,
        params.get("nextToken"),
        params.get("maxResults"),
    )
    out: Result = {
        "registryId": page.registry_id,
        "repositoryName": page.repository_name,
        "lifecyclePolicyText": page.text,
        "status": page.status,
        "previewResults": [_result(e) for e in page.results],
    }
    if page.expiring_total is not None:
        out["summary"] = {"expiringImageTotalCount": page.expiring_total}
    if page.next_token is not None:
        out["nextToken"] = page.next_token
    return out
