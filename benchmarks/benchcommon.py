"""Pieces the registry benchmarks share: starting crossdock, running the shared bench scripts.

Used by ``registry_vs_distribution.py`` and ``scaleout_bench.py`` (both import it from
this folder: run them as ``python benchmarks/<script>.py``). Nothing runs at import time.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.session  # type: ignore[import-untyped]

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_BENCH = REPO_ROOT.parent / "shared" / "bench"
SCENARIO = REPO_ROOT / "benchmarks" / "registry_scenario.yaml"
OWNER = "111111111111"
OWNER_KEY = ("AKIABENCHOWNER000001", "bench-owner-secret-bench-owner-secret-00")
REGION = "us-east-1"


@dataclass
class Server:
    """One server under test and how the bench scripts address it."""

    name: str
    url: str
    pid: int
    target: str
    raw_auth: str
    rss_repo: str
    rss_auth: str | None
    stop: Callable[[], None]
    data: Path
    """Where the server keeps what was pushed: deleted after the run (unless --keep-data)."""


@dataclass
class Run:
    """Where this run writes, and what it measured."""

    out: Path
    python: str
    loads: list[dict[str, Any]] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)

    def load(self, moment: str) -> None:
        """Record the load average now, labelled ``moment``."""
        figures = Path("/proc/loadavg").read_text().split()[:3]
        self.loads.append({"at": moment, "time": time.strftime("%H:%M:%S"), "load": figures})
        print(f"# load {' '.join(figures)} ({moment})", file=sys.stderr, flush=True)


def machine_facts() -> dict[str, str]:
    """What goes next to the figures: cores, CPU, kernel, the tools' versions."""

    def first_line(command: list[str]) -> str:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        lines = (done.stdout or done.stderr).strip().splitlines()  # wrk -v exits with 1
        return lines[0] if lines else ""

    model = next(
        (
            x.split(":", 1)[1].strip()
            for x in Path("/proc/cpuinfo").read_text().splitlines()
            if x.startswith("model name")
        ),
        "",
    )
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "kernel": os.uname().release,
        "python": sys.version.split()[0],
        "distribution": first_line(["docker-registry", "--version"]),
        "skopeo": first_line(["skopeo", "--version"]),
        "wrk": first_line(["wrk", "-v"]),
    }


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def v2_status(url: str) -> int | None:
    """The status of ``GET url/v2/``; None when nothing answers."""
    try:
        with urllib.request.urlopen(url + "/v2/", timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def registry_token(url: str) -> str:
    """GetAuthorizationToken as 111111111111's root user: the base64 ``AWS:<password>``."""
    session = botocore.session.get_session()
    client = session.create_client(
        "ecr",
        region_name=REGION,
        endpoint_url=url,
        aws_access_key_id=OWNER_KEY[0],
        aws_secret_access_key=OWNER_KEY[1],
    )
    answer = client.get_authorization_token()
    return str(answer["authorizationData"][0]["authorizationToken"])


def crossdock_command(python: str, port: int, data_dir: Path, extra: list[str]) -> list[str]:
    """``crossdock serve`` on 127.0.0.1:``port`` with the bench scenario and ``extra``."""
    command = [python, "-m", "crossdock", "serve", "--host", "127.0.0.1", "--port", str(port)]
    return [*command, "--data-dir", str(data_dir), "--scenario", str(SCENARIO), *extra]


def crossdock_server(name: str, url: str, pid: int, stop: Callable[[], None], data: Path) -> Server:
    """The :class:`Server` for crossdock at ``url`` (serving, scenario applied): logs in as
    the bench account's root user; calls ``stop`` and re-raises when that fails."""
    try:
        token = registry_token(url)
    except Exception:
        stop()
        raise
    target = f"{name}={url},ecr-token={token},prefix={OWNER}/,pid={pid}"
    user_password = base64.b64decode(token).decode()
    rss_repo = f"{OWNER}/bench/raw"
    return Server(name, url, pid, target, user_password, rss_repo, f"Basic {token}", stop, data)


def start_crossdock(
    bench_work: Path, python: str, extra: list[str], name: str = "crossdock"
) -> Server:
    """``crossdock serve`` on a free port with a fresh data dir and the bench scenario."""
    port = free_port()
    work = bench_work / f"crossdock-{port}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    url = f"http://127.0.0.1:{port}"
    command = crossdock_command(python, port, work / "data", extra)
    log = work / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)

    def stop() -> None:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=20)
        print(f"stopped crossdock pid {process.pid}", file=sys.stderr)

    deadline = time.monotonic() + 120
    while v2_status(url) != 401:
        if process.poll() is not None or time.monotonic() > deadline:
            stop()
            raise SystemExit(f"crossdock did not come up:\n{log.read_text(errors='replace')}")
        time.sleep(0.1)
    print(f"crossdock up on {url} pid {process.pid}", file=sys.stderr)
    return crossdock_server(name, url, process.pid, stop, work / "data")


def script_env(run: Run) -> dict[str, str]:
    """The environment for the shared scripts: they call ``python3`` and
    ``sys.executable``, so this run's interpreter comes first on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(run.python).parent}:{env.get('PATH', '')}"
    return env


def run_script(run: Run, name: str, args: list[str], log: str) -> str:
    """Run the shared bench script ``name`` with ``args``; its stdout. Both streams go to
    ``run.out / log``; raises RuntimeError when it fails."""
    command = [run.python, str(SHARED_BENCH / name), *args]
    if name.endswith(".sh"):
        command = [str(SHARED_BENCH / name), *args]
    done = subprocess.run(command, capture_output=True, text=True, env=script_env(run), check=False)
    (run.out / log).write_text(done.stdout + "\n--- stderr\n" + done.stderr)
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed (rc {done.returncode}); see {run.out / log}")
    return done.stdout


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of ``pid`` and its live descendants (shared benchlib)."""
    if str(SHARED_BENCH) not in sys.path:
        sys.path.insert(0, str(SHARED_BENCH))
    sys.dont_write_bytecode = True
    import benchlib  # type: ignore[import-not-found]

    return float(benchlib.cpu_seconds(pid) or 0.0)


def median(values: list[float]) -> float:
    """The median of a non-empty list."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
