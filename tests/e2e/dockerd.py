"""A throwaway Docker engine for the real-client tests.

The daemon keeps all its state in one private directory: data root (vfs storage, no
kernel overlay needed), exec root (with its own containerd), PID file, trust key, its
own daemon config and the API socket. It does not touch iptables or create a bridge,
so it can pull and push but not run networked containers. 127.0.0.0/8 registries are
insecure by default, so plain-HTTP crossdock on loopback needs no flag.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

DOCKERD_CANDIDATES = ("dockerd", "/usr/sbin/dockerd", "/usr/bin/dockerd")


def find_dockerd() -> str | None:
    """The ``dockerd`` executable, also where ``sbin`` is not on ``PATH``."""
    for candidate in DOCKERD_CANDIDATES:
        found = shutil.which(candidate)
        if found is not None:
            return found
    return None


def why_no_dockerd() -> str | None:
    """Why the tests cannot start a Docker engine here, or ``None`` when they can."""
    if find_dockerd() is None:
        return "dockerd is not installed (Debian package docker.io)"
    if shutil.which("docker") is None:
        return "the docker client is not installed (Debian package docker.io)"
    if os.geteuid() != 0:
        return "dockerd needs root to start"
    return None


@dataclass
class Dockerd:
    """A running ``dockerd`` and how to reach it."""

    root: Path
    host: str
    process: subprocess.Popen[bytes]
    log: Path
    log_handle: IO[bytes]

    def docker(
        self, config: Path, *args: str, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """Run ``docker ARGS`` against this engine with the client config dir ``config``."""
        env = {**os.environ, "DOCKER_HOST": self.host, "DOCKER_CONFIG": str(config)}
        return subprocess.run(
            ["docker", *args],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=timeout,
        )


def start_dockerd(root: Path, timeout: float = 60) -> Dockerd:
    """Start ``dockerd`` with all its state under ``root`` and wait until it answers."""
    executable = find_dockerd()
    assert executable is not None, "dockerd is not installed"
    root.mkdir(parents=True, exist_ok=True)
    # dockerd 20.10 writes a trust key to /etc/docker/key.json unless told otherwise.
    (root / "daemon.json").write_text(json.dumps({"deprecated-key-path": str(root / "key.json")}))
    socket = root / "docker.sock"
    host = f"unix://{socket}"
    log = root / "dockerd.log"
    handle = log.open("wb")
    process = subprocess.Popen(
        [
            executable,
            "--config-file",
            str(root / "daemon.json"),
            "--data-root",
            str(root / "data"),
            "--exec-root",
            str(root / "exec"),
            "--pidfile",
            str(root / "dockerd.pid"),
            "--host",
            host,
            "--iptables=false",
            "--ip6tables=false",
            "--ip-masq=false",
            "--bridge=none",
            "--storage-driver=vfs",
        ],
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    running = Dockerd(root, host, process, log, handle)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            handle.close()
            raise RuntimeError(f"dockerd exited: {log.read_text(errors='replace')}")
        if (
            socket.exists()
            and running.docker(root / "client", "version", timeout=30).returncode == 0
        ):
            return running
        time.sleep(0.2)
    stop_dockerd(running)
    raise RuntimeError(f"dockerd did not start: {log.read_text(errors='replace')}")


def stop_dockerd(running: Dockerd) -> None:
    """Stop the daemon by its PID (it stops its own containerd) and remove its state."""
    running.process.terminate()
    try:
        running.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        running.process.kill()
        running.process.wait(timeout=30)
    finally:
        running.log_handle.close()
    shutil.rmtree(running.root / "data", ignore_errors=True)
