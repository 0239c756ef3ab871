"""A ``crossdock serve`` subprocess on a free 127.0.0.1 port, with its own data dir."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

START_TIMEOUT = 60.0


class ServerStartError(RuntimeError):
    """``crossdock serve`` exited or did not start listening; the message holds its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ServeProcess:
    """A running ``crossdock serve`` and where it keeps its log."""

    url: str
    port: int
    data_dir: Path
    process: subprocess.Popen[str]
    log: Path
    log_handle: IO[str]

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 15 s; waits for the process."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self.log_handle.close()


def start_serve(directory: Path, args: list[str]) -> ServeProcess:
    """Start ``crossdock serve`` with its data dir under ``directory`` and wait until it
    listens; ``args`` are extra ``serve`` options (``--scenario``, ``--region``, ...)."""
    directory.mkdir(parents=True, exist_ok=True)
    data_dir = directory / "data"
    port = free_port()
    log = directory / f"serve-{port}.log"
    handle = log.open("w", encoding="utf-8")
    command = [sys.executable, "-m", "crossdock", "serve", "--data-dir", str(data_dir)]
    command += ["--host", "127.0.0.1", "--port", str(port), *args]
    process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            handle.close()
            raise ServerStartError(f"crossdock serve exited:\n{log.read_text(encoding='utf-8')}")
        if f"listening on {url}" in log.read_text(encoding="utf-8"):
            return ServeProcess(url, port, data_dir, process, log, handle)
        time.sleep(0.05)
    running = ServeProcess(url, port, data_dir, process, log, handle)
    running.stop()
    raise ServerStartError(f"crossdock serve did not start:\n{log.read_text(encoding='utf-8')}")
