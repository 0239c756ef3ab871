"""The registry's metadata contract: small protocols, split by concern, and their records.

* :class:`RepositoryStore`: repositories, their tags, tag mutability and policy;
* :class:`ImageStore`: images (manifests), tags, and what each image references;
* :class:`BlobLinkStore`: which blobs each repository holds, and which images use them;
* :class:`UploadStore`: upload sessions (the bytes are in the blob store);
* :class:`TokenStore`: GetAuthorizationToken passwords;
* :class:`LifecycleStore`: lifecycle policies and their previews.

Every write is one transaction: it happens whole or not at all. Times are epoch seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

Tags = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class RepositorySettings:
    """What CreateRepository sets, besides the name and tags."""

    tag_mutability: str = "MUTABLE"
    mutability_filters: tuple[str, ...] = ()
    scan_on_push: bool = False
    encryption_type: str = "AES256"
    kms_key: str | None = None


@dataclass(frozen=True, slots=True)
class RepositoryRecord:
    """A stored repository."""

    id: int
    account_id: str
    region: str
    name: str
    created_at: float
    settings: RepositorySettings
    tags: Tags
    policy_text: str | None
    """The policy as GetRepositoryPolicy returns it (with principal ARNs)."""
    policy_eval: str | None
    """The policy as the authorizer evaluates it (bound principals as unique ids)."""


@dataclass(frozen=True, slots=True)
class PolicyBinding:
    """A user or role principal of a repository policy, bound to its unique id."""

    arn: str
    unique_id: str


class RepositoryStore(Protocol):
    """Repositories of every account and region."""

    def create_repository(
        self,
        account_id: str,
        region: str,
        name: str,
        settings: RepositorySettings,
        tags: Tags,
        now: float,
    ) -> RepositoryRecord:
        """Create a repository; raise IntegrityConflictError when the name is taken."""
        ...

    def get_repository(self, account_id: str, region: str, name: str) -> RepositoryRecord | None:
        """The repository, or None."""
        ...

    def list_repositories(
        self, account_id: str, region: str, after: str | None, limit: int
    ) -> list[RepositoryRecord]:
        """Up to ``limit`` repositories in name order, starting after the name ``after``."""
        ...

    def account_repositories(self, account_id: str) -> list[RepositoryRecord]:
        """Every repository of ``account_id``, in every region, by (region, name)."""
        ...

    def delete_repository(self, repository_id: int, force: bool) -> bool:
        """Delete it with everything in it; unless ``force``, only when it has no images.

        Returns False (deleting nothing) when it still has images and ``force`` is false.
        """
        ...

    def set_tag_mutability(
        self, repository_id: int, mutability: str, filters: tuple[str, ...]
    ) -> None:
        """Change the tag mutability setting."""
        ...

    def tag_repository(self, repository_id: int, tags: Tags, limit: int) -> bool:
        """Add or overwrite tags; False (changing nothing) when the result exceeds ``limit``."""
        ...

    def untag_repository(self, repository_id: int, keys: Sequence[str]) -> None:
        """Remove tags by key (absent keys are ignored)."""
        ...

    def set_policy(
        self, repository_id: int, text: str, evaluated: str, bindings: Sequence[PolicyBinding]
    ) -> None:
        """Replace the repository policy and its principal bindings."""
        ...

    def delete_policy(self, repository_id: int) -> str | None:
        """Remove the policy; return the removed text, or None when there was none."""
        ...

    def policy_bindings(self, repository_id: int) -> tuple[PolicyBinding, ...]:
        """The principal bindings of the current policy."""
        ...


@dataclass(frozen=True, slots=True)
class NewImage:
    """An image to store: the manifest and everything it references."""

    digest: str
    manifest: bytes
    media_type: str
    artifact_type: str | None
    size: int
    subject_digest: str | None
    blobs: tuple[tuple[str, str], ...]
    """(digest, media type) of the config and layers."""
    children: tuple[str, ...]
    """Digests of the manifests an index references."""


@dataclass(frozen=True, slots=True)
class ImageRecord:
    """A stored image (manifest) with its tags."""

    id: int
    repository_id: int
    digest: str
    manifest: bytes
    media_type: str
    artifact_type: str | None
    size: int
    pushed_at: float
    subject_digest: str | None
    tags: tuple[str, ...]


class TagRule(Enum):
    """What :meth:`ImageStore.put_image` does when the tag names another image."""

    MOVE = "move"
    KEEP = "keep"
    """The tag is immutable: leave it, and report the conflict."""


class PutOutcome(Enum):
    """What :meth:`ImageStore.put_image` did."""

    CREATED = "created"
    """A new image (and the tag, if given)."""
    TAGGED = "tagged"
    """The image existed; the tag was added or moved to it."""
    UNCHANGED = "unchanged"
    """The image existed, with that tag (or no tag was given)."""
    TAG_CONFLICT = "tag_conflict"
    """The tag names another image and ``TagRule.KEEP`` forbade moving it; nothing changed."""


@dataclass(frozen=True, slots=True)
class DeletedImage:
    """What a delete removed: the image's digest and the tags it lost."""

    digest: str
    tags: tuple[str, ...]
    image_deleted: bool


class ImageStore(Protocol):
    """Images (manifests) and tags, per repository."""

    def put_image(
        self, repository_id: int, image: NewImage, tag: str | None, rule: TagRule, now: float
    ) -> PutOutcome:
        """Store the image if new, then point ``tag`` at it per ``rule`` (one transaction).

        Raises BlobNotFoundError when a new image's blob is not linked to the repository.
        """
        ...

    def get_image(self, repository_id: int, digest: str) -> ImageRecord | None:
        """The image with ``digest``, or None."""
        ...

    def resolve_tag(self, repository_id: int, tag: str) -> ImageRecord | None:
        """The image ``tag`` names, or None."""
        ...

    def list_images(self, repository_id: int, after: int | None, limit: int) -> list[ImageRecord]:
        """Up to ``limit`` images by id (push order), starting after the image id ``after``."""
        ...

    def count_images(self, repository_id: int) -> int:
        """How many images the repository holds."""
        ...

    def delete_tag(self, repository_id: int, tag: str) -> DeletedImage | None:
        """Remove ``tag``; the image goes too when that was its last tag (ECR semantics)."""
        ...

    def delete_image(self, repository_id: int, digest: str) -> DeletedImage | None:
        """Remove the image and all its tags; None when absent.

        Raises ImageInUseError when an index in the repository references it.
        """
        ...

    def referrers(self, repository_id: int, subject_digest: str) -> list[ImageRecord]:
        """The images whose ``subject`` is ``subject_digest``."""
        ...


class BlobLinkStore(Protocol):
    """Which blobs each repository holds, and which of them images reference."""

    def link_blob(self, repository_id: int, digest: str, size: int, now: float) -> bool:
        """Record that the repository holds the blob; False when it already did."""
        ...

    def linked_blobs(self, repository_id: int, digests: Sequence[str]) -> dict[str, int]:
        """Of ``digests``, those the repository holds, with their sizes."""
        ...

    def linked_blobs_refreshed(
        self, repository_id: int, digests: Sequence[str], now: float, stale_before: float
    ) -> dict[str, int]:
        """As :meth:`linked_blobs`; links last used before ``stale_before`` are used ``now``
        (a blob HEAD keeps the link from garbage collection, docs/gc.md)."""
        ...

    def pin_blobs(self, digests: Sequence[str], now: float, lease: float) -> str:
        """Keep the blobs from garbage collection until unpinned (or ``now + lease``);
        returns the pin's id. Waits for a collection in progress on one of them."""
        ...

    def unpin_blobs(self, pin_id: str) -> None:
        """Release a pin."""
        ...

    def blob_media_type(self, repository_id: int, digest: str) -> str | None:
        """The media type an image of the repository gives the blob; None if unreferenced."""
        ...

    def blob_size(self, digest: str) -> int | None:
        """The size of a committed blob, whichever repository holds it."""
        ...

    def unlink_blob(self, repository_id: int, digest: str) -> tuple[str, ...] | None:
        """Drop the repository's link to the blob unless one of its images references it.

        Returns the digests of the referencing images (nothing changed when non-empty),
        an empty tuple when the link was dropped, None when the repository held no such
        blob. The bytes stay until garbage collection finds no link.
        """
        ...

    def orphan_blobs(self, limit: int) -> list[str]:
        """Blobs that no repository holds (garbage-collection candidates)."""
        ...

    def forget_blob(self, digest: str) -> bool:
        """Drop an orphan blob's row; False when a repository still holds it."""
        ...


@dataclass(frozen=True, slots=True)
class UploadRecord:
    """An upload session's metadata."""

    id: str
    repository_id: int
    bytes_received: int
    parts: int
    last_part_size: int
    smallest_inner_part: int | None
    """The smallest part that was followed by another (ECR's 5 MiB rule)."""
    state: str
    created_at: float
    updated_at: float


class UploadStore(Protocol):
    """Upload sessions."""

    def create_upload(self, upload_id: str, repository_id: int, now: float) -> None:
        """Record a new, empty session."""
        ...

    def get_upload(self, upload_id: str) -> UploadRecord | None:
        """The session, or None."""
        ...

    def record_part(self, upload_id: str, bytes_received: int, part_size: int, now: float) -> None:
        """Record that a part of ``part_size`` bytes arrived; the total is ``bytes_received``."""
        ...

    def delete_upload(self, upload_id: str) -> bool:
        """Forget the session (completed or cancelled)."""
        ...

    def stale_uploads(self, before: float, limit: int) -> list[str]:
        """Sessions not written to since ``before``."""
        ...


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """A GetAuthorizationToken password, stored as a hash of its secret part."""

    token_id: str
    secret_hash: str
    access_key_id: str
    principal_arn: str
    issued_at: float
    expires_at: float


class TokenStore(Protocol):
    """Registry passwords, verifiable by any node sharing the database."""

    def save_token(self, token: TokenRecord) -> None:
        """Store a new token."""
        ...

    def get_token(self, token_id: str) -> TokenRecord | None:
        """The token, or None."""
        ...

    def purge_tokens(self, now: float) -> int:
        """Delete expired tokens; return how many."""
        ...


@dataclass(frozen=True, slots=True)
class LifecyclePolicyRecord:
    """A repository's lifecycle policy (stored as given) and when it last ran."""

    repository_id: int
    text: str
    updated_at: float
    last_evaluated_at: float | None


@dataclass(frozen=True, slots=True)
class LifecycleTarget:
    """A repository with a lifecycle policy: what a lifecycle run works through."""

    repository_id: int
    account_id: str
    region: str
    name: str
    policy: LifecyclePolicyRecord


@dataclass(frozen=True, slots=True)
class LifecyclePreviewEntry:
    """One image a lifecycle policy preview expires."""

    digest: str
    tags: tuple[str, ...]
    pushed_at: float
    rule_priority: int


@dataclass(frozen=True, slots=True)
class LifecyclePreviewRecord:
    """The latest lifecycle policy preview of a repository."""

    repository_id: int
    text: str
    status: str
    """``IN_PROGRESS``, ``COMPLETE`` or ``FAILED``."""
    started_at: float
    entries: tuple[LifecyclePreviewEntry, ...]


class LifecycleStore(Protocol):
    """Lifecycle policies and their previews, one of each per repository."""

    def get_lifecycle_policy(self, repository_id: int) -> LifecyclePolicyRecord | None:
        """The policy, or None."""
        ...

    def put_lifecycle_policy(self, repository_id: int, text: str, now: float) -> None:
        """Set or replace the policy (a new policy has not been evaluated yet)."""
        ...

    def delete_lifecycle_policy(self, repository_id: int) -> LifecyclePolicyRecord | None:
        """Remove the policy; return what was removed, or None when there was none."""
        ...

    def lifecycle_evaluated(self, repository_id: int, text: str, now: float) -> bool:
        """Record that the policy ``text`` ran at ``now``; False if the policy changed."""
        ...

    def lifecycle_targets(self, after: int | None, limit: int) -> list[LifecycleTarget]:
        """Up to ``limit`` repositories with a policy, by repository id after ``after``."""
        ...

    def begin_lifecycle_preview(
        self, repository_id: int, text: str, now: float, stale_before: float
    ) -> bool:
        """Replace the preview with an ``IN_PROGRESS`` one for ``text``.

        False (changing nothing) while another preview, started after ``stale_before``,
        is still ``IN_PROGRESS``.
        """
        ...

    def finish_lifecycle_preview(
        self,
        repository_id: int,
        started_at: float,
        status: str,
        entries: Sequence[LifecyclePreviewEntry],
    ) -> None:
        """Store the result of the preview begun at ``started_at`` (if it is still current)."""
        ...

    def get_lifecycle_preview(self, repository_id: int) -> LifecyclePreviewRecord | None:
        """The latest preview, or None."""
        ...
