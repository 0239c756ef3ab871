"""PutLifecyclePolicy, GetLifecyclePolicy, DeleteLifecyclePolicy, StartLifecyclePolicyPreview
and GetLifecyclePolicyPreview.

Each call is authorized on the repository ARN first (``ecr:<Operation>``), then finds the
repository. The policy text is stored as given, once it validates. A preview evaluates a
policy (the given text, or the stored one) against the repository's images at the time of
the call and stores the result for GetLifecyclePolicyPreview; it deletes nothing. The
preview runs within the StartLifecyclePolicyPreview call, which therefore answers
``COMPLETE`` (AWS answers ``IN_PROGRESS`` and finishes later); a second Start while one is
still running (another node, or a slow repository) is LifecyclePolicyPreviewInProgress.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from crossdock.service.authz import Authorizer
from crossdock.service.ecr.common import (
    Actor,
    RepositoryRef,
    authorize,
    decode_token,
    encode_token,
    repository_ref,
)
from crossdock.service.ecr.errors import invalid_parameter
from crossdock.service.ecr.images import ImageId, TagStatus
from crossdock.service.ecr.lifecycle_errors import (
    LifecyclePolicyNotFoundError,
    LifecyclePolicyPreviewInProgressError,
    LifecyclePolicyPreviewNotFoundError,
    invalid_lifecycle_policy,
)
from crossdock.service.ecr.lifecycle_model import (
    LifecyclePolicy,
    LifecyclePolicyError,
    parse_lifecycle_policy,
)
from crossdock.service.ecr.lifecycle_rules import evaluate
from crossdock.service.ecr.lifecycle_runner import repository_images
from crossdock.service.ecr.repositories import RepositoryService
from crossdock.service.ecr.stores import EcrStores
from crossdock.storage.registry_store import LifecyclePreviewEntry, RepositoryRecord

PREVIEW_PAGE = 100
PREVIEW_STALE_AFTER = 600.0
"""Seconds after which an ``IN_PROGRESS`` preview counts as abandoned (its node died)."""
COMPLETE, FAILED = "COMPLETE", "FAILED"


@dataclass(frozen=True, slots=True)
class StoredLifecyclePolicy:
    """What Put/Get/DeleteLifecyclePolicy return."""

    registry_id: str
    repository_name: str
    text: str
    last_evaluated_at: float | None = None


@dataclass(frozen=True, slots=True)
class PreviewStarted:
    """What StartLifecyclePolicyPreview returns."""

    registry_id: str
    repository_name: str
    text: str
    status: str


@dataclass(frozen=True, slots=True)
class PreviewPage:
    """A page of GetLifecyclePolicyPreview."""

    registry_id: str
    repository_name: str
    text: str
    status: str
    results: tuple[LifecyclePreviewEntry, ...]
    expiring_total: int | None
    """Every image the preview expires (unfiltered); None until the preview completes."""
    next_token: str | None


def check_lifecycle_policy(text: str) -> LifecyclePolicy:
    """Parse ``text``; raise ECR's InvalidParameterException when it is not valid."""
    try:
        return parse_lifecycle_policy(text)
    except LifecyclePolicyError as error:
        raise invalid_lifecycle_policy(error) from None


def _wanted(entry: LifecyclePreviewEntry, status: TagStatus, ids: Sequence[ImageId]) -> bool:
    if status is TagStatus.TAGGED and not entry.tags:
        return False
    if status is TagStatus.UNTAGGED and entry.tags:
        return False
    if not ids:
        return True
    return any(
        (i.digest is None or i.digest == entry.digest) and (i.tag is None or i.tag in entry.tags)
        for i in ids
        if i.digest is not None or i.tag is not None
    )


class LifecycleService:
    """Lifecycle policies and previews, each call authorized first."""

    def __init__(
        self, stores: EcrStores, authorizer: Authorizer, repositories: RepositoryService
    ) -> None:
        self._stores = stores
        self._authorizer = authorizer
        self._repositories = repositories

    def _open(
        self, actor: Actor, action: str, registry_id: str | None, name: str
    ) -> tuple[RepositoryRef, RepositoryRecord]:
        ref = repository_ref(actor, registry_id, name)
        authorize(self._authorizer, actor, action, ref.arn)
        return ref, self._repositories.require(ref)

    def put_policy(
        self, actor: Actor, registry_id: str | None, name: str, text: str
    ) -> StoredLifecyclePolicy:
        """PutLifecyclePolicy: validate and store (replacing any policy)."""
        ref, record = self._open(actor, "ecr:PutLifecyclePolicy", registry_id, name)
        check_lifecycle_policy(text)
        self._stores.lifecycle.put_lifecycle_policy(record.id, text, actor.now)
        return StoredLifecyclePolicy(ref.registry_id, ref.name, text)

    def get_policy(self, actor: Actor, registry_id: str | None, name: str) -> StoredLifecyclePolicy:
        """GetLifecyclePolicy: the stored text and when it last ran."""
        ref, record = self._open(actor, "ecr:GetLifecyclePolicy", registry_id, name)
        found = self._stores.lifecycle.get_lifecycle_policy(record.id)
        if found is None:
            raise LifecyclePolicyNotFoundError(ref.name, ref.registry_id)
        return StoredLifecyclePolicy(ref.registry_id, ref.name, found.text, found.last_evaluated_at)

    def delete_policy(
        self, actor: Actor, registry_id: str | None, name: str
    ) -> StoredLifecyclePolicy:
        """DeleteLifecyclePolicy: remove it and return what was removed."""
        ref, record = self._open(actor, "ecr:DeleteLifecyclePolicy", registry_id, name)
        removed = self._stores.lifecycle.delete_lifecycle_policy(record.id)
        if removed is None:
            raise LifecyclePolicyNotFoundError(ref.name, ref.registry_id)
        return StoredLifecyclePolicy(
            ref.registry_id, ref.name, removed.text, removed.last_evaluated_at
        )

    def start_preview(
        self, actor: Actor, registry_id: str | None, name: str, text: str | None
    ) -> PreviewStarted:
        """StartLifecyclePolicyPreview: evaluate ``text`` (default: the stored policy)."""
        ref, record = self._open(actor, "ecr:StartLifecyclePolicyPreview", registry_id, name)
        if text is None:
            stored = self._stores.lifecycle.get_lifecycle_policy(record.id)
            if stored is None:
                raise LifecyclePolicyNotFoundError(ref.name, ref.registry_id)
            text = stored.text
        policy = check_lifecycle_policy(text)
        store, now = self._stores.lifecycle, actor.now
        if not store.begin_lifecycle_preview(record.id, text, now, now - PREVIEW_STALE_AFTER):
            raise LifecyclePolicyPreviewInProgressError(ref.name, ref.registry_id)
        try:
            expiries = evaluate(policy, repository_images(self._stores, record.id), now)
        except Exception:
            store.finish_lifecycle_preview(record.id, now, FAILED, ())
            raise
        entries = [
            LifecyclePreviewEntry(e.image.digest, e.image.tags, e.image.pushed_at, e.rule_priority)
            for e in expiries
        ]
        store.finish_lifecycle_preview(record.id, now, COMPLETE, entries)
        return PreviewStarted(ref.registry_id, ref.name, text, COMPLETE)

    def get_preview(
        self,
        actor: Actor,
        registry_id: str | None,
        name: str,
        image_ids: Sequence[ImageId] | None,
        tag_status: TagStatus,
        next_token: str | None,
        max_results: int | None,
    ) -> PreviewPage:
        """GetLifecyclePolicyPreview: the latest preview's expiring images, filtered, paged."""
        ref, record = self._open(actor, "ecr:GetLifecyclePolicyPreview", registry_id, name)
        if image_ids is not None and (next_token is not None or max_results is not None):
            raise invalid_parameter(
                "imageIds", "imageIds cannot be combined with nextToken or maxResults"
            )
        preview = self._stores.lifecycle.get_lifecycle_preview(record.id)
        if preview is None:
            raise LifecyclePolicyPreviewNotFoundError(ref.name, ref.registry_id)
        wanted = [e for e in preview.entries if _wanted(e, tag_status, image_ids or ())]
        start = 0
        if next_token is not None:
            state = decode_token(next_token, ("at", "offset"))
            if state["at"] != preview.started_at:
                raise invalid_parameter("nextToken", "Invalid token")
            start = int(state["offset"])
        limit = max_results or PREVIEW_PAGE
        page = tuple(wanted[start : start + limit])
        token = None
        if start + limit < len(wanted):
            token = encode_token({"at": preview.started_at, "offset": start + limit})
        total = len(preview.entries) if preview.status == COMPLETE else None
        return PreviewPage(
            ref.registry_id, ref.name, preview.text, preview.status, page, total, token
        )
