"""Repository, policy, tag and token operations: request members → service → response."""

from __future__ import annotations

from typing import Any

from crossdock.api.ecr import render
from crossdock.api.ecr.services import EcrServices
from crossdock.service.ecr.common import Actor
from crossdock.service.ecr.policies import StoredPolicy
from crossdock.storage.registry_store import RepositorySettings

Params = dict[str, Any]
Result = dict[str, Any]


def _tags(params: Params, key: str = "tags") -> tuple[tuple[str, str], ...]:
    return tuple((t["Key"], t["Value"]) for t in params.get(key) or ())


def _filters(params: Params) -> tuple[str, ...]:
    return tuple(f["filter"] for f in params.get("imageTagMutabilityExclusionFilters") or ())


def create_repository(services: EcrServices, actor: Actor, params: Params) -> Result:
    """CreateRepository."""
    scanning = params.get("imageScanningConfiguration") or {}
    encryption = params.get("encryptionConfiguration") or {}
    settings = RepositorySettings(
        tag_mutability=params.get("imageTagMutability") or "MUTABLE",
        mutability_filters=_filters(params),
        scan_on_push=bool(scanning.get("scanOnPush", False)),
        encryption_type=encryption.get("encryptionType") or "AES256",
        kms_key=encryption.get("kmsKey"),
    )
    record = services.repositories.create(
        actor, params.get("registryId"), params["repositoryName"], settings, _tags(params)
    )
    return {"repository": render.repository(record, services.addressing)}


def describe_repositories(services: EcrServices, actor: Actor, params: Params) -> Result:
    """DescribeRepositories."""
    page = services.repositories.describe(
        actor,
        params.get("registryId"),
        params.get("repositoryNames"),
        params.get("nextToken"),
        params.get("maxResults"),
    )
    out: Result = {
        "repositories": [render.repository(r, services.addressing) for r in page.repositories]
    }
    if page.next_token is not None:
        out["nextToken"] = page.next_token
    return out


def delete_repository(services: EcrServices, actor: Actor, params: Params) -> Result:
    """DeleteRepository."""
    record = services.repositories.delete(
        actor, params.get("registryId"), params["repositoryName"], bool(params.get("force"))
    )
    return {"repository": render.repository(record, services.addressing)}


def put_image_tag_mutability(services: EcrServices, actor: Actor, params: Params) -> Result:
    """PutImageTagMutability."""
    record = services.repositories.put_tag_mutability(
        actor,
        params.get("registryId"),
        params["repositoryName"],
        params["imageTagMutability"],
        _filters(params),
    )
    out: Result = {
        "registryId": record.account_id,
        "repositoryName": record.name,
        "imageTagMutability": record.settings.tag_mutability,
    }
    if record.settings.mutability_filters:
        out["imageTagMutabilityExclusionFilters"] = [
            {"filterType": "WILDCARD", "filter": f} for f in record.settings.mutability_filters
        ]
    return out


def tag_resource(services: EcrServices, actor: Actor, params: Params) -> Result:
    """TagResource."""
    services.repositories.tag_resource(actor, params["resourceArn"], _tags(params))
    return {}


def untag_resource(services: EcrServices, actor: Actor, params: Params) -> Result:
    """UntagResource."""
    services.repositories.untag_resource(actor, params["resourceArn"], params["tagKeys"])
    return {}


def list_tags_for_resource(services: EcrServices, actor: Actor, params: Params) -> Result:
    """ListTagsForResource."""
    tags = services.repositories.list_tags(actor, params["resourceArn"])
    return {"tags": [{"Key": k, "Value": v} for k, v in tags]}


def _policy(result: StoredPolicy) -> Result:
    return {
        "registryId": result.registry_id,
        "repositoryName": result.repository_name,
        "policyText": result.policy_text,
    }


def set_repository_policy(services: EcrServices, actor: Actor, params: Params) -> Result:
    """SetRepositoryPolicy."""
    return _policy(
        services.policies.set_policy(
            actor, params.get("registryId"), params["repositoryName"], params["policyText"]
        )
    )


def get_repository_policy(services: EcrServices, actor: Actor, params: Params) -> Result:
    """GetRepositoryPolicy."""
    return _policy(
        services.policies.get_policy(actor, params.get("registryId"), params["repositoryName"])
    )


def delete_repository_policy(services: EcrServices, actor: Actor, params: Params) -> Result:
    """DeleteRepositoryPolicy."""
    return _policy(
        services.policies.delete_policy(actor, params.get("registryId"), params["repositoryName"])
    )


def get_authorization_token(services: EcrServices, actor: Actor, params: Params) -> Result:
    """GetAuthorizationToken."""
    entries = services.tokens.get_authorization_token(actor, params.get("registryIds"))
    return {
        "authorizationData": [
            {
                "authorizationToken": e.authorization_token,
                "expiresAt": e.expires_at.timestamp(),
                "proxyEndpoint": e.proxy_endpoint,
            }
            for e in entries
        ]
    }
