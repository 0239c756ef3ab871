"""Reading the decision trail: :class:`TrailReader` over ``<data-dir>/trail``.

The server's :class:`crossdock.service.trail_writer.TrailWriter` writes one
CloudTrail-shaped JSON object per line (docs/trail.md). Readers never need the server:
they read the day files, and take complete lines only.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crossdock.storage.trail_files import (
    day_files,
    iter_lines,
    iter_lines_reversed,
    read_complete_lines,
)


@dataclass(frozen=True, slots=True)
class TrailEvent:
    """One recorded decision: ``record`` is the JSON object as written."""

    record: dict[str, Any] = field(hash=False)

    def _crossdock(self) -> dict[str, Any]:
        block = self.record.get("crossdock")
        return block if isinstance(block, dict) else {}

    def _identity(self) -> dict[str, Any]:
        identity = self.record.get("userIdentity")
        return identity if isinstance(identity, dict) else {}

    @property
    def principal_arn(self) -> str:
        """The caller's ARN (a session ARN for an assumed role)."""
        return str(self._identity().get("arn", ""))

    @property
    def role_arn(self) -> str | None:
        """For a role session: the role's ARN; else None."""
        issuer = self._identity().get("sessionContext", {}).get("sessionIssuer", {})
        arn = issuer.get("arn") if isinstance(issuer, dict) else None
        return str(arn) if arn else None

    @property
    def action(self) -> str:
        """The IAM action that was decided (``ecr:BatchGetImage``)."""
        return str(self._crossdock().get("action", ""))

    @property
    def resource(self) -> str:
        """The resource ARN that was decided (or ``*``)."""
        return str(self._crossdock().get("resource", ""))

    @property
    def decision(self) -> str:
        """``Allowed``, ``ImplicitDeny``, ``ExplicitDeny`` or ``TokenExpired``."""
        return str(self._crossdock().get("decision", ""))

    @property
    def denied(self) -> bool:
        """True unless the request was allowed (a ``TokenExpired`` request is denied)."""
        return self.decision != "Allowed"

    @property
    def token_expired(self) -> bool:
        """True for a ``/v2/`` request refused for its expired registry token."""
        return self.decision == "TokenExpired"

    @property
    def event_time(self) -> datetime:
        """When the request was decided (UTC)."""
        text = str(self.record.get("eventTime", ""))
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)

    @property
    def repository(self) -> str | None:
        """The repository name the request named, if any."""
        parameters = self.record.get("requestParameters") or {}
        name = parameters.get("repositoryName") if isinstance(parameters, dict) else None
        return str(name) if name else None

    @property
    def error_message(self) -> str | None:
        """The AccessDenied text the client saw; None when allowed."""
        message = self.record.get("errorMessage")
        return str(message) if message is not None else None

    def matches(
        self,
        *,
        denied: bool = False,
        principal: str | None = None,
        repository: str | None = None,
        since: datetime | None = None,
    ) -> bool:
        """Whether the event passes every filter given.

        ``principal`` matches the caller's ARN, or the role of a role session;
        ``repository`` is a repository name or a repository ARN.
        """
        if denied and not self.denied:
            return False
        if principal is not None and principal not in (self.principal_arn, self.role_arn):
            return False
        if repository is not None:
            if repository.startswith("arn:"):
                if self.resource != repository:
                    return False
            elif self.repository != repository:
                return False
        return since is None or self.event_time >= since


def _event(line: str) -> TrailEvent | None:
    try:
        record = json.loads(line)
        event = TrailEvent(record) if isinstance(record, dict) else None
        if event is not None:
            event.event_time  # noqa: B018 (a line without a readable time is skipped)
    except ValueError:
        return None
    return event


def _parsed(lines: Iterable[str]) -> Iterator[TrailEvent]:
    for line in lines:
        event = _event(line)
        if event is not None:
            yield event


class TrailReader:
    """Queries the decision trail in ``trail_dir`` (``<data-dir>/trail``)."""

    def __init__(self, trail_dir: Path) -> None:
        self._dir = trail_dir

    def _files_since(self, since: datetime | None) -> list[Path]:
        first = None if since is None else since.astimezone(UTC).date()
        return [path for day, path in day_files(self._dir) if first is None or day >= first]

    def query(
        self,
        *,
        denied: bool = False,
        principal: str | None = None,
        repository: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[TrailEvent]:
        """The events that pass every filter, oldest first; the newest ``limit`` if given."""
        kept: deque[TrailEvent] = deque(maxlen=limit)
        for path in self._files_since(since):
            for event in _parsed(iter_lines(path)):
                if event.matches(
                    denied=denied, principal=principal, repository=repository, since=since
                ):
                    kept.append(event)
        return list(kept)

    def last_denied(self) -> TrailEvent | None:
        """The most recent denied request, read from the newest file backwards."""
        for _, path in reversed(day_files(self._dir)):
            for line in iter_lines_reversed(path):
                if '"errorCode"' not in line:
                    continue
                event = _event(line)
                if event is not None and event.denied:
                    return event
        return None

    def follow(
        self,
        *,
        denied: bool = False,
        principal: str | None = None,
        repository: str | None = None,
        since: datetime | None = None,
        backlog: int | None = None,
        poll: float = 0.5,
        stop: Callable[[], bool] = lambda: False,
    ) -> Iterator[TrailEvent]:
        """The matching events already written (the newest ``backlog`` if given), then each
        new one as it is written, until ``stop()`` is true (checked every ``poll`` s)."""
        offsets: dict[Path, int] = {}

        def fresh() -> Iterator[TrailEvent]:
            for path in self._files_since(since):
                lines, offsets[path] = read_complete_lines(path, offsets.get(path, 0))
                for event in _parsed(lines):
                    if event.matches(
                        denied=denied, principal=principal, repository=repository, since=since
                    ):
                        yield event

        yield from deque(fresh(), maxlen=backlog)
        while not stop():
            yield from fresh()
            time.sleep(poll)
