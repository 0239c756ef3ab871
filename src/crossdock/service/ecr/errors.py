"""ECR's domain errors, each with the structured fields its message is built from.

Every class derives from one of :mod:`crossdock.service.errors`; ``code`` is the ECR
exception name without ``Exception`` (the ECR error table appends it; the ``/v2/`` table
maps codes to the distribution spec's). Messages are AWS's text (spec §1.4); those not
observed on AWS are marked UNVERIFIED in ``docs/ecr-api.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

from crossdock.service.errors import (
    AlreadyExistsError,
    ConflictError,
    InvalidParameterError,
    NotFoundError,
)


def invalid_parameter(parameter: str, reason: str) -> InvalidParameterError:
    """``Invalid parameter at '<parameter>' failed to satisfy constraint: '<reason>'``."""
    return InvalidParameterError(
        f"Invalid parameter at '{parameter}' failed to satisfy constraint: '{reason}'"
    )


def _in_repo(name: str, registry_id: str) -> str:
    return f"in the repository with name '{name}' in registry with id '{registry_id}'"


class RepositoryNotFoundError(NotFoundError):
    """The repository does not exist in the registry."""

    code = "RepositoryNotFound"

    def __init__(self, name: str, registry_id: str) -> None:
        self.name, self.registry_id = name, registry_id
        super().__init__(
            f"The repository with name '{name}' does not exist in the registry "
            f"with id '{registry_id}'"
        )


class RepositoryAlreadyExistsError(AlreadyExistsError):
    """CreateRepository of a name that is taken."""

    code = "RepositoryAlreadyExists"

    def __init__(self, name: str, registry_id: str) -> None:
        self.name, self.registry_id = name, registry_id
        super().__init__(
            f"The repository with name '{name}' already exists in the registry "
            f"with id '{registry_id}'"
        )


class RepositoryNotEmptyError(ConflictError):
    """DeleteRepository without force of a repository that holds images."""

    code = "RepositoryNotEmpty"

    def __init__(self, name: str, registry_id: str) -> None:
        self.name, self.registry_id = name, registry_id
        super().__init__(
            f"The repository with name '{name}' in registry with id '{registry_id}' "
            "cannot be deleted because it still contains images"
        )


class RepositoryPolicyNotFoundError(NotFoundError):
    """Get/DeleteRepositoryPolicy on a repository without a policy."""

    code = "RepositoryPolicyNotFound"

    def __init__(self, name: str, registry_id: str) -> None:
        self.name, self.registry_id = name, registry_id
        super().__init__(
            "Repository policy does not exist for the repository with name "
            f"'{name}' in the registry with id '{registry_id}'"
        )


def image_id_text(digest: str | None, tag: str | None) -> str:
    """ECR's rendering of an imageId: ``{imageDigest:'null', imageTag:'latest'}``."""
    return f"{{imageDigest:'{digest or 'null'}', imageTag:'{tag or 'null'}'}}"


class ImageNotFoundError(NotFoundError):
    """DescribeImages named an image that does not exist (or a /v2 manifest is missing)."""

    code = "ImageNotFound"

    def __init__(self, digest: str | None, tag: str | None, name: str, registry_id: str) -> None:
        self.digest, self.tag, self.name, self.registry_id = digest, tag, name, registry_id
        super().__init__(
            f"The image with imageId {image_id_text(digest, tag)} does not exist within the "
            f"repository with name '{name}' in the registry with id '{registry_id}'"
        )


class ImageAlreadyExistsError(AlreadyExistsError):
    """PutImage of a manifest (and tag) that is already there: nothing changed."""

    code = "ImageAlreadyExists"

    def __init__(self, digest: str, tag: str | None, name: str, registry_id: str) -> None:
        self.digest, self.tag, self.name, self.registry_id = digest, tag, name, registry_id
        tagged = f" and tag '{tag}'" if tag else ""
        super().__init__(
            f"Image with digest '{digest}'{tagged} already exists {_in_repo(name, registry_id)}"
        )


class ImageTagAlreadyExistsError(ConflictError):
    """PutImage would move an immutable tag."""

    code = "ImageTagAlreadyExists"

    def __init__(self, tag: str, name: str) -> None:
        self.tag, self.name = tag, name
        super().__init__(
            f"The image tag '{tag}' already exists in the '{name}' repository and cannot be "
            "overwritten because the repository is immutable."
        )


class ImageDigestDoesNotMatchError(InvalidParameterError):
    """PutImage's imageDigest is not the digest of its manifest."""

    code = "ImageDigestDoesNotMatch"

    def __init__(self, given: str, actual: str) -> None:
        self.given, self.actual = given, actual
        super().__init__(
            f"The provided image digest '{given}' does not match the digest of the "
            f"image manifest '{actual}'"
        )


def _listed(digests: Sequence[str]) -> str:
    return "[" + ", ".join(digests) + "]"


class LayersNotFoundError(NotFoundError):
    """Blobs a manifest references (or a requested layer) are not in the repository.

    Build it with :meth:`for_push` (PutImage) or :meth:`for_layer` (one layer asked for).
    """

    code = "LayersNotFound"

    def __init__(self, digests: Sequence[str], name: str, registry_id: str, message: str) -> None:
        self.digests, self.name, self.registry_id = tuple(digests), name, registry_id
        super().__init__(message)

    @classmethod
    def for_push(cls, digests: Sequence[str], name: str, registry_id: str) -> LayersNotFoundError:
        """PutImage's text: every missing blob of the manifest."""
        return cls(
            digests,
            name,
            registry_id,
            f"Layers with digests '{_listed(digests)}' required for pushing image into "
            f"repository with name '{name}' in the registry with id '{registry_id}' "
            "do not exist",
        )

    @classmethod
    def for_layer(cls, digest: str, name: str, registry_id: str) -> LayersNotFoundError:
        """GetDownloadUrlForLayer's text: the one layer asked for."""
        return cls(
            [digest],
            name,
            registry_id,
            f"The layer with digest '{digest}' does not exist within the repository "
            f"with name '{name}' in the registry with id '{registry_id}'",
        )


class ReferencedImagesNotFoundError(NotFoundError):
    """Manifests an index references are not in the repository."""

    code = "ReferencedImagesNotFound"

    def __init__(self, digests: Sequence[str], name: str, registry_id: str) -> None:
        self.digests, self.name, self.registry_id = tuple(digests), name, registry_id
        super().__init__(
            f"Manifests with digests '{_listed(digests)}' required for pushing image into "
            f"repository with name '{name}' in the registry with id '{registry_id}' "
            "do not exist"
        )


class LayerInaccessibleError(ConflictError):
    """GetDownloadUrlForLayer of a blob that no image of the repository references."""

    code = "LayerInaccessible"

    def __init__(self, digest: str, name: str, registry_id: str) -> None:
        self.digest, self.name, self.registry_id = digest, name, registry_id
        super().__init__(
            f"The layer with digest '{digest}' is not accessible because no image "
            f"{_in_repo(name, registry_id)} references it"
        )


class UploadNotFoundError(NotFoundError):
    """The upload id is unknown in this repository (or was completed or cancelled)."""

    code = "UploadNotFound"

    def __init__(self, upload_id: str, name: str, registry_id: str) -> None:
        self.upload_id, self.name, self.registry_id = upload_id, name, registry_id
        super().__init__(
            f"The upload with id '{upload_id}' does not exist {_in_repo(name, registry_id)}"
        )


class InvalidLayerPartError(InvalidParameterError):
    """A part does not start right after the bytes received so far."""

    code = "InvalidLayerPart"

    def __init__(
        self, upload_id: str, name: str, registry_id: str, last_valid_byte: int, reason: str
    ) -> None:
        self.upload_id, self.name, self.registry_id = upload_id, name, registry_id
        self.last_valid_byte_received = last_valid_byte
        super().__init__(
            f"The layer part for the upload with id '{upload_id}' {_in_repo(name, registry_id)} "
            f"is not valid: {reason}. The last valid byte received is {last_valid_byte}"
        )


class EmptyUploadError(InvalidParameterError):
    """CompleteLayerUpload of an upload without parts."""

    code = "EmptyUpload"

    def __init__(self, upload_id: str, name: str, registry_id: str) -> None:
        self.upload_id, self.name, self.registry_id = upload_id, name, registry_id
        super().__init__(
            f"The upload with id '{upload_id}' {_in_repo(name, registry_id)} cannot be "
            "completed because it does not have any parts"
        )


class InvalidLayerError(InvalidParameterError):
    """The uploaded bytes match none of the digests given to CompleteLayerUpload."""

    code = "InvalidLayer"

    def __init__(self, upload_id: str, actual: str) -> None:
        self.upload_id, self.actual = upload_id, actual
        super().__init__(
            "None of the provided layer digests match the calculated layer digest "
            f"'{actual}' of the upload with id '{upload_id}'"
        )


class LayerPartTooSmallError(InvalidParameterError):
    """A part other than the last was smaller than 5 MiB."""

    code = "LayerPartTooSmall"

    def __init__(self, upload_id: str, size: int, minimum: int) -> None:
        self.upload_id, self.size, self.minimum = upload_id, size, minimum
        super().__init__(
            f"The upload with id '{upload_id}' has a layer part of {size} bytes; every part "
            f"but the last must be at least {minimum} bytes"
        )


class LayerAlreadyExistsError(AlreadyExistsError):
    """CompleteLayerUpload of a layer the repository already holds."""

    code = "LayerAlreadyExists"

    def __init__(self, digest: str, name: str, registry_id: str) -> None:
        self.digest, self.name, self.registry_id = digest, name, registry_id
        super().__init__(
            f"The layer with digest '{digest}' already exists {_in_repo(name, registry_id)}"
        )


class InvalidTagParameterError(InvalidParameterError):
    """A resource tag key or value breaks a rule."""

    code = "InvalidTagParameter"


class TooManyTagsError(ConflictError):
    """A repository would have more than 50 tags."""

    code = "TooManyTags"


class LimitExceededError(ConflictError):
    """A quota is exceeded."""

    code = "LimitExceeded"
