"""Running lifecycle policies: evaluate each repository's policy and expire its images.

Expiring an image is BatchDeleteImage by digest done by the service itself (no caller,
no authorization): the same store call removes the image and every tag, so tags and
references behave exactly as for a user's delete. Blobs stay in the blob store until
garbage collection finds them unreferenced.

Between evaluating and deleting, an image is read again; it is left alone (and looked at
again on the next run) when it is gone or its tags changed, for instance because a push
moved a tag onto it. An image that an index in the repository still references is not
deleted (ECR's ``ImageReferencedByManifestList``); when the index expires in the same run,
the image is retried after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from crossdock.service.ecr.lifecycle_model import LifecyclePolicyError, parse_lifecycle_policy
from crossdock.service.ecr.lifecycle_rules import Expiry, LifecycleImage, evaluate
from crossdock.service.ecr.stores import EcrStores
from crossdock.storage.errors import ImageInUseError
from crossdock.storage.registry_store import LifecycleTarget

PAGE = 200


class Outcome(Enum):
    """What happened to one image the policy expires."""

    EXPIRED = "expired"
    WOULD_EXPIRE = "would expire"
    """A dry run: nothing was deleted."""
    GONE = "already gone"
    TAGS_CHANGED = "kept: its tags changed since the evaluation"
    REFERENCED = "kept: an image index in the repository references it"


@dataclass(frozen=True, slots=True)
class ImageOutcome:
    """One expiry and what became of it."""

    expiry: Expiry
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class RepositoryRun:
    """One repository's lifecycle run."""

    account_id: str
    region: str
    name: str
    images: tuple[ImageOutcome, ...]
    error: str | None = None
    """Why the policy could not run (the stored text no longer validates)."""

    @property
    def expired(self) -> int:
        """How many images were deleted."""
        return sum(1 for i in self.images if i.outcome is Outcome.EXPIRED)


@dataclass(frozen=True, slots=True)
class LifecycleReport:
    """A lifecycle run over some repositories."""

    dry_run: bool
    repositories: tuple[RepositoryRun, ...]

    @property
    def expired(self) -> int:
        """How many images were deleted in all."""
        return sum(r.expired for r in self.repositories)


def repository_images(stores: EcrStores, repository_id: int) -> list[LifecycleImage]:
    """Every image of the repository, as the evaluation sees it (page by page)."""
    found: list[LifecycleImage] = []
    after: int | None = None
    while True:
        batch = stores.images.list_images(repository_id, after, PAGE)
        found.extend(LifecycleImage(i.digest, i.tags, i.pushed_at, i.id) for i in batch)
        if len(batch) < PAGE:
            return found
        after = batch[-1].id


class LifecycleRunner:
    """Evaluates the stored lifecycle policies and expires what they select."""

    def __init__(self, stores: EcrStores, clock: Callable[[], datetime]) -> None:
        self._stores = stores
        self._clock = clock

    def targets(self) -> Iterator[LifecycleTarget]:
        """Every repository with a lifecycle policy, by repository id."""
        after: int | None = None
        while True:
            batch = self._stores.lifecycle.lifecycle_targets(after, PAGE)
            yield from batch
            if len(batch) < PAGE:
                return
            after = batch[-1].repository_id

    def run(
        self,
        *,
        dry_run: bool = False,
        repository: str | None = None,
        account_id: str | None = None,
    ) -> LifecycleReport:
        """Run every policy (or those of repositories named ``repository``, of one account)."""
        runs = [
            self.run_target(target, dry_run=dry_run)
            for target in self.targets()
            if (repository is None or target.name == repository)
            and (account_id is None or target.account_id == account_id)
        ]
        return LifecycleReport(dry_run, tuple(runs))

    def run_target(self, target: LifecycleTarget, *, dry_run: bool = False) -> RepositoryRun:
        """Evaluate one repository's policy now and expire (or, dry, list) its images."""
        now = self._clock().timestamp()
        where = (target.account_id, target.region, target.name)
        try:
            policy = parse_lifecycle_policy(target.policy.text)
        except LifecyclePolicyError as error:
            return RepositoryRun(*where, (), f"the stored policy is invalid: {error.reason}")
        expiries = evaluate(policy, repository_images(self._stores, target.repository_id), now)
        if dry_run:
            outcomes = tuple(ImageOutcome(e, Outcome.WOULD_EXPIRE) for e in expiries)
            return RepositoryRun(*where, outcomes)
        outcomes = self._expire(target.repository_id, expiries)
        self._stores.lifecycle.lifecycle_evaluated(target.repository_id, target.policy.text, now)
        return RepositoryRun(*where, outcomes)

    def _expire(self, repository_id: int, expiries: tuple[Expiry, ...]) -> tuple[ImageOutcome, ...]:
        results: dict[str, ImageOutcome] = {}
        pending = list(expiries)
        # Two passes: an image an expiring index references is deleted after the index.
        for _ in range(2):
            retry = []
            for expiry in pending:
                outcome = self._expire_one(repository_id, expiry)
                if outcome is Outcome.REFERENCED:
                    retry.append(expiry)
                results[expiry.image.digest] = ImageOutcome(expiry, outcome)
            pending = retry
        return tuple(results[e.image.digest] for e in expiries)

    def _expire_one(self, repository_id: int, expiry: Expiry) -> Outcome:
        images = self._stores.images
        current = images.get_image(repository_id, expiry.image.digest)
        if current is None:
            return Outcome.GONE
        if set(current.tags) != set(expiry.image.tags):
            return Outcome.TAGS_CHANGED
        try:
            removed = images.delete_image(repository_id, expiry.image.digest)
        except ImageInUseError:
            return Outcome.REFERENCED
        return Outcome.GONE if removed is None else Outcome.EXPIRED
