"""Online garbage collection: what is garbage, in which order it goes, and why (docs/gc.md).

One run, while pushes go on:

1. expired pins (their writers died) are forgotten;
2. upload sessions idle for the grace period are deleted (row, then bytes);
3. stored bytes without a blob row (an interrupted push) are recorded, as used now, so the
   next runs treat them like any other blob;
4. links that no image of their repository references and that nothing used for the
   grace period are dropped (ECR removes layers that no image references, eventually);
5. blobs that no repository links, no image references, nothing pins and nothing used for
   the grace period are deleted: the store re-checks all of it under the blob row's lock
   and deletes the bytes before it lets the row go.

Every blob row gets a :class:`Decision` (kept or deleted, and why), as does every
unreferenced link, every expired upload and every adopted blob. ``dry_run`` changes
nothing and reports what a run would do.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from crossdock.oci.digest import Digest
from crossdock.oci.errors import DigestError
from crossdock.service.ecr.common import repository_arn
from crossdock.storage.blobs import BlobStore
from crossdock.storage.gc_store import (
    BlobDeletion,
    BlobUsage,
    GcStore,
    StaleUpload,
    UnreferencedLink,
)
from crossdock.storage.integrity import RepositoryKey

SCHEMA_VERSION = 1
"""The version of the JSON report's shape (docs/gc.md)."""
DEFAULT_GRACE = 3600.0
_PAGE = 500


class Kind(StrEnum):
    """What a decision is about."""

    BLOB = "blob"
    LINK = "link"
    UPLOAD = "upload"


class Action(StrEnum):
    """What a run did (or, dry, would do) about it."""

    DELETE = "delete"
    KEEP = "keep"
    ADOPT = "adopt"


@dataclass(frozen=True, slots=True)
class Decision:
    """One object, what happened to it and why."""

    kind: Kind
    subject: str
    """The blob digest, ``<repository ARN>@<digest>`` for a link, or the upload id."""
    action: Action
    reason: str
    applied: bool
    """False for a dry run (and for every :attr:`Action.KEEP`)."""
    size: int | None = None
    repository: str | None = None
    """The repository ARN (links and uploads)."""

    def to_json(self) -> dict[str, object]:
        """The decision as docs/gc.md's JSON schema has it."""
        return {
            "kind": self.kind.value,
            "subject": self.subject,
            "action": self.action.value,
            "applied": self.applied,
            "reason": self.reason,
            "size": self.size,
            "repository": self.repository,
        }


@dataclass(frozen=True, slots=True)
class GcOptions:
    """How a run behaves."""

    grace: float = DEFAULT_GRACE
    """Seconds an unused blob, link or upload session is kept after its last use."""
    dry_run: bool = False
    now: float | None = None
    """The time of the run (epoch seconds); the clock when None."""


@dataclass
class GcReport:
    """What a run did, counted."""

    dry_run: bool
    grace: float
    started_at: float
    blobs_deleted: int = 0
    bytes_deleted: int = 0
    blobs_kept: int = 0
    blobs_adopted: int = 0
    links_dropped: int = 0
    links_kept: int = 0
    uploads_expired: int = 0
    pins_expired: int = 0
    errors: int = 0
    """Blobs whose bytes could not be deleted (kept; the next run tries again)."""
    decisions: list[Decision] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0, or 1 when deleting some blob's bytes failed."""
        return 1 if self.errors else 0

    def count(self, decision: Decision) -> None:
        """Add ``decision`` to the counters."""
        deleting = decision.action is Action.DELETE
        if decision.kind is Kind.BLOB:
            if decision.action is Action.ADOPT:
                self.blobs_adopted += 1
            elif deleting:
                self.blobs_deleted += 1
                self.bytes_deleted += decision.size or 0
            else:
                self.blobs_kept += 1
        elif decision.kind is Kind.LINK:
            if deleting:
                self.links_dropped += 1
            else:
                self.links_kept += 1
        elif deleting:
            self.uploads_expired += 1

    def summary(self) -> str:
        """One line: what was (or would be) deleted and kept."""
        verb = "would delete" if self.dry_run else "deleted"
        return (
            f"{verb} {_plural(self.blobs_deleted, 'blob')} ({self.bytes_deleted} bytes), "
            f"{_plural(self.links_dropped, 'unreferenced link')}, "
            f"{_plural(self.uploads_expired, 'abandoned upload')}; "
            f"kept {_plural(self.blobs_kept, 'blob')} and "
            f"{_plural(self.links_kept, 'unreferenced link')} "
            f"(grace {format_age(self.grace)})"
            + (
                f"; adopted {_plural(self.blobs_adopted, 'unrecorded blob')}"
                if self.blobs_adopted
                else ""
            )
            + (f"; {_plural(self.errors, 'error')}" if self.errors else "")
        )

    def to_json(self) -> dict[str, object]:
        """The whole report as docs/gc.md's JSON schema has it."""
        return {
            "schema": SCHEMA_VERSION,
            "dry_run": self.dry_run,
            "grace_seconds": self.grace,
            "started_at": self.started_at,
            "decisions": [decision.to_json() for decision in self.decisions],
            "summary": {
                "blobs_deleted": self.blobs_deleted,
                "bytes_deleted": self.bytes_deleted,
                "blobs_kept": self.blobs_kept,
                "blobs_adopted": self.blobs_adopted,
                "links_dropped": self.links_dropped,
                "links_kept": self.links_kept,
                "uploads_expired": self.uploads_expired,
                "pins_expired": self.pins_expired,
                "errors": self.errors,
            },
            "exit_code": self.exit_code,
        }


class Progress(Protocol):
    """Where a run reports how far it got (a progress bar, or nothing)."""

    def phase(self, name: str, total: int | None) -> None:
        """A new phase begins; ``total`` steps, when known."""
        ...

    def advance(self, steps: int = 1) -> None:
        """``steps`` more steps of the current phase are done."""
        ...


class _NoProgress:
    def phase(self, name: str, total: int | None) -> None:
        return None

    def advance(self, steps: int = 1) -> None:
        return None


def format_age(seconds: float) -> str:
    """``45s``, ``1.5s``, ``12m 5s``, ``3h 20m``, ``2d 4h``: a duration for people."""
    if seconds < 10:
        return f"{seconds:.1f}".removesuffix(".0") + "s"
    whole = int(seconds)
    for unit, size, smaller, small_size in (
        ("d", 86_400, "h", 3600),
        ("h", 3600, "m", 60),
        ("m", 60, "s", 1),
    ):
        if whole >= size:
            rest = (whole % size) // small_size
            return f"{whole // size}{unit}" + (f" {rest}{smaller}" if rest else "")
    return f"{whole}s"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _arn(key: RepositoryKey) -> str:
    return repository_arn(key.region, key.account_id, key.name)


class GarbageCollector:
    """Runs collections over a metadata store and a blob store (any :class:`BlobStore`)."""

    def __init__(
        self, store: GcStore, blobs: BlobStore, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._blobs = blobs
        self._clock = clock

    def run(
        self,
        options: GcOptions,
        on_decision: Callable[[Decision], None] | None = None,
        progress: Progress | None = None,
        keep_decisions: bool = True,
    ) -> GcReport:
        """Collect once; every decision goes to ``on_decision`` as it is made (and into the
        report when ``keep_decisions``)."""
        now = self._clock() if options.now is None else options.now
        cutoff = now - options.grace
        report = GcReport(options.dry_run, options.grace, now)
        shown = progress or _NoProgress()

        def decide(decision: Decision) -> None:
            report.count(decision)
            if keep_decisions:
                report.decisions.append(decision)
            if on_decision is not None:
                on_decision(decision)

        run = _Run(self._store, self._blobs, options, now, cutoff, decide, shown, report)
        if not options.dry_run:
            report.pins_expired = self._store.expire_pins(now)
        run.uploads()
        run.adopt()
        dropping = run.links()
        run.blobs(dropping)
        return report


@dataclass
class _Run:
    store: GcStore
    blob_store: BlobStore
    options: GcOptions
    now: float
    cutoff: float
    decide: Callable[[Decision], None]
    progress: Progress
    report: GcReport
    adopted: set[str] = field(default_factory=set)
    """Blobs this run adopted (already reported: the blob phase skips them)."""

    @property
    def _apply(self) -> bool:
        return not self.options.dry_run

    def _grace(self) -> str:
        return format_age(self.options.grace)

    # --- 2. abandoned uploads ------------------------------------------------------------

    def uploads(self) -> None:
        self.progress.phase("uploads", None)
        after: str | None = None
        while page := self.store.stale_uploads(self.cutoff, after, _PAGE):
            for upload in page:
                after = upload.upload_id
                self._upload(upload)
                self.progress.advance()

    def _upload(self, upload: StaleUpload) -> None:
        idle = format_age(self.now - upload.updated_at)
        reason = (
            f"abandoned: no part arrived for {idle} (grace {self._grace()}); "
            f"{_plural(upload.bytes_received, 'byte')} received"
        )
        applied = False
        if self._apply:
            applied = self.store.drop_upload(upload.upload_id, self.cutoff)
            if not applied:
                return  # a part arrived meanwhile (or it completed): the session is alive
            self.blob_store.delete_upload(upload.upload_id)
        arn = _arn(upload.repository)
        self.decide(
            Decision(
                Kind.UPLOAD,
                upload.upload_id,
                Action.DELETE,
                reason,
                applied,
                upload.bytes_received,
                arn,
            )
        )

    # --- 3. bytes without a row ----------------------------------------------------------

    def adopt(self) -> None:
        self.progress.phase("stored blobs", None)
        for batch in _batches(self.blob_store.digests(), _PAGE):
            names = [str(digest) for digest in batch]
            known = self.store.recorded(names)
            for digest in batch:
                self.progress.advance()
                if str(digest) in known:
                    continue
                info = self.blob_store.stat(digest)
                if info is None:
                    continue  # deleted since it was listed
                applied = False
                if self._apply:
                    applied = self.store.adopt_blob(str(digest), info.size, self.now)
                    if not applied:
                        continue  # a push recorded it meanwhile
                    self.adopted.add(str(digest))
                self.decide(
                    Decision(
                        Kind.BLOB,
                        str(digest),
                        Action.ADOPT,
                        "stored bytes without a metadata row (an interrupted push): "
                        "recorded as used now; collected after the grace period if unused",
                        applied,
                        info.size,
                    )
                )

    # --- 4. unreferenced links -----------------------------------------------------------

    def links(self) -> Counter[str]:
        """Drop stale unreferenced links; return how many each digest lost (or would)."""
        self.progress.phase("unreferenced links", None)
        dropped: Counter[str] = Counter()
        after: tuple[int, str] | None = None
        while page := self.store.unreferenced_links(after, _PAGE):
            for link in page:
                after = (link.repository_id, link.digest)
                if self._link(link):
                    dropped[link.digest] += 1
                self.progress.advance()
        return dropped

    def _link(self, link: UnreferencedLink) -> bool:
        arn = _arn(link.repository)
        subject = f"{arn}@{link.digest}"
        age = format_age(self.now - link.last_used)
        if link.last_used >= self.cutoff:
            reason = (
                f"no image of the repository references it, but it was used {age} ago, "
                f"within the grace period ({self._grace()})"
            )
            self.decide(Decision(Kind.LINK, subject, Action.KEEP, reason, False, None, arn))
            return False
        applied = False
        if self._apply:
            applied = self.store.drop_link(link.repository_id, link.digest, self.cutoff)
            if not applied:
                reason = "in use again: an image or a push took it while collecting"
                self.decide(Decision(Kind.LINK, subject, Action.KEEP, reason, False, None, arn))
                return False
        reason = f"no image of the repository references it; last used {age} ago"
        self.decide(Decision(Kind.LINK, subject, Action.DELETE, reason, applied, None, arn))
        return True

    # --- 5. blobs ------------------------------------------------------------------------

    def blobs(self, dropping: Counter[str]) -> None:
        self.progress.phase("blobs", self.store.count_blobs())
        after: str | None = None
        while page := self.store.blob_usage(after, _PAGE, self.now):
            for usage in page:
                after = usage.digest
                if usage.digest not in self.adopted:
                    self._blob(usage, 0 if self._apply else dropping[usage.digest])
                self.progress.advance()

    def _blob(self, usage: BlobUsage, dropping: int) -> None:
        keep = self._keep_reason(usage, usage.links - dropping)
        if keep is not None:
            self.decide(Decision(Kind.BLOB, usage.digest, Action.KEEP, keep, False, usage.size))
            return
        age = format_age(self.now - usage.last_used)
        reason = f"no repository holds it and no image references it; last used {age} ago"
        if not self._apply:
            self.decide(Decision(Kind.BLOB, usage.digest, Action.DELETE, reason, False, usage.size))
            return
        try:
            outcome = self.store.delete_blob(
                usage.digest, self.cutoff, self.now, lambda: self._remove_bytes(usage.digest)
            )
        except Exception as error:  # the store or the blob store failed: keep, retry later
            self.report.errors += 1
            failed = f"deleting it failed ({type(error).__name__}: {error}); kept for the next run"
            self.decide(Decision(Kind.BLOB, usage.digest, Action.KEEP, failed, False, usage.size))
            return
        if outcome is BlobDeletion.DELETED:
            self.decide(Decision(Kind.BLOB, usage.digest, Action.DELETE, reason, True, usage.size))
        elif outcome is BlobDeletion.IN_USE:
            again = "in use again: a push linked, pinned or used it while collecting"
            self.decide(Decision(Kind.BLOB, usage.digest, Action.KEEP, again, False, usage.size))

    def _keep_reason(self, usage: BlobUsage, links: int) -> str | None:
        if usage.images:
            return f"referenced by {_plural(usage.images, 'image')}"
        if links > 0:
            return f"held by {links} " + ("repository" if links == 1 else "repositories")
        if usage.pins:
            return "an upload or a mount of it is in progress"
        if usage.last_used >= self.cutoff:
            age = format_age(self.now - usage.last_used)
            return f"unreferenced, but used {age} ago, within the grace period ({self._grace()})"
        return None

    def _remove_bytes(self, digest: str) -> None:
        try:
            parsed = Digest.parse(digest)
        except DigestError:
            return  # a row no blob store could hold: only the row goes
        self.blob_store.delete(parsed)


def _batches(items: Iterator[Digest], size: int) -> Iterator[list[Digest]]:
    batch: list[Digest] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
