"""``crossdock serve --lifecycle-interval``: run the lifecycle policies in a background thread.

The first run starts right away, then one every ``interval`` seconds (measured from the
end of a run). A failing run (the database unreachable, say) is logged and the next one
happens on schedule. Several nodes may each run it: expiring is idempotent, and an image
already gone is skipped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from crossdock.service.ecr.lifecycle_runner import LifecycleReport, LifecycleRunner

_log = logging.getLogger(__name__)


class LifecycleScheduler:
    """A daemon thread calling :meth:`LifecycleRunner.run` every ``interval`` seconds."""

    def __init__(
        self,
        runner: LifecycleRunner,
        interval: float,
        on_report: Callable[[LifecycleReport], None] | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError("the lifecycle interval must be positive")
        self._runner = runner
        self._interval = interval
        self._on_report = on_report
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name="crossdock-lifecycle", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to stop and wait for the run in progress, if any."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                report = self._runner.run()
            except Exception:
                _log.exception("lifecycle policy run failed; next run in %s s", self._interval)
            else:
                for run in report.repositories:
                    if run.error is not None:
                        _log.warning("lifecycle policy of %s: %s", run.name, run.error)
                if self._on_report is not None:
                    self._on_report(report)
            self._stop.wait(self._interval)
