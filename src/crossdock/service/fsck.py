"""``crossdock fsck``: check every blob's bytes and every reference; repair only when asked.

A run reads the metadata rows first, then walks the blob directory, hashing every blob
file (streamed), then checks the references between rows. It changes nothing unless
``repair`` is set; then each finding with a repair is repaired after every check has run,
so the report describes the state that was found. docs/fsck.md lists every code and what
its repair does.

Files and sessions younger than ``grace`` seconds belong to requests in flight (a server
may be running on the same data dir) and are not reported.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType

from crossdock.oci.digest import Digest, Hasher
from crossdock.oci.errors import DigestError
from crossdock.service.ecr.common import repository_arn
from crossdock.storage.integrity import (
    BlobFiles,
    FileKind,
    ImageReference,
    IntegrityStore,
    RepositoryKey,
    StoredFile,
    UploadSession,
)

SCHEMA_VERSION = 1
"""The version of the JSON report's shape (docs/fsck.md)."""
DEFAULT_GRACE = 3600.0
DEFAULT_UPLOAD_EXPIRY = 7 * 24 * 3600.0
_PAGE = 200


class Code(StrEnum):
    """What is wrong; docs/fsck.md describes each."""

    BLOB_CORRUPT = "blob_corrupt"
    BLOB_MISSING = "blob_missing"
    BLOB_UNRECORDED = "blob_unrecorded"
    BLOB_SIZE_MISMATCH = "blob_size_mismatch"
    LINK_DANGLING = "link_dangling"
    IMAGE_BLOB_MISSING = "image_blob_missing"
    IMAGE_CHILD_MISSING = "image_child_missing"
    IMAGE_DIGEST_MISMATCH = "image_digest_mismatch"
    UPLOAD_EXPIRED = "upload_expired"
    UPLOAD_FILE_MISSING = "upload_file_missing"
    UPLOAD_ORPHAN_FILE = "upload_orphan_file"
    TEMP_FILE = "temp_file"
    STRAY_FILE = "stray_file"


REPAIRS: Mapping[Code, str] = MappingProxyType(
    {
        Code.BLOB_CORRUPT: "move the file to quarantine and forget the blob, so that the "
        "next push uploads it again",
        Code.BLOB_MISSING: "forget the blob, so that the next push uploads it again",
        Code.BLOB_UNRECORDED: "delete the file",
        Code.BLOB_SIZE_MISMATCH: "record the size of the verified file",
        Code.LINK_DANGLING: "remove the link",
        Code.UPLOAD_EXPIRED: "delete the session and its file",
        Code.UPLOAD_FILE_MISSING: "delete the session",
        Code.UPLOAD_ORPHAN_FILE: "delete the file",
        Code.TEMP_FILE: "delete the file",
        Code.STRAY_FILE: "move the file to quarantine",
    }
)
"""What ``--repair`` does per code; codes not listed are reported, never changed."""

_REMOVES_FILE = frozenset(
    {Code.BLOB_UNRECORDED, Code.TEMP_FILE, Code.UPLOAD_ORPHAN_FILE, Code.UPLOAD_EXPIRED}
)
Detail = Mapping[str, str | int]


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: what, about which object, where, and its repair."""

    code: Code
    subject: str
    """The blob digest, ``<repository ARN>@<image digest>``, upload id, or file path."""
    message: str
    path: str | None = None
    """The file concerned, relative to the data dir."""
    repositories: tuple[str, ...] = ()
    """ARNs of the repositories concerned."""
    detail: Detail = field(default_factory=dict)
    repaired: bool = False
    link: tuple[RepositoryKey, str] | None = field(default=None, repr=False, compare=False)
    """For :attr:`Code.LINK_DANGLING`: the link to remove (not part of the report)."""

    @property
    def repair(self) -> str | None:
        """What ``--repair`` does about it; None when it is only reported."""
        return REPAIRS.get(self.code)

    def to_json(self) -> dict[str, object]:
        """The finding as docs/fsck.md's JSON schema has it."""
        return {
            "code": self.code.value,
            "subject": self.subject,
            "message": self.message,
            "path": self.path,
            "repositories": list(self.repositories),
            "repair": self.repair,
            "repaired": self.repaired,
            "detail": dict(self.detail),
        }


@dataclass(frozen=True, slots=True)
class Checked:
    """How much a run looked at."""

    blob_files: int = 0
    blob_bytes: int = 0
    blob_rows: int = 0
    images: int = 0
    upload_sessions: int = 0
    in_flight: int = 0
    """Files and sessions skipped because they are younger than the grace period."""


@dataclass(frozen=True, slots=True)
class FsckReport:
    """Everything a run found (and repaired)."""

    findings: tuple[Finding, ...]
    checked: Checked
    repair: bool

    @property
    def repaired(self) -> int:
        """How many findings were repaired."""
        return sum(1 for finding in self.findings if finding.repaired)

    @property
    def remaining(self) -> int:
        """How many findings are still problems."""
        return len(self.findings) - self.repaired

    @property
    def exit_code(self) -> int:
        """0 when nothing is (left) wrong, else 1."""
        return 0 if self.remaining == 0 else 1

    def to_json(self, data_dir: str) -> dict[str, object]:
        """The whole report as docs/fsck.md's JSON schema has it."""
        checked = self.checked
        return {
            "schema": SCHEMA_VERSION,
            "data_dir": data_dir,
            "repair": self.repair,
            "checked": {
                "blob_files": checked.blob_files,
                "blob_bytes": checked.blob_bytes,
                "blob_rows": checked.blob_rows,
                "images": checked.images,
                "upload_sessions": checked.upload_sessions,
                "in_flight": checked.in_flight,
            },
            "findings": [finding.to_json() for finding in self.findings],
            "summary": {
                "problems": len(self.findings),
                "repaired": self.repaired,
                "remaining": self.remaining,
            },
            "exit_code": self.exit_code,
        }


@dataclass(frozen=True, slots=True)
class FsckOptions:
    """How a run behaves."""

    repair: bool = False
    grace: float = DEFAULT_GRACE
    """Seconds during which a new file or session counts as in flight."""
    upload_expiry: float = DEFAULT_UPLOAD_EXPIRY
    """Seconds after its last write that an upload session is abandoned."""
    now: float | None = None
    """The time of the run (epoch seconds); the clock when None."""


def _arn(repository: RepositoryKey) -> str:
    return repository_arn(repository.region, repository.account_id, repository.name)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


@dataclass
class _Scan:
    blobs: dict[str, StoredFile] = field(default_factory=dict)
    uploads: dict[str, StoredFile] = field(default_factory=dict)
    temps: list[StoredFile] = field(default_factory=list)
    strays: list[StoredFile] = field(default_factory=list)


class Fsck:
    """Checks (and repairs) one data dir's blob files against its metadata rows."""

    def __init__(
        self, files: BlobFiles, rows: IntegrityStore, data_dir: Path, quarantine: Path
    ) -> None:
        self._files = files
        self._rows = rows
        self._data_dir = data_dir
        self._quarantine = quarantine

    def run(self, options: FsckOptions) -> FsckReport:
        """Check everything; repair what can be repaired when ``options.repair``."""
        now = time.time() if options.now is None else options.now
        recorded = self._rows.blob_rows()  # rows before files: see the module docstring
        sessions = self._rows.upload_sessions()
        scan = self._scan()
        in_flight = 0
        findings: list[Finding] = []
        bad: set[str] = set()

        blob_bytes = 0
        for name, stored in sorted(scan.blobs.items()):
            size = recorded.get(name)
            if size is None and now - stored.mtime < options.grace:
                in_flight += 1
                continue
            blob_bytes += stored.size
            finding = self._check_blob(stored, size)
            if finding is not None:
                findings.append(finding)
                if finding.code is Code.BLOB_CORRUPT and size is not None:
                    bad.add(name)
        for name in sorted(set(recorded) - set(scan.blobs)):
            if not self._rows.holders(name):
                continue  # garbage that `crossdock gc` is (or was) deleting: docs/gc.md
            bad.add(name)
            findings.append(self._missing_blob(name, recorded[name]))
        findings.extend(self._dangling_links())
        findings.extend(self._image_blobs(bad))
        findings.extend(self._children())
        images, mismatched = self._manifests()
        findings.extend(mismatched)
        uploads, skipped = self._uploads(scan, sessions, now, options)
        findings.extend(uploads)
        in_flight += skipped
        for stored in scan.temps:
            if now - stored.mtime < options.grace:
                in_flight += 1
            else:
                findings.append(self._file_finding(Code.TEMP_FILE, stored, "a leftover temp file"))
        for stored in scan.strays:
            findings.append(
                self._file_finding(Code.STRAY_FILE, stored, "a file crossdock did not write here")
            )

        findings.sort(key=lambda f: (f.code.value, f.subject, f.repositories))
        if options.repair:
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
            findings = [self._repair(finding, self._quarantine / stamp) for finding in findings]
        checked = Checked(
            blob_files=len(scan.blobs),
            blob_bytes=blob_bytes,
            blob_rows=len(recorded),
            images=images,
            upload_sessions=len(sessions),
            in_flight=in_flight,
        )
        return FsckReport(tuple(findings), checked, options.repair)

    # --- checks ---------------------------------------------------------------------------

    def _scan(self) -> _Scan:
        scan = _Scan()
        for stored in self._files.scan():
            if stored.kind is FileKind.BLOB and stored.digest is not None:
                scan.blobs[str(stored.digest)] = stored
            elif stored.kind is FileKind.UPLOAD and stored.upload_id is not None:
                scan.uploads[stored.upload_id] = stored
            elif stored.kind is FileKind.TEMP:
                scan.temps.append(stored)
            else:
                scan.strays.append(stored)
        return scan

    def _relative(self, path: str) -> str:
        full = self._files.root / path
        try:
            return full.relative_to(self._data_dir).as_posix()
        except ValueError:
            return full.as_posix()

    def _holders(self, digest: str) -> tuple[str, ...]:
        return tuple(_arn(key) for key in self._rows.holders(digest))

    def _check_blob(self, stored: StoredFile, recorded: int | None) -> Finding | None:
        assert stored.digest is not None
        name = str(stored.digest)
        actual = self._files.hash_blob(stored.digest)
        if actual is None:
            return None  # removed since the scan
        path = self._relative(stored.path)
        if actual != stored.digest:
            detail: dict[str, str | int] = {"actual_digest": str(actual), "size": stored.size}
            sizes = f"{_plural(stored.size, 'byte')}"
            if recorded is not None:
                detail["recorded_size"] = recorded
                sizes += f"; {recorded} recorded"
            return Finding(
                Code.BLOB_CORRUPT,
                name,
                f"the file's bytes hash to {actual}, not to its name ({sizes})",
                path,
                self._holders(name) if recorded is not None else (),
                detail,
            )
        if recorded is None:
            return Finding(
                Code.BLOB_UNRECORDED,
                name,
                "a verified blob file that no metadata row records (no repository holds it)",
                path,
                detail={"size": stored.size},
            )
        if recorded != stored.size:
            return Finding(
                Code.BLOB_SIZE_MISMATCH,
                name,
                f"the recorded size is {recorded}, the verified file has "
                f"{_plural(stored.size, 'byte')}",
                path,
                self._holders(name),
                {"size": stored.size, "recorded_size": recorded},
            )
        return None

    def _missing_blob(self, name: str, size: int) -> Finding:
        try:
            digest = Digest.parse(name)
            path: str | None = self._relative_to_data_dir(self._files.blob_path(digest))
        except DigestError:
            path = None
        return Finding(
            Code.BLOB_MISSING,
            name,
            "a recorded blob has no file",
            path,
            self._holders(name),
            {"recorded_size": size},
        )

    def _dangling_links(self) -> Iterator[Finding]:
        for repository, digest in self._rows.dangling_links():
            yield Finding(
                Code.LINK_DANGLING,
                f"{_arn(repository)}@{digest}",
                "the repository links a blob that has no metadata row",
                repositories=(_arn(repository),),
                detail={"blob": digest},
                link=(repository, digest),
            )

    def _image_blobs(self, bad: set[str]) -> Iterator[Finding]:
        seen: set[tuple[str, str]] = set()
        unlinked = self._rows.unlinked_image_blobs()
        damaged = self._rows.image_blob_references(bad) if bad else []
        for reference, reason in [
            *((ref, "which its repository does not hold") for ref in unlinked),
            *((ref, "whose stored bytes are missing or corrupt") for ref in damaged),
        ]:
            subject = f"{_arn(reference.repository)}@{reference.image_digest}"
            if (subject, reference.target) in seen:
                continue
            seen.add((subject, reference.target))
            yield self._image_finding(
                Code.IMAGE_BLOB_MISSING,
                reference,
                f"the image references blob {reference.target}, {reason}; "
                "push the blob again to heal it",
                "blob",
            )

    def _children(self) -> Iterator[Finding]:
        for reference in self._rows.missing_children():
            yield self._image_finding(
                Code.IMAGE_CHILD_MISSING,
                reference,
                f"the index references manifest {reference.target}, "
                "which is not an image of its repository",
                "child",
            )

    @staticmethod
    def _image_finding(code: Code, reference: ImageReference, message: str, key: str) -> Finding:
        arn = _arn(reference.repository)
        return Finding(
            code,
            f"{arn}@{reference.image_digest}",
            message,
            repositories=(arn,),
            detail={key: reference.target},
        )

    def _manifests(self) -> tuple[int, list[Finding]]:
        count, after = 0, 0
        found: list[Finding] = []
        while page := self._rows.manifests(after, _PAGE):
            for image in page:
                count += 1
                after = image.id
                actual = _manifest_digest(image.digest, image.manifest)
                if actual != image.digest:
                    arn = _arn(image.repository)
                    found.append(
                        Finding(
                            Code.IMAGE_DIGEST_MISMATCH,
                            f"{arn}@{image.digest}",
                            f"the stored manifest hashes to {actual}",
                            repositories=(arn,),
                            detail={"actual_digest": actual},
                        )
                    )
        return count, found

    def _uploads(
        self,
        scan: _Scan,
        sessions: list[UploadSession],
        now: float,
        options: FsckOptions,
    ) -> tuple[list[Finding], int]:
        found: list[Finding] = []
        skipped = 0
        known: set[str] = set()
        for session in sessions:
            upload_id = session.id
            known.add(upload_id)
            stored = scan.uploads.get(upload_id)
            last = session.updated_at if stored is None else max(session.updated_at, stored.mtime)
            idle = now - last
            if stored is None:
                if idle < options.grace:
                    skipped += 1
                    continue
                found.append(
                    Finding(Code.UPLOAD_FILE_MISSING, upload_id, "an upload session has no file")
                )
            elif idle >= options.upload_expiry:
                found.append(
                    Finding(
                        Code.UPLOAD_EXPIRED,
                        upload_id,
                        f"an upload session idle for {int(idle)} seconds (abandoned)",
                        self._relative(stored.path),
                        detail={"size": stored.size, "idle_seconds": int(idle)},
                    )
                )
        for upload_id, stored in sorted(scan.uploads.items()):
            if upload_id in known:
                continue
            if now - stored.mtime < options.grace:
                skipped += 1
                continue
            found.append(
                self._file_finding(
                    Code.UPLOAD_ORPHAN_FILE, stored, "an upload file without a session", upload_id
                )
            )
        return found, skipped

    def _file_finding(
        self, code: Code, stored: StoredFile, message: str, subject: str | None = None
    ) -> Finding:
        path = self._relative(stored.path)
        return Finding(code, subject or path, message, path, detail={"size": stored.size})

    # --- repairs --------------------------------------------------------------------------

    def _repair(self, finding: Finding, quarantine: Path) -> Finding:
        if finding.repair is None:
            return finding
        detail = dict(finding.detail)
        try:
            self._apply(finding, quarantine, detail)
        except OSError as error:
            detail["repair_error"] = str(error)
            return replace(finding, detail=detail)
        return replace(finding, detail=detail, repaired=True)

    def _apply(self, finding: Finding, quarantine: Path, detail: dict[str, str | int]) -> None:
        code, blob_path = finding.code, self._blob_relative(finding.path)
        if code in (Code.BLOB_CORRUPT, Code.STRAY_FILE) and blob_path is not None:
            moved = self._files.quarantine(blob_path, quarantine)
            detail["quarantined_to"] = self._relative_to_data_dir(moved)
        if code in (Code.BLOB_CORRUPT, Code.BLOB_MISSING):
            detail["links_removed"] = self._rows.forget_blob(finding.subject)
        elif code is Code.BLOB_SIZE_MISMATCH:
            self._rows.correct_blob_size(finding.subject, int(finding.detail["size"]))
        elif code is Code.LINK_DANGLING and finding.link is not None:
            self._rows.drop_dangling_link(*finding.link)
        elif code in (Code.UPLOAD_EXPIRED, Code.UPLOAD_FILE_MISSING):
            self._rows.drop_upload(finding.subject)
        if code in _REMOVES_FILE and blob_path is not None:
            self._files.remove(blob_path)

    def _blob_relative(self, path: str | None) -> str | None:
        if path is None:
            return None
        full = self._data_dir / path
        try:
            return full.relative_to(self._files.root).as_posix()
        except ValueError:
            return None

    def _relative_to_data_dir(self, path: Path) -> str:
        try:
            return path.relative_to(self._data_dir).as_posix()
        except ValueError:
            return path.as_posix()


def _manifest_digest(filed_under: str, manifest: bytes) -> str:
    try:
        algorithm = Digest.parse(filed_under).algorithm
    except DigestError:
        algorithm = "sha256"
    hasher = Hasher(algorithm)
    hasher.update(manifest)
    return str(hasher.digest())
