"""``crossdock serve --gc-interval``: garbage collection in a background thread.

The thread waits one interval, collects, and repeats until stopped. A run that fails (the
database or the object store unreachable, say) is logged and the next one tries again;
the server is never affected. Several nodes may each run one: every delete is conditional
and atomic in the database (docs/gc.md), so concurrent collectors are safe.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from crossdock.service.gc import GarbageCollector, GcOptions, GcReport


class GcScheduler:
    """Runs a :class:`GarbageCollector` every ``interval`` seconds in a daemon thread."""

    def __init__(
        self,
        collector: GarbageCollector,
        interval: float,
        grace: float,
        log: Callable[[str], None],
    ) -> None:
        self._collector = collector
        self._interval = interval
        self._grace = grace
        self._log = log
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0
        """Completed runs (for tests and the log)."""

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="crossdock-gc", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to stop and wait for the run in progress to finish."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_once(self) -> GcReport | None:
        """One collection, logged; None when it failed (the failure is logged)."""
        try:
            report = self._collector.run(GcOptions(grace=self._grace), keep_decisions=False)
        except Exception as error:  # keep serving; the next run tries again
            self._log(f"crossdock gc: failed: {type(error).__name__}: {error}")
            return None
        self.runs += 1
        self._log(f"crossdock gc: {report.summary()}")
        return report

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self.run_once()
