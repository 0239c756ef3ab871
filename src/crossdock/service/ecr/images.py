"""The image model shared by the ECR API and ``/v2/``: push, get, list, describe, delete.

An image is a manifest (or index) stored by digest in one repository, with any number of
tags. A manifest may reference only blobs the repository holds and, for an index, only
manifests stored in the same repository.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from crossdock.oci.digest import Digest
from crossdock.oci.errors import DigestError, ManifestError
from crossdock.oci.manifest import Manifest, parse_manifest
from crossdock.oci.mediatypes import ManifestKind
from crossdock.service.authz import Authorizer
from crossdock.service.ecr.common import Actor, RepositoryRef, authorize, decode_token, encode_token
from crossdock.service.ecr.common import page_size as _page_size
from crossdock.service.ecr.errors import (
    ImageDigestDoesNotMatchError,
    ImageNotFoundError,
    ImageTagAlreadyExistsError,
    LayersNotFoundError,
    ReferencedImagesNotFoundError,
    invalid_parameter,
)
from crossdock.service.ecr.repositories import RepositoryService, tag_is_immutable
from crossdock.service.ecr.stores import EcrStores
from crossdock.service.errors import ConflictError, InvalidParameterError
from crossdock.storage.errors import BlobNotFoundError, ImageInUseError
from crossdock.storage.registry_store import (
    ImageRecord,
    NewImage,
    PutOutcome,
    RepositoryRecord,
    TagRule,
)

ECR_DIGEST = re.compile(r"[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+")
NOT_FOUND_REASON = "Requested image not found"


class ManifestInvalidError(InvalidParameterError):
    """PutImage's manifest is not one crossdock stores; ``oci_code`` is the OCI code."""

    def __init__(self, error: ManifestError) -> None:
        self.oci_code = error.code
        self.detail = error.message
        super().__init__(
            "Invalid parameter at 'imageManifest' failed to satisfy constraint: "
            f"'Invalid manifest: {error.message}'"
        )


class BlobReferencedError(ConflictError):
    """A blob cannot be deleted from a repository while images there reference it."""

    code = "BlobReferencedByImages"

    def __init__(self, digest: str, images: Sequence[str], name: str, registry_id: str) -> None:
        self.digest, self.images = digest, tuple(images)
        shown = ", ".join(self.images[:10]) + (", ..." if len(self.images) > 10 else "")
        super().__init__(
            f"The blob with digest '{digest}' is referenced by images in the repository "
            f"with name '{name}' in the registry with id '{registry_id}': [{shown}]. "
            "Delete those images first; a blob is removed when no image references it."
        )


@dataclass(frozen=True, slots=True)
class ImageId:
    """An ``imageId``: a digest, a tag, or both."""

    digest: str | None = None
    tag: str | None = None


class FailureCode(Enum):
    """Per-image failure codes of the batch operations."""

    INVALID_DIGEST = "InvalidImageDigest"
    INVALID_TAG = "InvalidImageTag"
    TAG_DOES_NOT_MATCH = "ImageTagDoesNotMatchDigest"
    NOT_FOUND = "ImageNotFound"
    MISSING_DIGEST_AND_TAG = "MissingDigestAndTag"
    REFERENCED_BY_LIST = "ImageReferencedByManifestList"


@dataclass(frozen=True, slots=True)
class ImageFailure:
    """One failed ``imageId`` of a batch call."""

    image_id: ImageId
    code: FailureCode
    reason: str


@dataclass(frozen=True, slots=True)
class FoundImage:
    """An image found by an ``imageId`` (the tag is the one asked for, if any)."""

    image: ImageRecord
    tag: str | None


@dataclass(frozen=True, slots=True)
class PushedImage:
    """The result of a push: the stored image, the tag, and what changed."""

    repository: RepositoryRecord
    image: ImageRecord
    tag: str | None
    outcome: PutOutcome
    manifest: Manifest


@dataclass(frozen=True, slots=True)
class ImageIdPage:
    """A page of ListImages: (digest, tag) pairs."""

    image_ids: tuple[ImageId, ...]
    next_token: str | None


@dataclass(frozen=True, slots=True)
class ImagePage:
    """A page of DescribeImages."""

    images: tuple[ImageRecord, ...]
    next_token: str | None


class TagStatus(Enum):
    """The ``filter.tagStatus`` of ListImages and DescribeImages."""

    TAGGED = "TAGGED"
    UNTAGGED = "UNTAGGED"
    ANY = "ANY"


def validate_tag(tag: str, parameter: str = "imageTag") -> str:
    """An ECR image tag: 1–300 characters."""
    if not 1 <= len(tag) <= 300:
        raise invalid_parameter(parameter, "must have length between 1 and 300")
    return tag


def _image_failure(image_id: ImageId) -> ImageFailure | None:
    if image_id.digest is None and image_id.tag is None:
        reason = "Invalid request parameters: both tag and digest cannot be null"
        return ImageFailure(image_id, FailureCode.MISSING_DIGEST_AND_TAG, reason)
    if image_id.digest is not None and ECR_DIGEST.fullmatch(image_id.digest) is None:
        reason = "Invalid request parameters: image digest should satisfy the regex "
        reason += f"'{ECR_DIGEST.pattern}'"
        return ImageFailure(image_id, FailureCode.INVALID_DIGEST, reason)
    if image_id.tag is not None and not 1 <= len(image_id.tag) <= 300:
        reason = "Invalid request parameters: image tag should be between 1 and 300 characters"
        return ImageFailure(image_id, FailureCode.INVALID_TAG, reason)
    return None


class ImageService:
    """Images in repositories; every call authorized on the repository ARN first."""

    def __init__(
        self, stores: EcrStores, authorizer: Authorizer, repositories: RepositoryService
    ) -> None:
        self._stores = stores
        self._authorizer = authorizer
        self._repositories = repositories

    # --- push -----------------------------------------------------------------------------

    def put_image(
        self,
        actor: Actor,
        ref: RepositoryRef,
        manifest_bytes: bytes,
        media_type: str | None,
        tag: str | None,
        digest: str | None = None,
    ) -> PushedImage:
        """Store a manifest (``ecr:PutImage``) and point ``tag`` at it.

        Every referenced blob must be in the repository (LayersNotFound) and every child
        manifest of an index too (ReferencedImagesNotFound); an immutable tag never moves
        (ImageTagAlreadyExists). The caller decides whether ``UNCHANGED`` is an error
        (ECR's ImageAlreadyExists) or not (``/v2/``).
        """
        authorize(self._authorizer, actor, "ecr:PutImage", ref.arn)
        if tag is not None:
            validate_tag(tag)
        repository = self._repositories.require(ref)
        try:
            manifest = parse_manifest(manifest_bytes, media_type)
        except ManifestError as error:
            raise ManifestInvalidError(error) from None
        stored_digest = self._check_digest(manifest, manifest_bytes, digest)
        self._check_references(repository, manifest)
        size = self._image_size(repository, manifest)
        image = NewImage(
            digest=stored_digest,
            manifest=manifest_bytes,
            media_type=manifest.media_type,
            artifact_type=manifest.effective_artifact_type,
            size=size,
            subject_digest=str(manifest.subject.digest) if manifest.subject else None,
            blobs=tuple((str(b.digest), b.media_type) for b in manifest.blobs),
            children=tuple(str(c.digest) for c in manifest.manifests),
        )
        rule = TagRule.KEEP if tag and tag_is_immutable(repository.settings, tag) else TagRule.MOVE
        try:
            outcome = self._stores.images.put_image(repository.id, image, tag, rule, actor.now)
        except BlobNotFoundError as error:  # a blob DELETE unlinked it since the check
            raise LayersNotFoundError.for_push(
                [error.digest], repository.name, repository.account_id
            ) from None
        if outcome is PutOutcome.TAG_CONFLICT:
            assert tag is not None
            raise ImageTagAlreadyExistsError(tag, ref.name)
        stored = self._stores.images.get_image(repository.id, stored_digest)
        assert stored is not None
        return PushedImage(repository, stored, tag, outcome, manifest)

    @staticmethod
    def _check_digest(manifest: Manifest, data: bytes, given: str | None) -> str:
        if given is None:
            return str(manifest.digest)
        try:
            wanted = Digest.parse(given)
        except DigestError:
            raise ImageDigestDoesNotMatchError(given, str(manifest.digest)) from None
        actual = Digest.of(data, wanted.algorithm)
        if actual != wanted:
            raise ImageDigestDoesNotMatchError(given, str(actual))
        return str(wanted)

    def _check_references(self, repository: RepositoryRecord, manifest: Manifest) -> None:
        wanted = [str(b.digest) for b in manifest.blobs]
        held = self._stores.links.linked_blobs(repository.id, wanted)
        missing = [d for d in dict.fromkeys(wanted) if d not in held]
        if missing:
            raise LayersNotFoundError.for_push(missing, repository.name, repository.account_id)
        children = [str(c.digest) for c in manifest.manifests]
        absent = [
            d
            for d in dict.fromkeys(children)
            if self._stores.images.get_image(repository.id, d) is None
        ]
        if absent:
            raise ReferencedImagesNotFoundError(absent, repository.name, repository.account_id)

    def _image_size(self, repository: RepositoryRecord, manifest: Manifest) -> int:
        if manifest.kind is ManifestKind.IMAGE:
            return sum(b.size for b in manifest.layers)
        sizes = [
            image.size
            for child in manifest.manifests
            if (image := self._stores.images.get_image(repository.id, str(child.digest)))
        ]
        return max(sizes, default=0)

    # --- read -----------------------------------------------------------------------------

    def get_image(
        self, actor: Actor, ref: RepositoryRef, image_id: ImageId, action: str = "ecr:BatchGetImage"
    ) -> FoundImage:
        """One image by tag or digest (the ``/v2/`` manifest GET/HEAD); ImageNotFoundError."""
        authorize(self._authorizer, actor, action, ref.arn)
        repository = self._repositories.require(ref)
        found = self._find(repository, image_id)
        if isinstance(found, ImageFailure):
            raise ImageNotFoundError(image_id.digest, image_id.tag, ref.name, ref.registry_id)
        return found

    def batch_get_image(
        self, actor: Actor, ref: RepositoryRef, image_ids: Sequence[ImageId]
    ) -> tuple[list[FoundImage], list[ImageFailure]]:
        """BatchGetImage: each ``imageId`` found, or a failure (never an exception)."""
        authorize(self._authorizer, actor, "ecr:BatchGetImage", ref.arn)
        repository = self._repositories.require(ref)
        images: list[FoundImage] = []
        failures: list[ImageFailure] = []
        for image_id in dict.fromkeys(image_ids):
            found = self._find(repository, image_id)
            if isinstance(found, ImageFailure):
                failures.append(found)
            else:
                images.append(found)
        return images, failures

    def _find(self, repository: RepositoryRecord, image_id: ImageId) -> FoundImage | ImageFailure:
        problem = _image_failure(image_id)
        if problem is not None:
            return problem
        store = self._stores.images
        if image_id.tag is not None:
            image = store.resolve_tag(repository.id, image_id.tag)
            if (
                image is not None
                and image_id.digest is not None
                and image.digest != image_id.digest
            ):
                reason = "Invalid request parameters: given tag does not map to the given digest"
                return ImageFailure(image_id, FailureCode.TAG_DOES_NOT_MATCH, reason)
        else:
            assert image_id.digest is not None
            image = store.get_image(repository.id, image_id.digest)
        if image is None:
            return ImageFailure(image_id, FailureCode.NOT_FOUND, NOT_FOUND_REASON)
        return FoundImage(image, image_id.tag)

    def referrers(self, actor: Actor, ref: RepositoryRef, subject: str) -> list[ImageRecord]:
        """The images whose ``subject`` is ``subject`` (the ``/v2/`` referrers API;
        ``ecr:BatchGetImage``), in push order. The subject itself need not exist."""
        authorize(self._authorizer, actor, "ecr:BatchGetImage", ref.arn)
        repository = self._repositories.require(ref)
        return self._stores.images.referrers(repository.id, subject)

    def list_images(
        self,
        actor: Actor,
        ref: RepositoryRef,
        tag_status: TagStatus,
        next_token: str | None,
        max_results: int | None,
    ) -> ImageIdPage:
        """ListImages: one entry per tag, untagged images by digest only."""
        authorize(self._authorizer, actor, "ecr:ListImages", ref.arn)
        repository = self._repositories.require(ref)
        limit = _page_size(max_results)
        state = decode_token(next_token, ("image", "skip")) if next_token else None
        after = None if state is None else int(state["image"]) - 1
        skip = 0 if state is None else int(state["skip"])
        entries: list[ImageId] = []
        while True:
            batch = self._stores.images.list_images(repository.id, after, 200)
            for image in batch:
                ids = _entries(image, tag_status)
                for position in range(skip, len(ids)):
                    if len(entries) == limit:
                        token = encode_token({"image": image.id, "skip": position})
                        return ImageIdPage(tuple(entries), token)
                    entries.append(ids[position])
                skip = 0
                after = image.id
            if len(batch) < 200:
                return ImageIdPage(tuple(entries), None)

    def describe_images(
        self,
        actor: Actor,
        ref: RepositoryRef,
        image_ids: Sequence[ImageId] | None,
        tag_status: TagStatus,
        next_token: str | None,
        max_results: int | None,
    ) -> ImagePage:
        """DescribeImages: the named images (all must exist) or a page of all of them."""
        authorize(self._authorizer, actor, "ecr:DescribeImages", ref.arn)
        repository = self._repositories.require(ref)
        if image_ids is not None:
            found: dict[int, ImageRecord] = {}
            for image_id in image_ids:
                result = self._find(repository, image_id)
                if isinstance(result, ImageFailure):
                    if result.code is FailureCode.NOT_FOUND:
                        raise ImageNotFoundError(
                            image_id.digest, image_id.tag, ref.name, ref.registry_id
                        )
                    raise invalid_parameter("imageIds", result.reason)
                found[result.image.id] = result.image
            return ImagePage(tuple(found.values()), None)
        limit = _page_size(max_results)
        after = int(decode_token(next_token, ("after",))["after"]) if next_token else None
        images: list[ImageRecord] = []
        while len(images) <= limit:
            batch = self._stores.images.list_images(repository.id, after, 200)
            images.extend(i for i in batch if _entries(i, tag_status))
            if len(batch) < 200:
                break
            after = batch[-1].id
        page = tuple(images[:limit])
        token = encode_token({"after": page[-1].id}) if len(images) > limit else None
        return ImagePage(page, token)

    # --- delete ---------------------------------------------------------------------------

    def batch_delete_image(
        self, actor: Actor, ref: RepositoryRef, image_ids: Sequence[ImageId]
    ) -> tuple[list[ImageId], list[ImageFailure]]:
        """BatchDeleteImage: by tag removes the tag (the image with its last tag); by
        digest removes the image and every tag."""
        authorize(self._authorizer, actor, "ecr:BatchDeleteImage", ref.arn)
        repository = self._repositories.require(ref)
        deleted: list[ImageId] = []
        failures: list[ImageFailure] = []
        for image_id in dict.fromkeys(image_ids):
            found = self._find(repository, image_id)
            if isinstance(found, ImageFailure):
                failures.append(found)
                continue
            try:
                if image_id.tag is not None:
                    removed = self._stores.images.delete_tag(repository.id, image_id.tag)
                else:
                    removed = self._stores.images.delete_image(repository.id, found.image.digest)
            except ImageInUseError as error:
                reason = (
                    f"Requested image referenced by manifest list: [{', '.join(error.parents)}]"
                )
                failures.append(ImageFailure(image_id, FailureCode.REFERENCED_BY_LIST, reason))
                continue
            if removed is None:
                failures.append(ImageFailure(image_id, FailureCode.NOT_FOUND, NOT_FOUND_REASON))
                continue
            tags = removed.tags or (None,)
            deleted.extend(ImageId(removed.digest, t) for t in tags)
        return deleted, failures

    def delete_blob(self, actor: Actor, ref: RepositoryRef, digest: str) -> None:
        """Remove a blob from a repository (``/v2/`` blob DELETE; ``ecr:BatchDeleteImage``).

        ECR's rule: a blob goes when no image references it. The repository's link is
        dropped at once (its blob GET and HEAD answer 404 from then on); the bytes stay in
        the content-addressed store, which other repositories may still link, until
        garbage collection finds no link. LayersNotFound when the repository does not hold
        the blob; BlobReferencedError while one of its images (config or layer) uses it.
        """
        authorize(self._authorizer, actor, "ecr:BatchDeleteImage", ref.arn)
        repository = self._repositories.require(ref)
        users = self._stores.links.unlink_blob(repository.id, digest)
        if users is None:
            raise LayersNotFoundError.for_layer(digest, ref.name, ref.registry_id)
        if users:
            raise BlobReferencedError(digest, users, ref.name, ref.registry_id)


def _entries(image: ImageRecord, status: TagStatus) -> list[ImageId]:
    if image.tags:
        if status is TagStatus.UNTAGGED:
            return []
        return [ImageId(image.digest, tag) for tag in image.tags]
    if status is TagStatus.TAGGED:
        return []
    return [ImageId(image.digest, None)]
