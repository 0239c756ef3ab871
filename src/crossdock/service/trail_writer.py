"""The decision trail's writer: a bounded in-memory queue drained by one thread.

A request encodes its event as a JSON line (a few microseconds: the parts that repeat
under load are cached by :class:`crossdock.service.trail_record.TrailEncoder`) and
appends it to a deque: no lock, no I/O. One thread wakes every ``interval`` seconds and
appends what is queued to the day's file in one write, without fsync: a crash may lose
the last fraction of a second of the trail, never a request's latency. When the queue is
full, events are dropped and counted; the count goes to the log.

Encoding on the request path rather than in the writer thread is deliberate: the
thread would hold the GIL in long stretches that the event loop must wait out, which
cost far more than the encoding (docs/performance.md, "Decision trail").

Retention: at start and whenever the day changes, day files older than
``retention_days`` days (today included) are deleted.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO

from crossdock.auth.principal import Principal
from crossdock.policy.decide import Decision
from crossdock.service.authz import RequestInfo
from crossdock.service.trail_record import ExpiredTokenUse, TrailEncoder, expired_token_record
from crossdock.storage.trail_files import delete_days_before, open_day_file

_log = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 30
DEFAULT_CAPACITY = 20_000
"""Queued events at most: seconds of a pull storm, about 25 MB of lines (1.2 KB each)."""
DEFAULT_INTERVAL = 0.25
"""Seconds between two drains of the queue."""

_Pending = tuple[date, str]
"""An encoded event: its UTC day and its JSON line."""


def first_kept_day(today: date, retention_days: int) -> date:
    """The oldest day a trail keeping ``retention_days`` days (today included) keeps."""
    return today - timedelta(days=retention_days - 1)


class TrailWriter:
    """A :class:`crossdock.service.authz.DecisionRecorder` that writes the decision trail.

    Call :meth:`start` once, then :meth:`close` at shutdown (it writes what is queued).
    """

    def __init__(
        self,
        directory: Path,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        capacity: int = DEFAULT_CAPACITY,
        interval: float = DEFAULT_INTERVAL,
    ) -> None:
        if retention_days < 1:
            raise ValueError("the trail keeps at least one day")
        self._directory = directory
        self._retention_days = retention_days
        self._clock = clock
        self._capacity = capacity
        self._interval = interval
        self._pending: deque[_Pending] = deque()
        self._dropped = 0
        self._reported = 0
        self._drop_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._file: IO[str] | None = None
        self._day: date | None = None
        self._written = 0
        self._encoder = TrailEncoder()

    @property
    def dropped(self) -> int:
        """Events dropped so far because the queue was full."""
        return self._dropped

    @property
    def written(self) -> int:
        """Events written to the files so far."""
        return self._written

    def record(self, principal: Principal, decision: Decision, info: RequestInfo) -> None:
        """Encode one decision and queue its line (never blocks on I/O, never raises)."""
        if len(self._pending) >= self._capacity:
            with self._drop_lock:
                self._dropped += 1
            return
        try:
            self._pending.append(self._encoder.encode(principal, decision, info))
        except Exception:  # one bad event must not fail the request
            _log.exception("decision trail: cannot encode an event; skipped")

    def record_expired_token(self, use: ExpiredTokenUse, info: RequestInfo) -> None:
        """Queue the event of a ``/v2/`` request refused for its expired token (never raises)."""
        if len(self._pending) >= self._capacity:
            with self._drop_lock:
                self._dropped += 1
            return
        try:
            record = expired_token_record(use, info, self._encoder.event_id())
            line = json.dumps(record, separators=(",", ":"))
            self._pending.append((info.now.astimezone(UTC).date(), line))
        except Exception:  # one bad event must not fail the request
            _log.exception("decision trail: cannot encode an event; skipped")

    def start(self) -> None:
        """Apply retention and start the writer thread."""
        if self._thread is not None:
            return
        self._apply_retention(self._clock().astimezone(UTC).date())
        self._thread = threading.Thread(target=self._run, name="crossdock-trail", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread after it has written everything queued (idempotent)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        if thread is None or not thread.is_alive():
            # Events recorded after the thread stopped are written here.
            self.flush()
            self._close_file()

    def flush(self) -> None:
        """Write everything queued now, in the calling thread.

        The writer thread calls it; call it yourself only while no writer thread runs
        (before :meth:`start`, or after :meth:`close`).
        """
        try:
            self._drain()
        finally:
            self._report_drops()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.flush()
        self.flush()
        self._close_file()
        if self._dropped:
            _log.warning(
                "decision trail: %d events dropped in all (the queue was full)", self._dropped
            )

    def _drain(self) -> None:
        pending = self._pending
        lines: list[str] = []
        day: date | None = None
        while pending:
            event_day, line = pending.popleft()
            if day is not None and event_day != day:
                self._write(day, lines)
                lines = []
            day = event_day
            lines.append(line)
        if day is not None and lines:
            self._write(day, lines)

    def _write(self, day: date, lines: list[str]) -> None:
        try:
            if self._file is None or self._day != day:
                self._switch(day)
            assert self._file is not None
            self._file.write("\n".join(lines) + "\n")
            self._file.flush()
            self._written += len(lines)
        except OSError as error:
            _log.error("decision trail: %d events lost: %s", len(lines), error)
            self._close_file()

    def _switch(self, day: date) -> None:
        self._close_file()
        if self._day is None or day > self._day:
            self._apply_retention(day)
        self._file = open_day_file(self._directory, day)
        self._day = day

    def _close_file(self) -> None:
        handle, self._file = self._file, None
        if handle is not None:
            try:
                handle.close()
            except OSError as error:
                _log.error("decision trail: closing the day file failed: %s", error)

    def _apply_retention(self, today: date) -> None:
        try:
            deleted = delete_days_before(
                self._directory, first_kept_day(today, self._retention_days)
            )
        except OSError as error:
            _log.error("decision trail: retention failed: %s", error)
            return
        for path in deleted:
            _log.info("decision trail: deleted %s (older than %d days)", path, self._retention_days)

    def _report_drops(self) -> None:
        dropped = self._dropped
        if dropped > self._reported:
            _log.warning(
                "decision trail: %d events dropped (the queue was full; %d in all)",
                dropped - self._reported,
                dropped,
            )
            self._reported = dropped
