"""The registry's metadata contract: small protocols, split by concern, and their records.

* :class:`RepositoryStore`: repositories, their tags, tag mutability and policy;
* :class:`ImageStore`: images (manifests), tags, and what each image references;
* :class:`BlobLinkStore`: which blobs each repository holds, and which images use them;
* :class:`UploadStore`: upload sessions (the bytes are in the blob store);
* :class:`TokenStore`: GetAuthorizationToken passwords.

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
        """Store the image if new, then point ``tag`` at it per ``rule`` (one transaction)."""
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

    def blob_media_type(self, repository_id: int, digest: str) -> str | None:
        """The media type an image of the repository gives the blob; None if unreferenced."""
        ...

    def blob_size(self, digest: str) -> int | None:
        """The size of a committed blob, whichever repository holds it."""
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
