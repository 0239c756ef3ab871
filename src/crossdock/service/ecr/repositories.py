"""CreateRepository, DescribeRepositories, DeleteRepository, PutImageTagMutability and
the resource tag operations."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

from crossdock.policy.variables import ContextValue
from crossdock.service.authz import Authorizer
from crossdock.service.ecr.common import (
    Actor,
    RepositoryRef,
    authorize,
    decode_token,
    encode_token,
    page_size,
    repository_arn,
    repository_ref,
    validate_registry_id,
    validate_repository_name,
)
from crossdock.service.ecr.errors import (
    InvalidTagParameterError,
    RepositoryAlreadyExistsError,
    RepositoryNotEmptyError,
    RepositoryNotFoundError,
    TooManyTagsError,
    invalid_parameter,
)
from crossdock.service.ecr.stores import EcrStores
from crossdock.storage.errors import IntegrityConflictError
from crossdock.storage.registry_store import RepositoryRecord, RepositorySettings, Tags

MAX_TAGS = 50
MUTABILITIES = ("MUTABLE", "IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION")
ENCRYPTION_TYPES = ("AES256", "KMS", "KMS_DSSE")


def validate_tags(tags: Tags) -> Tags:
    """Check tag keys and values (ECR: key 1–128, value ≤256, no ``aws:`` prefix, ≤50)."""
    keys = [key for key, _ in tags]
    if len(set(keys)) != len(keys):
        raise InvalidTagParameterError("Tag keys must be unique")
    for key, value in tags:
        if not 1 <= len(key) <= 128:
            raise InvalidTagParameterError(
                f"Tag key '{key}' must have length between 1 and 128 characters"
            )
        if len(value) > 256:
            raise InvalidTagParameterError(
                f"Tag value for key '{key}' must have length less than or equal to 256 characters"
            )
        if key.lower().startswith("aws:"):
            raise InvalidTagParameterError(
                f"Tag key '{key}' uses the reserved prefix 'aws:', which user tags cannot use"
            )
    if len(tags) > MAX_TAGS:
        raise TooManyTagsError(f"A repository can have at most {MAX_TAGS} tags")
    return tags


def request_tag_keys(tags: Tags) -> dict[str, ContextValue]:
    """``aws:RequestTag/<k>`` and ``aws:TagKeys`` for a request that sets ``tags``."""
    keys: dict[str, ContextValue] = {f"aws:RequestTag/{k}": v for k, v in tags}
    keys["aws:TagKeys"] = tuple(k for k, _ in tags)
    return keys


def validate_mutability(mutability: str, filters: tuple[str, ...]) -> None:
    """Exclusion filters go with the ``*_WITH_EXCLUSION`` settings, and only with them."""
    if mutability not in MUTABILITIES:
        reason = f"Member must satisfy enum value set: [{', '.join(MUTABILITIES)}]"
        raise invalid_parameter("imageTagMutability", reason)
    wants_filters = mutability.endswith("_WITH_EXCLUSION")
    if wants_filters and not filters:
        reason = f"imageTagMutabilityExclusionFilters are required with {mutability}"
        raise invalid_parameter("imageTagMutabilityExclusionFilters", reason)
    if filters and not wants_filters:
        reason = f"imageTagMutabilityExclusionFilters are not allowed with {mutability}"
        raise invalid_parameter("imageTagMutabilityExclusionFilters", reason)


def tag_is_immutable(settings: RepositorySettings, tag: str) -> bool:
    """Whether pushing ``tag`` again to another image is refused."""
    mutability = settings.tag_mutability
    excluded = any(fnmatch.fnmatchcase(tag, f) for f in settings.mutability_filters)
    if mutability == "IMMUTABLE":
        return True
    if mutability == "IMMUTABLE_WITH_EXCLUSION":
        return not excluded
    if mutability == "MUTABLE_WITH_EXCLUSION":
        return excluded
    return False


@dataclass(frozen=True, slots=True)
class RepositoryPage:
    """A page of DescribeRepositories."""

    repositories: tuple[RepositoryRecord, ...]
    next_token: str | None


class RepositoryService:
    """Repository lifecycle and settings, each call authorized first."""

    def __init__(self, stores: EcrStores, authorizer: Authorizer) -> None:
        self._stores = stores
        self._authorizer = authorizer

    def require(self, ref: RepositoryRef) -> RepositoryRecord:
        """The stored repository, else RepositoryNotFoundError."""
        record = self._stores.repositories.get_repository(ref.registry_id, ref.region, ref.name)
        if record is None:
            raise RepositoryNotFoundError(ref.name, ref.registry_id)
        return record

    def create(
        self,
        actor: Actor,
        registry_id: str | None,
        name: str,
        settings: RepositorySettings,
        tags: Tags = (),
    ) -> RepositoryRecord:
        """CreateRepository; with tags it also needs ``ecr:TagResource``."""
        ref = repository_ref(actor, registry_id, name)
        validate_tags(tags)
        validate_mutability(settings.tag_mutability, settings.mutability_filters)
        extra = request_tag_keys(tags) if tags else None
        authorize(self._authorizer, actor, "ecr:CreateRepository", ref.arn, extra)
        if tags:
            authorize(self._authorizer, actor, "ecr:TagResource", ref.arn, extra)
        try:
            return self._stores.repositories.create_repository(
                ref.registry_id, ref.region, ref.name, settings, tags, actor.now
            )
        except IntegrityConflictError:
            raise RepositoryAlreadyExistsError(ref.name, ref.registry_id) from None

    def describe(
        self,
        actor: Actor,
        registry_id: str | None,
        names: Sequence[str] | None,
        next_token: str | None,
        max_results: int | None,
    ) -> RepositoryPage:
        """DescribeRepositories: by names (all must exist), or a page of all of them."""
        account = validate_registry_id(registry_id) if registry_id else actor.account_id
        region = actor.info.region
        if names is not None:
            if next_token is not None or max_results is not None:
                raise invalid_parameter(
                    "repositoryNames",
                    "nextToken and maxResults cannot be used with repositoryNames",
                )
            refs = [RepositoryRef(account, region, validate_repository_name(n)) for n in names]
            for ref in refs:
                authorize(self._authorizer, actor, "ecr:DescribeRepositories", ref.arn)
            return RepositoryPage(tuple(self.require(ref) for ref in refs), None)
        limit = page_size(max_results)
        wildcard = repository_arn(region, account, "*")
        authorize(self._authorizer, actor, "ecr:DescribeRepositories", wildcard)
        after = decode_token(next_token, ("after",))["after"] if next_token else None
        found = self._stores.repositories.list_repositories(account, region, after, limit + 1)
        page = tuple(found[:limit])
        token = encode_token({"after": page[-1].name}) if len(found) > limit else None
        return RepositoryPage(page, token)

    def delete(
        self, actor: Actor, registry_id: str | None, name: str, force: bool
    ) -> RepositoryRecord:
        """DeleteRepository; without ``force`` only an empty repository."""
        ref = repository_ref(actor, registry_id, name)
        authorize(self._authorizer, actor, "ecr:DeleteRepository", ref.arn)
        record = self.require(ref)
        if not self._stores.repositories.delete_repository(record.id, force):
            if self._stores.repositories.get_repository(ref.registry_id, ref.region, ref.name):
                raise RepositoryNotEmptyError(ref.name, ref.registry_id)
            raise RepositoryNotFoundError(ref.name, ref.registry_id)
        return record

    def put_tag_mutability(
        self,
        actor: Actor,
        registry_id: str | None,
        name: str,
        mutability: str,
        filters: tuple[str, ...],
    ) -> RepositoryRecord:
        """PutImageTagMutability (enforced by every later push)."""
        ref = repository_ref(actor, registry_id, name)
        validate_mutability(mutability, filters)
        authorize(self._authorizer, actor, "ecr:PutImageTagMutability", ref.arn)
        record = self.require(ref)
        self._stores.repositories.set_tag_mutability(record.id, mutability, filters)
        return self.require(ref)

    # --- resource tags ------------------------------------------------------------------

    def _from_arn(self, actor: Actor, arn: str) -> RepositoryRef:
        parts = arn.split(":", 5)
        valid = (
            len(parts) == 6
            and parts[0] == "arn"
            and parts[2] == "ecr"
            and parts[5].startswith("repository/")
        )
        if not valid:
            raise invalid_parameter("resourceArn", "Invalid ARN for an ECR repository")
        account = validate_registry_id(parts[4], "resourceArn")
        name = validate_repository_name(parts[5][len("repository/") :], "resourceArn")
        if parts[3] != actor.info.region:
            raise RepositoryNotFoundError(name, account)
        return RepositoryRef(account, parts[3], name)

    def tag_resource(self, actor: Actor, arn: str, tags: Tags) -> None:
        """TagResource: merge tags (keys overwrite), at most 50 in all."""
        ref = self._from_arn(actor, arn)
        validate_tags(tags)
        authorize(self._authorizer, actor, "ecr:TagResource", ref.arn, request_tag_keys(tags))
        record = self.require(ref)
        if not self._stores.repositories.tag_repository(record.id, tags, MAX_TAGS):
            raise TooManyTagsError(f"A repository can have at most {MAX_TAGS} tags")

    def untag_resource(self, actor: Actor, arn: str, keys: Sequence[str]) -> None:
        """UntagResource: remove tags by key."""
        ref = self._from_arn(actor, arn)
        extra: dict[str, ContextValue] = {"aws:TagKeys": tuple(keys)}
        authorize(self._authorizer, actor, "ecr:UntagResource", ref.arn, extra)
        record = self.require(ref)
        self._stores.repositories.untag_repository(record.id, keys)

    def list_tags(self, actor: Actor, arn: str) -> Tags:
        """ListTagsForResource."""
        ref = self._from_arn(actor, arn)
        authorize(self._authorizer, actor, "ecr:ListTagsForResource", ref.arn)
        return self.require(ref).tags
