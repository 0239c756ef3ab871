#!/usr/bin/env python3
"""crossdock's registry against CNCF distribution 2.8.2, side by side, in one run.

    python benchmarks/registry_vs_distribution.py [--quick] [--only pushpull,storm,raw,rss]

Starts both servers on free 127.0.0.1 ports: distribution (Debian ``docker-registry``)
anonymously through ``shared/bench/run_registry.sh``, and ``crossdock serve`` with a
fresh data dir under ``$BENCH_WORK`` and ``benchmarks/registry_scenario.yaml`` (account
111111111111 owning ``bench/big``, ``bench/small``, ``bench/storm``, ``bench/raw``). It
logs in as that account's root user (``GetAuthorizationToken``), so every crossdock
request carries a Basic registry token that is verified and policy-checked. Then, with
``pid=`` on both targets so server CPU is recorded:

* ``pushpull``: ``shared/bench/bench_push_pull.py``, skopeo push and pull of 8 x 128 MiB
  and 200 x 64 KiB (``--quick``: 8 x 16 MiB and 50 x 64 KiB), target order rotated per run;
* ``storm``: ``shared/bench/pull_storm.py --engine wrk``, manifest GET by tag at each
  concurrency, the two targets alternating (order rotated per level);
* ``raw``: ``shared/bench/raw_blob_bench.sh``, curl POST+PUT of a 1 GiB blob and its GET,
  one run per target per round, alternating;
* ``rss``: ``benchmarks/registry_rss_push.py``, the server's RSS sampled while a 4 GiB
  layer is streamed to it.

The load average (``/proc/loadavg``) is recorded before and after each part. Both
servers are stopped by PID at the end, whatever happened, and their storage is deleted
(``--keep-data`` keeps it); a full run needs about 25 GiB free under ``$BENCH_WORK`` while
it runs and checks for it first. A part that fails is reported and the others still run
(exit status 1). Prints a markdown table (both
figures, the ratio crossdock/distribution, the target) and writes everything to
``$BENCH_WORK/results/registry-<timestamp>/`` (``BENCH_WORK`` defaults to
``/tmp/crossdock-bench``). Fails at once if docker-registry, skopeo, wrk, curl or bc is
missing. This is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchcommon import (
    OWNER,
    REPO_ROOT,
    SHARED_BENCH,
    Run,
    Server,
    free_port,
    machine_facts,
    start_crossdock,
)
from benchcommon import cpu_seconds as _cpu
from benchcommon import median as _median
from benchcommon import run_script as _script
from benchcommon import script_env as _env

RSS_SCRIPT = REPO_ROOT / "benchmarks" / "registry_rss_push.py"
TOOLS = ("docker-registry", "skopeo", "wrk", "curl", "bc", "sha256sum")
PARTS = ("pushpull", "storm", "raw", "rss")


@dataclass
class Plan:
    """Sizes and repetitions of one run."""

    scenarios: list[str]
    runs: int
    storm_levels: list[int]
    storm_seconds: int
    raw_mib: int
    raw_rounds: int
    rss_mib: int


FULL = Plan(["big=8x128M", "small=200x64K"], 3, [1, 16, 64, 256, 1024], 10, 1024, 3, 4096)
QUICK = Plan(["big=8x16M", "small=50x64K"], 1, [16, 256], 3, 128, 1, 512)


def needed_gib(plan: Plan) -> float:
    """Disk the run needs under ``$BENCH_WORK``: both servers keep every pushed blob until
    the end, and skopeo's image and pulled copy sit beside them."""
    per_image = max(_mib(spec) for spec in plan.scenarios)
    per_server = plan.runs * sum(_mib(spec) for spec in plan.scenarios)
    per_server += plan.raw_mib * plan.raw_rounds + plan.rss_mib
    return (2 * per_server + 3 * per_image + plan.raw_mib) / 1024 + 1


def _mib(scenario: str) -> float:
    layers, _, size = scenario.partition("=")[2].partition("x")
    units = {"K": 1 / 1024, "M": 1, "G": 1024}
    return int(layers) * float(size[:-1]) * units[size[-1].upper()]


def check_disk(bench_work: Path, plan: Plan) -> None:
    """Fail before starting when ``$BENCH_WORK`` has too little free space."""
    bench_work.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(bench_work).free / 2**30
    needed = needed_gib(plan)
    if free < needed:
        raise SystemExit(
            f"{bench_work} has {free:.1f} GiB free; this run needs about {needed:.0f} GiB "
            "(use --quick or smaller sizes, or point BENCH_WORK elsewhere)"
        )


def check_tools() -> None:
    """Fail clearly when a tool the shared scripts need is missing."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not SHARED_BENCH.is_dir():
        missing.append(f"the shared bench folder {SHARED_BENCH}")
    if missing:
        raise SystemExit(
            "missing: " + ", ".join(missing) + "\n(apt-get install docker-registry skopeo "
            "wrk curl bc; see shared/bench/README.md)"
        )


def start_distribution(bench_work: Path) -> Server:
    """distribution on a free port, fresh storage, anonymous."""
    port = free_port()
    script = str(SHARED_BENCH / "run_registry.sh")
    subprocess.run([script, "start", str(port)], check=True, stdout=sys.stderr)
    pid = int((bench_work / f"registry-{port}" / "pid").read_text())
    url = f"http://127.0.0.1:{port}"

    def stop() -> None:
        subprocess.run([script, "stop", str(port)], check=False, stdout=sys.stderr)

    storage = bench_work / f"registry-{port}" / "storage"
    target = f"distribution={url},pid={pid}"
    return Server("distribution", url, pid, target, "", "bench/raw", None, stop, storage)


def part_pushpull(run: Run, plan: Plan, servers: list[Server]) -> None:
    """skopeo push and pull, both targets, order rotated per run."""
    args = [a for s in servers for a in ("--target", s.target)]
    args += [a for s in plan.scenarios for a in ("--scenario", s)]
    out = run.out / "push_pull.json"
    _script(
        run,
        "bench_push_pull.py",
        [*args, "--runs", str(plan.runs), "--out", str(out)],
        "push_pull.log",
    )
    summary = json.loads(out.read_text())["summary"]
    run.results["pushpull"] = summary


def part_storm(run: Run, plan: Plan, servers: list[Server]) -> None:
    """wrk manifest GET storm, one level at a time, the targets alternating."""
    rows: list[dict[str, Any]] = []
    for index, level in enumerate(plan.storm_levels):
        order = servers[index % 2 :] + servers[: index % 2]
        args = [a for s in order for a in ("--target", s.target)]
        args += [
            "--engine",
            "wrk",
            "--concurrency",
            str(level),
            "--duration",
            str(plan.storm_seconds),
        ]
        if index > 0:
            args.append("--no-push")
        out = run.out / f"pull_storm-{level}.json"
        _script(run, "pull_storm.py", [*args, "--out", str(out)], f"pull_storm-{level}.log")
        rows += json.loads(out.read_text())
    run.results["storm"] = rows


def _raw_once(run: Run, plan: Plan, server: Server, round_: int) -> tuple[float, float]:
    args = [server.url, str(plan.raw_mib), "1", server.raw_auth]
    if server.name == "crossdock":
        args.append(f"{OWNER}/bench/raw")
    text = _script(run, "raw_blob_bench.sh", args, f"raw-{server.name}-{round_}.log")
    line = next(x for x in text.splitlines() if x.startswith("median:"))
    words = line.split()
    return float(words[2]), float(words[5])


def part_raw(run: Run, plan: Plan, servers: list[Server]) -> None:
    """curl monolithic POST+PUT and GET, one run per target per round, alternating."""
    rows: list[dict[str, Any]] = []
    for round_ in range(plan.raw_rounds):
        order = servers[round_ % 2 :] + servers[: round_ % 2]
        for server in order:
            c0 = _cpu(server.pid)
            push, pull = _raw_once(run, plan, server, round_)
            rows.append(
                {
                    "target": server.name,
                    "round": round_,
                    "push_MiBps": push,
                    "get_MiBps": pull,
                    "server_cpu_s": round(_cpu(server.pid) - c0, 2),
                }
            )
    run.results["raw"] = rows


def part_rss(run: Run, plan: Plan, servers: list[Server]) -> None:
    """The server's RSS over a large layer push, each target in turn."""
    rows = []
    for server in servers:
        command = [run.python, str(RSS_SCRIPT), server.url, "--pid", str(server.pid)]
        command += ["--repo", server.rss_repo, "--mib", str(plan.rss_mib)]
        env = _env(run)
        if server.rss_auth:
            env["RSS_PUSH_AUTH"] = server.rss_auth
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        (run.out / f"rss-{server.name}.log").write_text(done.stdout + done.stderr)
        if done.returncode != 0:
            raise RuntimeError(f"rss push failed for {server.name}: {done.stderr[-1000:]}")
        rows.append({"target": server.name, **json.loads(done.stdout)})
    run.results["rss"] = rows


# --- the table -------------------------------------------------------------------------


def _row(
    measure: str, base: float, ours: float, unit: str, target: float | None, higher: bool = True
) -> str:
    ratio = ours / base if higher else base / ours
    verdict = "" if target is None else ("met" if ratio >= target else "**missed**")
    goal = "" if target is None else f">= {target:.1f}x"
    return (
        f"| {measure} | {base:,.1f} {unit} | {ours:,.1f} {unit} | {ratio:.2f}x | {goal} {verdict} |"
    )


def table(results: dict[str, Any]) -> list[str]:
    """Markdown rows: distribution, crossdock, ratio (higher is better for crossdock)."""
    lines = [
        "| measure | distribution | crossdock | ratio (speed) | target |",
        "|---|---|---|---|---|",
    ]
    for s in results.get("pushpull", []):
        if s["target"] != "distribution":
            continue
        mine = next(
            x
            for x in results["pushpull"]
            if x["target"] == "crossdock" and x["scenario"] == s["scenario"]
        )
        for op in ("push", "pull"):
            lines.append(
                _row(
                    f"skopeo {op} {s['image']} (median s)",
                    s[f"{op}_s_median"],
                    mine[f"{op}_s_median"],
                    "s",
                    1.0,
                    higher=False,
                )
            )
            lines.append(
                f"| ... server CPU s per {op} | {s[f'server_cpu_{op}_s_median']} | "
                f"{mine[f'server_cpu_{op}_s_median']} | | |"
            )
    raw = results.get("raw", [])
    if raw:
        for key, label, goal in (
            ("push_MiBps", "raw blob push (POST+PUT)", 1.5),
            ("get_MiBps", "raw blob GET", 1.0),
        ):
            base = _median([r[key] for r in raw if r["target"] == "distribution"])
            ours = _median([r[key] for r in raw if r["target"] == "crossdock"])
            lines.append(_row(f"{label}, MiB/s (median)", base, ours, "MiB/s", goal))
    storm = results.get("storm", [])
    if storm:
        levels = sorted({r["concurrency"] for r in storm})
        peak = {}
        for name in ("distribution", "crossdock"):
            mine = [r for r in storm if r["target"] == name]
            peak[name] = max(r["ok_rps"] for r in mine)
        for level in levels:
            b = next(
                r for r in storm if r["target"] == "distribution" and r["concurrency"] == level
            )
            c = next(r for r in storm if r["target"] == "crossdock" and r["concurrency"] == level)
            lines.append(
                _row(f"storm, {level} clients, ok req/s", b["ok_rps"], c["ok_rps"], "req/s", None)
            )
            cells = [
                f"{r['p50_ms']} / {r['p99_ms']} / {r.get('server_cpu_ms_per_req')}" for r in (b, c)
            ]
            lines.append(f"| ... p50 ms / p99 ms / CPU ms per req | {cells[0]} | {cells[1]} | | |")
        lines.append(
            _row(
                "storm peak req/s (best level each)",
                peak["distribution"],
                peak["crossdock"],
                "req/s",
                1.0,
            )
        )
    for r in results.get("rss", []):
        d, before, after = r["during"], r["before"], r["after"]
        cell = (
            f"{before['rss_MiB']:.0f} before; {d['min_MiB']:.0f}–{d['max_MiB']:.0f} during "
            f"(max {d['first_quarter_max_MiB']:.0f} in the 1st quarter, "
            f"{d['last_quarter_max_MiB']:.0f} in the last); {after['rss_MiB']:.0f} after; "
            f"VmHWM {before['hwm_MiB']:.0f} → {after['hwm_MiB']:.0f}; {r['MiBps']} MiB/s"
        )
        pair = f"{cell} | " if r["target"] == "distribution" else f" | {cell}"
        lines.append(f"| RSS MiB, pushing a {r['layer_MiB']} MiB layer | {pair} | | flat |")
    return lines


def main() -> None:
    """Start both servers, run the parts, stop both, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one run (about 2 min)")
    parser.add_argument(
        "--only", default=",".join(PARTS), help=f"comma-separated subset of {PARTS}"
    )
    parser.add_argument("--runs", type=int, help="skopeo runs per scenario")
    parser.add_argument("--storm-levels", help="comma-separated wrk concurrencies")
    parser.add_argument("--storm-seconds", type=int)
    parser.add_argument("--raw-mib", type=int)
    parser.add_argument("--raw-rounds", type=int)
    parser.add_argument("--rss-mib", type=int)
    parser.add_argument(
        "--serve-arg", action="append", default=[], help="extra `crossdock serve` argument"
    )
    parser.add_argument(
        "--keep-data", action="store_true", help="keep both servers' storage after the run"
    )
    args = parser.parse_args()
    check_tools()
    plan = QUICK if args.quick else FULL
    plan = Plan(
        plan.scenarios,
        args.runs or plan.runs,
        [int(x) for x in args.storm_levels.split(",")] if args.storm_levels else plan.storm_levels,
        args.storm_seconds or plan.storm_seconds,
        args.raw_mib or plan.raw_mib,
        args.raw_rounds or plan.raw_rounds,
        args.rss_mib or plan.rss_mib,
    )
    parts = [p for p in args.only.split(",") if p]
    unknown = set(parts) - set(PARTS)
    if unknown:
        raise SystemExit(f"unknown parts {sorted(unknown)}; choose from {PARTS}")
    bench_work = Path(os.environ.get("BENCH_WORK") or "/tmp/crossdock-bench").resolve()
    os.environ["BENCH_WORK"] = str(bench_work)
    check_disk(bench_work, plan)
    out = bench_work / "results" / f"registry-{time.strftime('%Y%m%d-%H%M%S')}"
    out.mkdir(parents=True)
    run = Run(out, sys.executable)
    servers: list[Server] = []
    failed: list[str] = []
    try:
        servers.append(start_distribution(bench_work))
        servers.append(start_crossdock(bench_work, sys.executable, args.serve_arg))
        steps = {"pushpull": part_pushpull, "storm": part_storm, "raw": part_raw, "rss": part_rss}
        for part in parts:
            run.load(f"before {part}")
            try:
                steps[part](run, plan, servers)
            except (RuntimeError, OSError, ValueError, KeyError, StopIteration) as error:
                failed.append(part)
                print(f"!! {part} failed: {error}", file=sys.stderr, flush=True)
        run.load("end")
    finally:
        for server in reversed(servers):
            server.stop()
            if not args.keep_data:
                shutil.rmtree(server.data, ignore_errors=True)
    lines = table(run.results)
    facts = machine_facts()
    summary = {
        "machine": facts,
        "plan": plan.__dict__,
        "loads": run.loads,
        "results": run.results,
        "table": lines,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    print("; ".join(f"{key}: {value}" for key, value in facts.items()) + "\n")
    print("\n".join(lines))
    print(
        "\nload average (1/5/15 min): "
        + "; ".join(f"{x['at']} {x['time']} {' '.join(x['load'])}" for x in run.loads)
    )
    print(f"results: {out}", file=sys.stderr)
    if failed:
        raise SystemExit(f"failed parts: {', '.join(failed)} (see the logs in {out})")


if __name__ == "__main__":
    main()
