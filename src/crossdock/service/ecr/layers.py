"""The upload engine shared by the ECR layer API and ``/v2/`` blob uploads, and blob access.

An upload session is created in a repository, receives parts (each appended at the end,
hashed on the way, on disk so that it survives restarts) and is completed against a
digest: the bytes become a content-addressed blob, linked to the repository. The rules
that differ between ECR and the distribution spec are an :class:`UploadRules` value.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from crossdock.oci.digest import Digest
from crossdock.oci.errors import DigestError
from crossdock.service.authz import Authorizer
from crossdock.service.ecr.common import Actor, RepositoryRef, authorize
from crossdock.service.ecr.errors import (
    EmptyUploadError,
    InvalidLayerError,
    InvalidLayerPartError,
    LayerAlreadyExistsError,
    LayerInaccessibleError,
    LayerPartTooSmallError,
    LayersNotFoundError,
    UploadNotFoundError,
    invalid_parameter,
)
from crossdock.service.ecr.repositories import RepositoryService
from crossdock.service.ecr.stores import EcrStores
from crossdock.service.errors import AccessDeniedError, ConflictError, NotFoundError
from crossdock.storage.blobs import BlobInfo, BlobUrls
from crossdock.storage.errors import BlobDigestMismatchError
from crossdock.storage.errors import UploadNotFoundError as StoredUploadMissing
from crossdock.storage.errors import UploadOffsetError as StoredOffsetConflict
from crossdock.storage.registry_store import RepositoryRecord, UploadRecord

PART_SIZE = 10 * 1024 * 1024
"""The ``partSize`` InitiateLayerUpload suggests."""
MAX_PART = 20_971_520
MIN_INNER_PART = 5 * 1024 * 1024
PIN_LEASE = 3600.0
"""Seconds a pin keeps a blob from garbage collection if its writer dies (docs/gc.md)."""
LINK_REFRESH = 60.0
"""A blob HEAD marks its link used when it was last used longer ago than this."""


@dataclass(frozen=True, slots=True)
class UploadRules:
    """How strict completion is: ECR's layer API or the distribution spec."""

    min_inner_part: int
    """Every part but the last must be at least this big (0: no rule)."""
    allow_empty: bool
    """Whether a zero-byte blob may be completed."""
    error_if_linked: bool
    """Whether completing a blob the repository already holds is LayerAlreadyExists."""


ECR_RULES = UploadRules(min_inner_part=MIN_INNER_PART, allow_empty=False, error_if_linked=True)
OCI_RULES = UploadRules(min_inner_part=0, allow_empty=True, error_if_linked=False)


class BlobAccess(Enum):
    """Which blobs of a repository may be downloaded."""

    REFERENCED = "referenced"
    """Only blobs an image references (GetDownloadUrlForLayer: else LayerInaccessible)."""
    HELD = "held"
    """Every blob the repository holds, referenced or not (``/v2/`` blob GET)."""


@dataclass(frozen=True, slots=True)
class Upload:
    """An upload session and its repository."""

    upload_id: str
    repository: RepositoryRecord
    size: int


@dataclass(frozen=True, slots=True)
class CompletedLayer:
    """A completed upload: the blob, and whether the repository already held it."""

    repository: RepositoryRecord
    blob: BlobInfo
    already_linked: bool


@dataclass(frozen=True, slots=True)
class LayerAvailability:
    """One BatchCheckLayerAvailability answer (``size`` None when unavailable)."""

    digest: str
    size: int | None
    media_type: str | None


class LayerService:
    """Uploads and blob access, each authorized on the repository ARN first."""

    def __init__(
        self,
        stores: EcrStores,
        authorizer: Authorizer,
        repositories: RepositoryService,
        link_refresh: float = LINK_REFRESH,
        *,
        blob_urls: BlobUrls | None = None,
    ) -> None:
        self._stores = stores
        self._authorizer = authorizer
        self._repositories = repositories
        self._link_refresh = link_refresh
        self._blob_urls = blob_urls

    # --- uploads --------------------------------------------------------------------------

    def initiate(self, actor: Actor, ref: RepositoryRef) -> Upload:
        """InitiateLayerUpload (``/v2/`` POST uploads): a new, empty session."""
        authorize(self._authorizer, actor, "ecr:InitiateLayerUpload", ref.arn)
        repository = self._repositories.require(ref)
        upload_id = str(uuid.uuid4())
        self._stores.blobs.create_upload(upload_id)
        try:
            self._stores.uploads.create_upload(upload_id, repository.id, actor.now)
        except BaseException:
            self._stores.blobs.delete_upload(upload_id)
            raise
        return Upload(upload_id, repository, 0)

    def _session(self, ref: RepositoryRef, upload_id: str) -> tuple[RepositoryRecord, UploadRecord]:
        repository = self._repositories.require(ref)
        record = self._stores.uploads.get_upload(upload_id)
        if record is None or record.repository_id != repository.id:
            raise UploadNotFoundError(upload_id, ref.name, ref.registry_id)
        return repository, record

    def status(self, actor: Actor, ref: RepositoryRef, upload_id: str) -> Upload:
        """The bytes a session has received (``/v2/`` GET upload; ``ecr:UploadLayerPart``)."""
        authorize(self._authorizer, actor, "ecr:UploadLayerPart", ref.arn)
        repository, _ = self._session(ref, upload_id)
        size = self._stores.blobs.upload_size(upload_id)
        if size is None:
            raise UploadNotFoundError(upload_id, ref.name, ref.registry_id)
        return Upload(upload_id, repository, size)

    def upload_part(
        self,
        actor: Actor,
        ref: RepositoryRef,
        upload_id: str,
        first_byte: int | None,
        chunks: Iterable[bytes],
    ) -> Upload:
        """UploadLayerPart (``/v2/`` PATCH): append ``chunks`` at the end of the session.

        ``first_byte`` (when given) must equal the bytes received so far, else
        InvalidLayerPartError carries the last valid byte. Bytes are hashed and written as
        they arrive; a stream that fails midway keeps what was written.
        """
        authorize(self._authorizer, actor, "ecr:UploadLayerPart", ref.arn)
        repository, _ = self._session(ref, upload_id)
        try:
            writer = self._stores.blobs.resume_upload(upload_id)
        except StoredUploadMissing:
            raise UploadNotFoundError(upload_id, ref.name, ref.registry_id) from None
        try:
            with writer:
                start = writer.size
                if first_byte is not None and first_byte != start:
                    reason = f"the part starts at byte {first_byte}, not at byte {start}"
                    last = start - 1
                    raise InvalidLayerPartError(upload_id, ref.name, ref.registry_id, last, reason)
                try:
                    for chunk in chunks:
                        writer.write(chunk)
                finally:
                    size = writer.size
                    self._stores.uploads.record_part(upload_id, size, size - start, actor.now)
        except StoredOffsetConflict as error:  # a shared store: another node wrote meanwhile
            reason = "another request wrote to the upload at the same time"
            last = error.size - 1
            conflict = InvalidLayerPartError(upload_id, ref.name, ref.registry_id, last, reason)
            raise conflict from None
        return Upload(upload_id, repository, size)

    def complete(
        self,
        actor: Actor,
        ref: RepositoryRef,
        upload_id: str,
        digests: Sequence[str],
        rules: UploadRules,
    ) -> CompletedLayer:
        """CompleteLayerUpload (``/v2/`` PUT ``?digest=``): verify and commit the blob.

        The bytes must hash to one of ``digests`` (InvalidLayerError otherwise; the session
        stays). The blob is then linked to the repository and the session is gone.
        """
        authorize(self._authorizer, actor, "ecr:CompleteLayerUpload", ref.arn)
        repository, record = self._session(ref, upload_id)
        wanted = self._parse_digests(digests)
        size = self._stores.blobs.upload_size(upload_id)
        if size is None:
            raise UploadNotFoundError(upload_id, ref.name, ref.registry_id)
        if size == 0 and not rules.allow_empty:
            raise EmptyUploadError(upload_id, ref.name, ref.registry_id)
        inner = record.smallest_inner_part
        if rules.min_inner_part and inner is not None and inner < rules.min_inner_part:
            raise LayerPartTooSmallError(upload_id, inner, rules.min_inner_part)
        # Pinned before the commit, which may keep bytes already stored: garbage collection
        # must not delete them before the link exists (docs/gc.md, race (a)).
        links = self._stores.links
        pin = links.pin_blobs([str(digest) for digest in wanted], actor.now, PIN_LEASE)
        try:
            blob, actual = self._commit(upload_id, wanted)
            if blob is None:
                raise InvalidLayerError(upload_id, actual or "unknown")
            self._stores.uploads.delete_upload(upload_id)
            linked = not links.link_blob(repository.id, str(blob.digest), blob.size, actor.now)
        finally:
            links.unpin_blobs(pin)
        if linked and rules.error_if_linked:
            raise LayerAlreadyExistsError(str(blob.digest), ref.name, ref.registry_id)
        return CompletedLayer(repository, blob, linked)

    @staticmethod
    def _parse_digests(digests: Sequence[str]) -> list[Digest]:
        parsed = []
        for text in digests:
            try:
                parsed.append(Digest.parse(text))
            except DigestError as error:
                raise invalid_parameter("layerDigests", error.message) from None
        if not parsed:
            raise invalid_parameter("layerDigests", "must have at least 1 member")
        return parsed

    def _commit(self, upload_id: str, wanted: Sequence[Digest]) -> tuple[BlobInfo | None, str]:
        actual = ""
        for digest in wanted:
            try:
                with self._stores.blobs.resume_upload(upload_id) as writer:
                    return writer.commit(digest), str(digest)
            except BlobDigestMismatchError as error:
                actual = error.actual if error.expected.startswith("sha256:") else actual
            except StoredUploadMissing:
                return None, actual
        return None, actual

    def cancel(self, actor: Actor, ref: RepositoryRef, upload_id: str) -> None:
        """Discard a session (``/v2/`` DELETE upload; ``ecr:UploadLayerPart``)."""
        authorize(self._authorizer, actor, "ecr:UploadLayerPart", ref.arn)
        self._session(ref, upload_id)
        self._stores.uploads.delete_upload(upload_id)
        self._stores.blobs.delete_upload(upload_id)

    def mount(
        self, actor: Actor, target: RepositoryRef, source: RepositoryRef, digest: str
    ) -> CompletedLayer | None:
        """Cross-repository mount (``/v2/`` POST ``?mount=&from=``): link a blob that an
        image of ``source`` references into ``target``, without sending its bytes.

        Authorized as InitiateLayerUpload on ``target`` (AccessDenied propagates), then as
        BatchGetImage and GetDownloadUrlForLayer on ``source``. None when the source may not
        be read, does not exist or references no such blob: the caller then falls back to
        an ordinary upload.
        """
        authorize(self._authorizer, actor, "ecr:InitiateLayerUpload", target.arn)
        repository = self._repositories.require(target)
        try:
            authorize(self._authorizer, actor, "ecr:BatchGetImage", source.arn)
        except AccessDeniedError:
            return None
        links = self._stores.links
        # Pinned before the checks, so the blob cannot be collected before it is linked
        # (docs/gc.md, race (b)).
        pin = links.pin_blobs([digest], actor.now, PIN_LEASE)
        try:
            try:
                _, blob = self.locate(actor, source, digest, BlobAccess.REFERENCED)
            except (AccessDeniedError, NotFoundError, ConflictError):
                return None
            if self._stores.blobs.stat(blob.digest) is None:
                return None
            fresh = links.link_blob(repository.id, digest, blob.size, actor.now)
        finally:
            links.unpin_blobs(pin)
        return CompletedLayer(repository, blob, not fresh)

    # --- blob access ----------------------------------------------------------------------

    def check_availability(
        self, actor: Actor, ref: RepositoryRef, digests: Sequence[str]
    ) -> list[LayerAvailability]:
        """BatchCheckLayerAvailability (``/v2/`` blob HEAD): which blobs the repository holds."""
        authorize(self._authorizer, actor, "ecr:BatchCheckLayerAvailability", ref.arn)
        repository = self._repositories.require(ref)
        # A HEAD that answers "exists" marks the link used, so that garbage collection
        # keeps it for a grace period: the manifest that follows finds it (docs/gc.md).
        stale_before = actor.now - self._link_refresh
        held = self._stores.links.linked_blobs_refreshed(
            repository.id, list(digests), actor.now, stale_before
        )
        answers = []
        for digest in digests:
            size = held.get(digest)
            media_type = None
            if size is not None:
                media_type = self._stores.links.blob_media_type(repository.id, digest)
            answers.append(LayerAvailability(digest, size, media_type))
        return answers

    def locate(
        self, actor: Actor, ref: RepositoryRef, digest: str, access: BlobAccess
    ) -> tuple[RepositoryRecord, BlobInfo]:
        """GetDownloadUrlForLayer (``/v2/`` blob GET): the blob, if the repository may serve it.

        LayersNotFound when the repository does not hold it; with
        :attr:`BlobAccess.REFERENCED`, LayerInaccessible when no image references it.
        """
        authorize(self._authorizer, actor, "ecr:GetDownloadUrlForLayer", ref.arn)
        repository = self._repositories.require(ref)
        size = self._stores.links.linked_blobs(repository.id, [digest]).get(digest)
        if size is None:
            raise LayersNotFoundError.for_layer(digest, ref.name, ref.registry_id)
        referenced = self._stores.links.blob_media_type(repository.id, digest) is not None
        if access is BlobAccess.REFERENCED and not referenced:
            raise LayerInaccessibleError(digest, ref.name, ref.registry_id)
        return repository, BlobInfo(Digest.parse(digest), size)

    def direct_url(self, blob: BlobInfo) -> str | None:
        """Where clients download ``blob`` straight from the blob store (a presigned S3 URL,
        as ECR hands out), or None when crossdock serves the bytes itself. Call it after
        :meth:`locate` authorized the download.
        """
        return None if self._blob_urls is None else self._blob_urls.download_url(blob.digest)
