#!/usr/bin/env python3
"""SigV4-authenticated ECR API calls per second against a real ``crossdock serve``.

The benchmark starts the server as a subprocess on a free 127.0.0.1 port with a fresh
temporary data dir and ``--scenario examples/cross-account-walkthrough.yaml``, then
measures two calls, each with 1 and 16 concurrent clients for a bounded time:

* ``DescribeRepositories`` as 111111111111's root user, ``registryId`` 111111111111;
* ``GetAuthorizationToken`` as the ``puller`` user of 222222222222.

Signing is client CPU, so it is kept out of the timed window: before each measurement a
pool of requests is signed with botocore's own client (the exact bytes boto3 would send)
and the clients then send the pool round-robin over raw keep-alive HTTP/1.1 connections
(one connection per client, one asyncio loop). Requests signed in the same second carry
the same signature, as identical boto3 calls do; the server keeps no replay cache, so
each arrival is fully verified. The access keys are read from the scenario file.

Server CPU per call is the server process tree's utime+stime (``/proc/<pid>/stat``,
through ``shared/bench/benchlib.py``) over the measured window, divided by the calls
completed in it. The machine's load average is recorded next to each figure; re-run
when it is noisy. It prints one JSON object, and stops the server by its PID::

    python benchmarks/api_calls.py --seconds 5
    python benchmarks/api_calls.py --server granian --seconds 5

``--server`` picks how the app is served: ``serve`` (default) is ``crossdock serve``
itself; the others are the fixed ASGI server set-ups of ``benchmarks/asgi_variants.py``
(used to choose the server, see docs/performance.md). This is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.session
import yaml
from botocore.awsrequest import AWSResponse

REPO_ROOT = Path(__file__).resolve().parents[1]
SCENARIO = REPO_ROOT / "examples" / "cross-account-walkthrough.yaml"
SHARED_BENCH = REPO_ROOT.parent / "shared" / "bench"
VARIANTS = REPO_ROOT / "benchmarks" / "asgi_variants.py"
SERVERS = ("serve", "uvicorn-h11", "uvicorn-std", "granian", "granian-uvloop")
REGION = "us-east-1"
OWNER, CONSUMER = "111111111111", "222222222222"
OPERATION_NAMES = ("DescribeRepositories", "GetAuthorizationToken")


@dataclass(frozen=True)
class Operation:
    """One ECR call as the benchmark makes it."""

    name: str
    credentials: tuple[str, str]
    params: dict[str, Any]
    expect: bytes
    """A byte string every successful response body contains."""


def _key(entry: dict[str, Any]) -> tuple[str, str]:
    return str(entry["id"]), str(entry["secret"])


def scenario_operations(scenario: Path) -> dict[str, Operation]:
    """The benchmarked calls, with the access keys the scenario file declares."""
    accounts = {str(a["id"]): a for a in yaml.safe_load(scenario.read_text())["accounts"]}
    owner_root = _key(accounts[OWNER]["root_access_keys"][0])
    puller = next(u for u in accounts[CONSUMER]["users"] if u["name"] == "puller")
    return {
        "DescribeRepositories": Operation(
            "DescribeRepositories", owner_root, {"registryId": OWNER}, b'"repositories"'
        ),
        "GetAuthorizationToken": Operation(
            "GetAuthorizationToken", _key(puller["access_keys"][0]), {}, b'"authorizationData"'
        ),
    }


# --- the server under test ---------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ServerProcess:
    """A running server subprocess, its URL, its command and its log."""

    process: subprocess.Popen[bytes]
    url: str
    command: list[str]
    log: Path

    @property
    def pid(self) -> int:
        """The PID whose process tree is charged for server CPU."""
        return self.process.pid


def server_command(server: str, data_dir: Path, port: int) -> list[str]:
    """The command line that serves the app with ``server`` on ``port``."""
    common = ["--data-dir", str(data_dir), "--port", str(port), "--scenario", str(SCENARIO)]
    if server == "serve":
        return [sys.executable, "-m", "crossdock", "serve", "--host", "127.0.0.1", *common]
    return [sys.executable, str(VARIANTS), server, *common]


def start_server(server: str, work: Path, timeout: float = 120.0) -> ServerProcess:
    """Start the server and wait for its ``crossdock listening on URL`` line."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = server_command(server, work / "data", port)
    log = work / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited early:\n{log.read_text(errors='replace')}")
        if f"listening on {url}".encode() in log.read_bytes() and _healthy(url):
            return ServerProcess(process, url, command, log)
        time.sleep(0.05)
    stop_server(process)
    raise SystemExit(f"the server did not start in {timeout} s:\n{log.read_text()}")


def _healthy(url: str) -> bool:
    """True once ``GET /healthz`` answers 200 (granian's workers start after the bind)."""
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server by its PID, then SIGKILL it if it lingers."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


def cpu_reader() -> tuple[Callable[[int], float], str]:
    """Server CPU seconds of a process tree, from ``shared/bench/benchlib.py``."""
    if str(SHARED_BENCH) not in sys.path:
        sys.path.insert(0, str(SHARED_BENCH))
    try:
        import benchlib  # type: ignore[import-not-found]
    except ImportError:
        raise SystemExit(f"benchlib.py not found in {SHARED_BENCH} (the shared folder)") from None

    def read(pid: int) -> float:
        value = benchlib.cpu_seconds(pid)
        return float(value or 0.0)

    return read, "benchlib.cpu_seconds: utime+stime of the server's process tree"


# --- signing, outside the timed window ---------------------------------------------------


def signed_pool(url: str, operation: Operation, size: int) -> list[bytes]:
    """``size`` signed HTTP/1.1 requests for ``operation``, exactly as boto3 sends them."""
    session = botocore.session.get_session()
    client = session.create_client(
        "ecr",
        region_name=REGION,
        endpoint_url=url,
        aws_access_key_id=operation.credentials[0],
        aws_secret_access_key=operation.credentials[1],
    )
    captured: list[bytes] = []
    host = url.split("://", 1)[1]

    def capture(request: Any, **_: Any) -> AWSResponse:
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        lines = [f"{request.method} / HTTP/1.1", f"Host: {host}"]
        lines += [f"{name}: {_text(value)}" for name, value in request.headers.items()]
        if "content-length" not in {name.lower() for name in request.headers}:
            lines.append(f"Content-Length: {len(body)}")
        captured.append("\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + body)
        return AWSResponse(url, 200, {}, _FakeRaw(b"{}"))

    client.meta.events.register("before-send.ecr", capture)
    call = getattr(client, _snake(operation.name))
    for _ in range(size):
        call(**operation.params)
    return captured


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


class _FakeRaw:
    """The raw body botocore reads from the short-circuited response."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


# --- the clients ---------------------------------------------------------------------------


@dataclass
class Tally:
    """What one measured window produced."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        return status, await reader.readexactly(int(headers["content-length"]))
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            chunks.append(await reader.readexactly(size + 2))
            if size == 0:
                return status, b"".join(c[:-2] for c in chunks)
    raise RuntimeError(f"a response without a length: {headers}")


async def _client(
    url: str, pool: list[bytes], offset: int, stride: int, expect: bytes, phases: list[float]
) -> list[Tally]:
    """One keep-alive connection sending requests until the end of each phase."""
    host, port = url.split("://", 1)[1].split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    tallies = []
    index = offset
    try:
        for deadline in phases:
            tally = Tally()
            while time.perf_counter() < deadline:
                request = pool[index % len(pool)]
                index += stride
                started = time.perf_counter()
                writer.write(request)
                status, body = await _read_response(reader)
                tally.latencies.append(time.perf_counter() - started)
                if status != 200 or expect not in body:
                    tally.errors += 1
                    tally.first_error = tally.first_error or f"{status} {body[:300]!r}"
            tallies.append(tally)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return tallies


async def _measure(
    url: str,
    pool: list[bytes],
    expect: bytes,
    clients: int,
    warmup: float,
    seconds: float,
    server_cpu: Callable[[], float],
) -> tuple[Tally, float, float]:
    """Warm up, then measure; the measured tally, its wall time and its server CPU."""
    marks: dict[str, float] = {}

    async def sample_at(moment: float, name: str) -> None:
        await asyncio.sleep(max(0.0, moment - time.perf_counter()))
        marks[f"{name}_wall"] = time.perf_counter()
        marks[f"{name}_cpu"] = server_cpu()

    start = time.perf_counter()
    warm_end = start + warmup
    end = warm_end + seconds
    tasks = [_client(url, pool, i, clients, expect, [warm_end, end]) for i in range(clients)]
    results = await asyncio.gather(
        sample_at(warm_end, "begin"), sample_at(end, "end"), asyncio.gather(*tasks)
    )
    per_client: list[list[Tally]] = results[2]
    measured = Tally()
    for tallies in per_client:
        window = tallies[1]
        measured.latencies.extend(window.latencies)
        measured.errors += window.errors
        measured.first_error = measured.first_error or window.first_error
    wall = marks["end_wall"] - marks["begin_wall"]
    return measured, wall, marks["end_cpu"] - marks["begin_cpu"]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (as ``uptime`` prints them)."""
    return [round(x, 2) for x in os.getloadavg()]


def run_case(
    server: ServerProcess,
    operation: Operation,
    clients: int,
    args: argparse.Namespace,
    cpu: Callable[[int], float],
) -> dict[str, Any]:
    """Sign a pool, measure one (operation, concurrency) pair, and summarise it."""
    size = max(args.pool, clients * 8)
    signing_started = time.perf_counter()
    pool = signed_pool(server.url, operation, size)
    signing = time.perf_counter() - signing_started
    profiler = _start_py_spy(args, server, operation, clients)
    load_before = load_average()
    client_cpu_before = time.process_time()
    tally, wall, server_cpu = asyncio.run(
        _measure(
            server.url,
            pool,
            operation.expect,
            clients,
            args.warmup,
            args.seconds,
            lambda: cpu(server.pid),
        )
    )
    client_cpu = time.process_time() - client_cpu_before
    if profiler is not None:
        profiler.wait(timeout=60)
    calls = len(tally.latencies)
    result: dict[str, Any] = {
        "operation": operation.name,
        "clients": clients,
        "calls": calls,
        "errors": tally.errors,
        "seconds": round(wall, 3),
        "calls_per_second": round(calls / wall, 1),
        "p50_ms": round(statistics.median(tally.latencies) * 1000, 3) if calls else None,
        "p99_ms": round(_percentile(tally.latencies, 0.99) * 1000, 3) if calls else None,
        "server_cpu_ms_per_call": round(server_cpu * 1000 / calls, 3) if calls else None,
        "server_cpu_utilisation": round(server_cpu / wall, 2),
        "client_cpu_ms_per_call_incl_warmup": round(client_cpu * 1000 / max(calls, 1), 3),
        "signed_pool": len(pool),
        "signing_seconds": round(signing, 2),
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }
    if tally.first_error:
        result["first_error"] = tally.first_error
    return result


def _start_py_spy(
    args: argparse.Namespace, server: ServerProcess, operation: Operation, clients: int
) -> subprocess.Popen[bytes] | None:
    """With ``--py-spy DIR``: sample the server (collapsed stacks) over warm-up + window.

    Sampling costs the server CPU: figures from a profiled run are not the ones to record.
    """
    if args.py_spy is None:
        return None
    args.py_spy.mkdir(parents=True, exist_ok=True)
    out = args.py_spy / f"{operation.name}-{clients}.txt"
    command = ["py-spy", "record", "--pid", str(server.pid), "--format", "raw"]
    command += ["--rate", "250", "--subprocesses", "--output", str(out)]
    command += ["--duration", str(max(1, round(args.warmup + args.seconds)))]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def machine() -> dict[str, Any]:
    """The facts that go next to every figure."""
    model = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as info:
        names = (line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
        model = next(names, "")
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("uvicorn", "granian", "uvloop", "httptools", "starlette", "botocore"):
        with contextlib.suppress(PackageNotFoundError):
            found[name] = version(name)
    return found


def main() -> None:
    """Run every (operation, concurrency) pair against one server and print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=SERVERS, default="serve")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time per case")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured time per case")
    parser.add_argument("--clients", default="1,16", help="comma-separated concurrencies")
    parser.add_argument("--operations", default=",".join(OPERATION_NAMES))
    parser.add_argument("--pool", type=int, default=2000, help="signed requests per case")
    parser.add_argument("--keep", action="store_true", help="keep the temp data dir")
    parser.add_argument(
        "--py-spy",
        type=Path,
        default=None,
        metavar="DIR",
        help="profile the server with py-spy (collapsed stacks into DIR; skews the figures)",
    )
    args = parser.parse_args()
    known = scenario_operations(SCENARIO)
    operations = [known[name] for name in args.operations.split(",")]
    concurrencies = [int(c) for c in args.clients.split(",")]
    cpu, cpu_method = cpu_reader()
    work = Path(tempfile.mkdtemp(prefix="crossdock-api-bench-"))
    report: dict[str, Any] = {
        "benchmark": "api_calls",
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "server": args.server,
        "machine": machine(),
        "versions": _versions(),
        "cpu_accounting": cpu_method,
        "load_average_at_start": load_average(),
    }
    server = start_server(args.server, work)
    try:
        report["server_command"] = " ".join(server.command)
        report["results"] = [
            run_case(server, operation, clients, args, cpu)
            for operation in operations
            for clients in concurrencies
        ]
    finally:
        stop_server(server.process)
        if args.keep:
            report["work_dir"] = str(work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
