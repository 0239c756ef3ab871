"""Run a real ``crossdock serve`` process on 127.0.0.1 for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RunningServer:
    """A ``crossdock serve`` subprocess and how to reach it."""

    url: str
    port: int
    data_dir: Path
    process: subprocess.Popen[str]
    log: Path
    log_handle: IO[str]

    def crossdock(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``crossdock ARGS`` against this server's data dir."""
        return subprocess.run(
            [sys.executable, "-m", "crossdock", *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )


def start_server(data_dir: Path, *extra: str, scheme: str = "http") -> RunningServer:
    """Start ``crossdock serve`` and wait until it prints that it listens."""
    port = free_port()
    log = data_dir.parent / f"serve-{port}.log"
    handle = log.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crossdock",
            "serve",
            "--data-dir",
            str(data_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *extra,
        ],
        stdout=handle,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"{scheme}://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            handle.close()
            raise RuntimeError(f"crossdock serve exited: {log.read_text()}")
        if f"listening on {url}" in log.read_text():
            return RunningServer(url, port, data_dir, process, log, handle)
        time.sleep(0.1)
    process.kill()
    process.wait(timeout=15)
    handle.close()
    raise RuntimeError(f"crossdock serve did not start: {log.read_text()}")


def stop_server(server: RunningServer) -> None:
    """Stop the process (SIGTERM, then SIGKILL) and wait for it."""
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=15)
    finally:
        server.log_handle.close()


def aws_cli_v1() -> str:
    """The AWS CLI v1 executable (it still has ``ecr get-login``); scripts/test installs it."""
    configured = os.environ.get("CROSSDOCK_AWS_CLI_V1")
    local = Path(__file__).resolve().parents[2] / ".venv-awscli1" / "bin" / "aws"
    found = configured or str(local)
    assert Path(found).exists(), f"AWS CLI v1 not found at {found}: run ./scripts/test"
    return found
