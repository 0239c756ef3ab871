#!/usr/bin/env python3
"""Scale-out: crossdock on PostgreSQL + SeaweedFS, one node and two, against distribution on S3.

    python benchmarks/scaleout_bench.py [--quick] [--only pushpull,storm] [--runs N]

One command, everything on 127.0.0.1. It starts PostgreSQL and SeaweedFS through
``scripts/services/postgres.sh`` and ``scripts/services/seaweedfs.sh`` (data under
``$BENCH_WORK``), then three targets, all on that one SeaweedFS bucket (each its own prefix):

* ``distribution``: CNCF distribution 2.8.2 (``docker-registry serve``) with its S3 driver
  (``regionendpoint`` = the SeaweedFS S3 gateway), anonymous, blob GETs redirected to
  presigned S3 URLs (the driver's default);
* ``crossdock-1``: one ``crossdock serve`` on a fresh PostgreSQL database;
* ``crossdock-2``: two ``crossdock serve`` nodes sharing another fresh database, S3 prefix
  and ``--key-file``, behind ``benchmarks/tcp_round_robin.py`` (connections dealt
  round-robin). Both nodes run under one parent process, so the shared scripts' ``pid=``
  counts the CPU of both; the balancer's CPU is reported apart.

crossdock runs with its defaults: blob GETs answer 307 to presigned SeaweedFS URLs (like
ECR), so pulled layer bytes flow from SeaweedFS, not from the registry. crossdock targets
log in as the bench account's root user (``benchmarks/registry_scenario.yaml``).

Parts: ``pushpull`` (``shared/bench/bench_push_pull.py``, skopeo push + pull of 8 x 128 MiB
and 200 x 64 KiB, ``--quick``: 8 x 16 MiB and 50 x 64 KiB; one call per target, scenario
and run, target order rotated per run) and ``storm`` (``shared/bench/pull_storm.py
--engine wrk``, manifest GET by tag at 1, 16, 64, 256 clients, ``--quick``: 16 and 256;
the targets alternate, order rotated per level). Around every call the CPU seconds of
SeaweedFS, PostgreSQL and the balancer are read from /proc as well as the registry's.

Checks the tools and the free disk under ``$BENCH_WORK`` (default /tmp/crossdock-bench)
first; stops every process it started by PID and deletes the services' data, the
databases and the registries' dirs at the end, whatever happened. Prints a markdown table
(figures, ratios to distribution, server CPU) and the load averages; writes everything to
``$BENCH_WORK/results/scaleout-<timestamp>/``. A part that fails is reported, the other
still runs, exit status 1. This is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from benchcommon import (
    REPO_ROOT,
    SHARED_BENCH,
    Run,
    Server,
    cpu_seconds,
    crossdock_command,
    crossdock_server,
    free_port,
    machine_facts,
    median,
    run_script,
    start_crossdock,
    v2_status,
)

from crossdock.storage.sql.scratch import create_database, drop_database, unique_name

SERVICES = REPO_ROOT / "scripts" / "services"
BALANCER = REPO_ROOT / "benchmarks" / "tcp_round_robin.py"
TOOLS = ("docker-registry", "skopeo", "wrk", "bash", "curl")
PARTS = ("pushpull", "storm")
TARGETS = ("distribution", "crossdock-1", "crossdock-2")
SIDES = {"seaweedfs": "SeaweedFS", "postgres": "PG", "balancer": "LB"}
SEAWEEDFS_VOLUME_MIB = 64
"""scripts/services/seaweedfs.sh's volume size limit."""


@dataclass
class Plan:
    """Sizes and repetitions of one run."""

    scenarios: list[str]
    runs: int
    storm_levels: list[int]
    storm_seconds: int


FULL = Plan(["big=8x128M", "small=200x64K"], 3, [1, 16, 64, 256], 10)
QUICK = Plan(["big=8x16M", "small=50x64K"], 1, [16, 256], 3)


@dataclass
class Services:
    """The PostgreSQL and SeaweedFS the service scripts started, and how to stop them."""

    values: dict[str, str]
    log: Path

    @property
    def database_url(self) -> str:
        """The test database's URL (its server holds the benchmark's fresh databases)."""
        return self.values["CROSSDOCK_TEST_DATABASE_URL"]

    @property
    def s3_url(self) -> str:
        """``s3://BUCKET/PREFIX?endpoint=...&region=...`` of the SeaweedFS bucket."""
        return self.values["CROSSDOCK_TEST_S3_URL"]

    def pids(self) -> dict[str, int]:
        """Process ids to measure: SeaweedFS (one ``weed server``), PostgreSQL's postmaster
        (its backends are its children)."""
        return {
            "seaweedfs": int(self.values["SEAWEEDFS_PID"]),
            "postgres": int(self.values["CROSSDOCK_POSTGRES_PID"]),
        }

    def stop(self) -> None:
        """Stop both by PID through the scripts' own ``stop_*`` functions; removes their data."""
        script = (
            f"source {SERVICES / 'postgres.sh'}; source {SERVICES / 'seaweedfs.sh'}; "
            'SEAWEEDFS_PID="$SOB_WEED_PID" SEAWEEDFS_DIR="$SOB_WEED_DIR"; '
            'CROSSDOCK_POSTGRES_PID="$SOB_PG_PID" CROSSDOCK_POSTGRES_DIR="$SOB_PG_DIR"; '
            "stop_seaweedfs; stop_postgres"
        )
        env = dict(os.environ)
        env.update(
            SOB_WEED_PID=self.values.get("SEAWEEDFS_PID", ""),
            SOB_WEED_DIR=self.values.get("SEAWEEDFS_DIR", ""),
            SOB_PG_PID=self.values.get("CROSSDOCK_POSTGRES_PID", ""),
            SOB_PG_DIR=self.values.get("CROSSDOCK_POSTGRES_DIR", ""),
        )
        with self.log.open("a") as sink:
            subprocess.run(
                ["bash", "-c", script],
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                check=False,
            )
        print("stopped SeaweedFS and PostgreSQL", file=sys.stderr)


@dataclass
class Bench:
    """Everything the parts need: the run, the plan, the targets and what to measure."""

    run: Run
    plan: Plan
    servers: list[Server] = field(default_factory=list)
    sides: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per target name: the other processes it depends on (SeaweedFS, PostgreSQL, balancer)."""


# --- checks ------------------------------------------------------------------------------


def check_tools() -> None:
    """Fail clearly when something the run needs is missing."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    for needed in (SHARED_BENCH, SERVICES / "postgres.sh", SERVICES / "seaweedfs.sh"):
        if not needed.exists():
            missing.append(str(needed))
    try:
        import psycopg  # noqa: F401
    except ImportError:
        missing.append("the Python package psycopg (crossdock's PostgreSQL driver)")
    if missing:
        raise SystemExit(
            "missing: " + ", ".join(missing) + "\n(apt-get install docker-registry skopeo "
            "wrk curl; PostgreSQL and SeaweedFS are installed by scripts/services/*.sh)"
        )


def _mib(scenario: str) -> float:
    layers, _, size = scenario.partition("=")[2].partition("x")
    units = {"K": 1 / 1024, "M": 1, "G": 1024}
    return int(layers) * float(size[:-1]) * units[size[-1].upper()]


def stored_mib(plan: Plan) -> float:
    """What SeaweedFS holds at the end: every target keeps every pushed image; distribution
    writes each blob twice (upload, then a copy to its final key) and space comes back
    only when SeaweedFS vacuums."""
    per_target = plan.runs * sum(_mib(spec) for spec in plan.scenarios)
    return 4 * per_target


def check_disk(bench_work: Path, plan: Plan) -> None:
    """Fail before starting when ``$BENCH_WORK`` (services' data and skopeo's images) has
    too little free space."""
    bench_work.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(bench_work).free / 2**30
    images = 2 * max(_mib(spec) for spec in plan.scenarios)
    needed = (stored_mib(plan) + images) / 1024 + 2  # + SeaweedFS's 256 MiB reserve, logs
    if free < needed:
        raise SystemExit(
            f"{bench_work} has {free:.1f} GiB free; this run needs about {needed:.0f} GiB "
            "(use --quick or --runs 1, or point BENCH_WORK elsewhere)"
        )


# --- services and servers ----------------------------------------------------------------


def start_services(bench_work: Path, plan: Plan) -> Services:
    """PostgreSQL and SeaweedFS through the service scripts, data under ``bench_work``."""
    work = bench_work / "services"
    work.mkdir(parents=True, exist_ok=True)
    values_file = work / f"values-{os.getpid()}"
    names = [
        "CROSSDOCK_TEST_DATABASE_URL",
        "CROSSDOCK_POSTGRES_PID",
        "CROSSDOCK_POSTGRES_DIR",
        "CROSSDOCK_TEST_S3_URL",
        "SEAWEEDFS_PID",
        "SEAWEEDFS_DIR",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_DEFAULT_REGION",
    ]
    # Whatever started is written out before a failure, so it can be stopped.
    dump = "; ".join(
        f'echo "{name}=${{{name}:-}}" >> {shlex.quote(str(values_file))}' for name in names
    )
    script = (
        f"source {SERVICES / 'postgres.sh'}; source {SERVICES / 'seaweedfs.sh'}; "
        f"dump() {{ {dump}; }}; "
        "start_postgres || { dump; exit 1; }; start_seaweedfs || { dump; exit 1; }; dump"
    )
    volumes = math.ceil(stored_mib(plan) / SEAWEEDFS_VOLUME_MIB * 1.5) + 50
    env = dict(os.environ, TMPDIR=str(work), SEAWEEDFS_VOLUME_MAX=str(volumes))
    log = work / "services.log"
    values_file.unlink(missing_ok=True)
    with log.open("w") as sink:
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            check=False,
        )
    values: dict[str, str] = {}
    if values_file.exists():
        for line in values_file.read_text().splitlines():
            name, _, value = line.partition("=")
            if value:
                values[name] = value
        values_file.unlink()
    services = Services(values, log)
    if done.returncode != 0:
        services.stop()
        raise SystemExit(f"the services did not start:\n{log.read_text(errors='replace')}")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        os.environ[name] = values[name]  # crossdock's S3 client reads them
    print(log.read_text().strip(), file=sys.stderr)
    return services


def s3_prefix(s3_url: str, prefix: str) -> str:
    """``s3_url`` with its key prefix replaced by ``prefix``."""
    parts = urlsplit(s3_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{prefix}", parts.query, ""))


def _stop_pid(pid: int, wait: Callable[[], bool]) -> None:
    """SIGTERM ``pid``, then SIGKILL after 20 s; ``wait()`` is true once it is gone."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 20
    while not wait():
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            deadline = math.inf
        time.sleep(0.1)


def _stop_child(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        _stop_pid(process.pid, lambda: process.poll() is not None)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # a zombie until its parent reaps it
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().rpartition(")")[2].split()[0] == "Z"


def _without_ca_bundle() -> dict[str, str]:
    # aws-sdk-go in distribution 2.8 panics when AWS_CA_BUNDLE is set and the endpoint is
    # plain http ("unable to load custom CA bundle"); the endpoint is http anyway.
    return {key: value for key, value in os.environ.items() if key != "AWS_CA_BUNDLE"}


def start_distribution_s3(bench_work: Path, services: Services) -> Server:
    """``docker-registry serve`` with the S3 driver on the services' SeaweedFS, anonymous."""
    port = free_port()
    work = bench_work / f"distribution-s3-{port}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    location = urlsplit(services.s3_url)
    endpoint = dict(p.split("=", 1) for p in location.query.split("&"))["endpoint"]
    config = {
        "version": 0.1,
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {
            "cache": {"blobdescriptor": "inmemory"},
            "s3": {
                "region": "us-east-1",
                "regionendpoint": endpoint,
                "bucket": location.netloc,
                "rootdirectory": f"/distribution-{secrets.token_hex(4)}",
                "accesskey": os.environ["AWS_ACCESS_KEY_ID"],
                "secretkey": os.environ["AWS_SECRET_ACCESS_KEY"],
                "secure": False,
                "v4auth": True,
            },
            "delete": {"enabled": True},
            "maintenance": {"uploadpurging": {"enabled": False}},
        },
        "http": {"addr": f"127.0.0.1:{port}"},
        "health": {"storagedriver": {"enabled": False}},
    }
    config_file = work / "config.yml"
    config_file.write_text(json.dumps(config, indent=1))  # JSON is YAML
    config_file.chmod(0o600)
    log = work / "registry.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            ["docker-registry", "serve", str(config_file)],
            env=_without_ca_bundle(),
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    url = f"http://127.0.0.1:{port}"

    def stop() -> None:
        _stop_child(process)
        print(f"stopped distribution pid {process.pid}", file=sys.stderr)

    deadline = time.monotonic() + 60
    while v2_status(url) != 200:
        if process.poll() is not None or time.monotonic() > deadline:
            stop()
            text = log.read_text(errors="replace")
            shutil.rmtree(work, ignore_errors=True)
            raise SystemExit(f"distribution did not come up:\n{text}")
        time.sleep(0.1)
    print(f"distribution (S3) up on {url} pid {process.pid}", file=sys.stderr)
    target = f"distribution={url},pid={process.pid}"
    return Server("distribution", url, process.pid, target, "", "bench/raw", None, stop, work)


def start_two_nodes(bench_work: Path, python: str, extra: list[str]) -> tuple[Server, int]:
    """Two ``crossdock serve`` nodes (node 2 starts once node 1 listens: one applies the
    migrations and the scenario first) under one parent shell, and the balancer in front.
    The server and the balancer's PID."""
    ports = [free_port(), free_port()]
    work = bench_work / f"crossdock-2nodes-{ports[0]}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    lines = ["set -u"]
    for index, port in enumerate(ports, start=1):
        command = shlex.join(crossdock_command(python, port, work / f"node{index}", extra))
        lines.append(f"{command} > node{index}.log 2>&1 < /dev/null & echo $! > node{index}.pid")
        if index == 1:
            lines.append(
                "until grep -q 'listening on' node1.log; do "
                'kill -0 "$(cat node1.pid)" 2>/dev/null || exit 1; sleep 0.1; done'
            )
    lines.append("wait")
    (work / "nodes.sh").write_text("\n".join(lines) + "\n")
    parent = subprocess.Popen(["bash", "nodes.sh"], cwd=work, stdin=subprocess.DEVNULL)
    balancer_command = [python, str(BALANCER), "--port", "0"]
    for port in ports:
        balancer_command += ["--backend", f"127.0.0.1:{port}"]
    balancer = subprocess.Popen(
        balancer_command, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True
    )

    def stop() -> None:
        for index in (1, 2):
            pid_file = work / f"node{index}.pid"
            if pid_file.exists():
                pid = int(pid_file.read_text())
                _stop_pid(pid, lambda pid=pid: _gone(pid))  # type: ignore[misc]
        _stop_child(parent)
        _stop_child(balancer)
        print(f"stopped both crossdock nodes and the balancer pid {balancer.pid}", file=sys.stderr)

    assert balancer.stdout is not None
    words = balancer.stdout.readline().split()
    if not words:
        stop()
        raise SystemExit("the balancer did not start")
    url = f"http://{words[-1]}"
    deadline = time.monotonic() + 120
    while any(v2_status(f"http://127.0.0.1:{port}") != 401 for port in ports):
        if parent.poll() is not None or time.monotonic() > deadline:
            logs = "\n".join(
                (work / f"node{i}.log").read_text(errors="replace")
                for i in (1, 2)
                if (work / f"node{i}.log").exists()
            )
            stop()
            shutil.rmtree(work, ignore_errors=True)
            raise SystemExit(f"the crossdock nodes did not come up:\n{logs}")
        time.sleep(0.1)
    print(f"two crossdock nodes up on {ports}, balancer {url}", file=sys.stderr)
    return crossdock_server("crossdock-2", url, parent.pid, stop, work), balancer.pid


@contextmanager
def fresh_database(server_url: str, created: list[tuple[str, str]]) -> Iterator[str]:
    """A new database on the services' PostgreSQL; remembered in ``created`` for the end."""
    name = unique_name("scaleout")
    url = create_database(server_url, name)
    created.append((server_url, name))
    yield url


def drop_databases(created: list[tuple[str, str]]) -> None:
    """Drop the run's databases (before PostgreSQL stops)."""
    for server_url, name in created:
        try:
            drop_database(server_url, name)
        except Exception as error:  # the server is thrown away right after anyway
            print(f"could not drop {name}: {error}", file=sys.stderr)


# --- parts -------------------------------------------------------------------------------


def _side_cpu(bench: Bench, server: Server) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in bench.sides[server.name].items()}


def _measured(
    bench: Bench, server: Server, call: Callable[[], Any]
) -> tuple[Any, dict[str, float]]:
    """``call()``'s result and the CPU seconds the target's side processes spent meanwhile."""
    before = _side_cpu(bench, server)
    result = call()
    after = _side_cpu(bench, server)
    return result, {name: round(after[name] - before[name], 3) for name in before}


def part_pushpull(bench: Bench) -> None:
    """skopeo push + pull: one call per run, scenario and target; order rotated per run."""
    rows: list[dict[str, Any]] = []
    for run_index in range(bench.plan.runs):
        order = bench.servers[run_index % 3 :] + bench.servers[: run_index % 3]
        for scenario in bench.plan.scenarios:
            for server in order:
                name = scenario.partition("=")[0]
                out = bench.run.out / f"push_pull-{name}-{server.name}-{run_index}.json"
                args = ["--target", server.target, "--scenario", scenario, "--runs", "1"]
                args += ["--out", str(out)]
                log = f"push_pull-{name}-{server.name}-{run_index}.log"
                _, side = _measured(
                    bench,
                    server,
                    lambda args=args, log=log: run_script(  # type: ignore[misc]
                        bench.run, "bench_push_pull.py", args, log
                    ),
                )
                record = json.loads(out.read_text())["runs"][0]
                if not record["digest_ok"]:
                    raise RuntimeError(f"{server.name}: pulled digest differs ({out})")
                rows.append({**record, "side_cpu_s": side, "image": scenario.partition("=")[2]})
    bench.run.results["pushpull"] = rows


def part_storm(bench: Bench) -> None:
    """wrk manifest GET by tag, one level at a time, the targets alternating."""
    plan, run = bench.plan, bench.run
    for server in bench.servers:  # push the storm image, warm up
        args = ["--target", server.target, "--engine", "wrk", "--concurrency", "1"]
        args += ["--duration", "1", "--pause", "0", "--out", str(run.out / "storm-warmup.json")]
        run_script(run, "pull_storm.py", args, f"pull_storm-warmup-{server.name}.log")
    rows: list[dict[str, Any]] = []
    for index, level in enumerate(plan.storm_levels):
        order = bench.servers[index % 3 :] + bench.servers[: index % 3]
        for server in order:
            out = run.out / f"pull_storm-{level}-{server.name}.json"
            args = ["--target", server.target, "--engine", "wrk", "--no-push"]
            args += ["--concurrency", str(level), "--duration", str(plan.storm_seconds)]
            args += ["--pause", "0", "--out", str(out)]
            log = f"pull_storm-{level}-{server.name}.log"
            _, side = _measured(
                bench,
                server,
                lambda args=args, log=log: run_script(  # type: ignore[misc]
                    run, "pull_storm.py", args, log
                ),
            )
            row = json.loads(out.read_text())[0]
            requests = max(int(row["requests"]), 1)
            row["side_cpu_ms_per_req"] = {
                name: round(seconds * 1000 / requests, 4) for name, seconds in side.items()
            }
            rows.append(row)
            time.sleep(1)
    run.results["storm"] = rows


# --- the table ---------------------------------------------------------------------------


def _cell_side(side: dict[str, float]) -> str:
    return " + ".join(f"{label} {side[name]:g}" for name, label in SIDES.items() if name in side)


def table(results: dict[str, Any]) -> list[str]:
    """Markdown rows: each target's figure and crossdock's ratio to distribution (speed:
    higher is better for crossdock)."""
    lines = [
        "| measure | distribution (S3) | crossdock 1 node | ratio | crossdock 2 nodes | ratio |",
        "|---|---|---|---|---|---|",
    ]

    def row(measure: str, values: dict[str, float], digits: int, higher: bool) -> str:
        base = values.get("distribution")
        cells = [f"{base:,.{digits}f}" if base else "-"]
        for name in TARGETS[1:]:
            value = values.get(name)
            if value is None:
                cells += ["-", ""]
                continue
            ratio = "" if not base else f"{(value / base if higher else base / value):.2f}x"
            cells += [f"{value:,.{digits}f}", ratio]
        return f"| {measure} | " + " | ".join(cells) + " |"

    pushpull = results.get("pushpull", [])
    for image in dict.fromkeys(r["image"] for r in pushpull):
        mine = [r for r in pushpull if r["image"] == image]
        for op in ("push", "pull"):
            values = {
                name: median([r[f"{op}_s"] for r in mine if r["target"] == name])
                for name in TARGETS
                if any(r["target"] == name for r in mine)
            }
            lines.append(row(f"skopeo {op} {image}, s (median)", values, 2, higher=False))
        cpu = []
        for name in TARGETS:
            own = [r for r in mine if r["target"] == name]
            if not own:
                cpu.append("-")
                continue
            push = median([r["server_cpu_push_s"] for r in own])
            pull = median([r["server_cpu_pull_s"] for r in own])
            side = {
                key: round(median([r["side_cpu_s"][key] for r in own]), 2)
                for key in own[0]["side_cpu_s"]
            }
            cpu.append(f"{push:g} / {pull:g}; {_cell_side(side)}")
        lines.append(
            f"| ... CPU s: registry push / pull; services per push+pull | {cpu[0]} | "
            f"{cpu[1]} | | {cpu[2]} | |"
        )
    storm = results.get("storm", [])
    for level in sorted({r["concurrency"] for r in storm}):
        at = {r["target"]: r for r in storm if r["concurrency"] == level}
        values = {name: float(r["ok_rps"]) for name, r in at.items()}
        lines.append(row(f"storm, {level} clients, ok req/s", values, 0, higher=True))
        cells = []
        for name in TARGETS:
            r = at.get(name)
            if r is None:
                cells.append("-")
                continue
            errors = r["non2xx"] + r["socket_errors"]
            cells.append(
                f"{r['p50_ms']} / {r['p99_ms']}; {r.get('server_cpu_ms_per_req')}"
                f"; {_cell_side(r['side_cpu_ms_per_req'])}"
                + (f"; {errors} errors" if errors else "")
            )
        lines.append(
            f"| ... ms: p50 / p99; CPU per req: registry; services | {cells[0]} | {cells[1]} | "
            f"| {cells[2]} | |"
        )
    return lines


# --- main --------------------------------------------------------------------------------


def _plan(args: argparse.Namespace) -> Plan:
    plan = QUICK if args.quick else FULL
    levels = plan.storm_levels
    if args.storm_levels:
        levels = [int(x) for x in args.storm_levels.split(",")]
    return Plan(
        plan.scenarios, args.runs or plan.runs, levels, args.storm_seconds or plan.storm_seconds
    )


def _keep_logs(directory: Path, into: Path) -> None:
    """Copy the ``*.log`` files directly in ``directory`` to ``into``."""
    for log in directory.glob("*.log"):
        into.mkdir(parents=True, exist_ok=True)
        shutil.copy(log, into / log.name)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # runs the cleanup below


def main() -> None:
    """Start the services and the three targets, run the parts, stop it all, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one run (~3 min)")
    parser.add_argument("--only", default=",".join(PARTS), help=f"subset of {PARTS}")
    parser.add_argument("--runs", type=int, help="skopeo runs per scenario and target")
    parser.add_argument("--storm-levels", help="comma-separated wrk concurrencies")
    parser.add_argument("--storm-seconds", type=int)
    args = parser.parse_args()
    parts = [p for p in args.only.split(",") if p]
    if set(parts) - set(PARTS):
        raise SystemExit(f"unknown parts {sorted(set(parts) - set(PARTS))}; choose from {PARTS}")
    check_tools()
    plan = _plan(args)
    bench_work = Path(os.environ.get("BENCH_WORK") or "/tmp/crossdock-bench").resolve()
    os.environ["BENCH_WORK"] = str(bench_work)
    check_disk(bench_work, plan)
    out = bench_work / "results" / f"scaleout-{time.strftime('%Y%m%d-%H%M%S')}"
    out.mkdir(parents=True)
    bench = Bench(Run(out, sys.executable), plan)
    signal.signal(signal.SIGTERM, _terminate)
    services: Services | None = None
    databases: list[tuple[str, str]] = []
    failed: list[str] = []
    try:
        services = start_services(bench_work, plan)
        side = services.pids()
        tag = secrets.token_hex(4)
        key_file = bench_work / f"scaleout-{tag}.key"
        bench.servers.append(start_distribution_s3(bench_work, services))
        bench.sides["distribution"] = {"seaweedfs": side["seaweedfs"]}
        with fresh_database(services.database_url, databases) as database:
            extra = ["--database-url", database, "--key-file", str(key_file)]
            extra += ["--blob-store", s3_prefix(services.s3_url, f"scaleout-{tag}-1")]
            single = start_crossdock(bench_work, sys.executable, extra, "crossdock-1")
            bench.servers.append(replace(single, data=single.data.parent))  # with its log
            bench.sides["crossdock-1"] = dict(side)
        with fresh_database(services.database_url, databases) as database:
            extra = ["--database-url", database, "--key-file", str(key_file)]
            extra += ["--blob-store", s3_prefix(services.s3_url, f"scaleout-{tag}-2")]
            cluster, balancer = start_two_nodes(bench_work, sys.executable, extra)
            bench.servers.append(cluster)
            bench.sides["crossdock-2"] = {**side, "balancer": balancer}
        steps = {"pushpull": part_pushpull, "storm": part_storm}
        for part in parts:
            bench.run.load(f"before {part}")
            try:
                steps[part](bench)
            except (RuntimeError, OSError, ValueError, KeyError, IndexError) as error:
                failed.append(part)
                print(f"!! {part} failed: {error}", file=sys.stderr, flush=True)
        bench.run.load("end")
    finally:
        for server in reversed(bench.servers):
            server.stop()
            _keep_logs(server.data, out / f"logs-{server.name}")
            shutil.rmtree(server.data, ignore_errors=True)
        drop_databases(databases)
        if services is not None:
            services.stop()
            _keep_logs(bench_work / "services", out / "logs-services")
            shutil.rmtree(bench_work / "services", ignore_errors=True)
        for leftover in bench_work.glob("scaleout-*.key"):
            leftover.unlink()
        shutil.rmtree(bench_work / "pushpull", ignore_errors=True)
        shutil.rmtree(bench_work / "storm", ignore_errors=True)
    lines = table(bench.run.results)
    facts = machine_facts()
    summary = {
        "machine": facts,
        "plan": plan.__dict__,
        "loads": bench.run.loads,
        "results": bench.run.results,
        "table": lines,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    print("; ".join(f"{key}: {value}" for key, value in facts.items()) + "\n")
    print("\n".join(lines))
    print(
        "\nload average (1/5/15 min): "
        + "; ".join(f"{x['at']} {x['time']} {' '.join(x['load'])}" for x in bench.run.loads)
    )
    print(f"results: {out}", file=sys.stderr)
    if failed:
        raise SystemExit(f"failed parts: {', '.join(failed)} (see the logs in {out})")


if __name__ == "__main__":
    main()
