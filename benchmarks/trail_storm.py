"""The pull storm with the decision trail on and off, alternating (docs/performance.md).

Starts two ``crossdock serve`` processes from the walkthrough scenario on fresh data dirs,
one with the trail (the default) and one with ``--no-trail``, creates ``bench/storm`` in
account 111111111111 on each, then runs /work/shared/bench/pull_storm.py (wrk engine)
against them in ABBA order for ``--rounds`` rounds, recording the load average before
each run. Both servers live for the whole run, so each run sees the same machine.

    .venv/bin/python benchmarks/trail_storm.py [--rounds 3] [--duration 10] [--concurrency 1,64]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[1]
WALKTHROUGH = ROOT / "examples" / "cross-account-walkthrough.yaml"
STORM = Path(os.environ.get("CROSSDOCK_BENCH", "/work/shared/bench")) / "pull_storm.py"
OWNER = "111111111111"
OWNER_KEYS = ("AKIAOWNER00000000001", "owner-secret-owner-secret-owner-secret00")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(data_dir: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    log = (data_dir.parent / f"serve-{port}.log").open("wb")
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "crossdock", "serve", "--data-dir", str(data_dir)),
            *("--port", str(port), "--scenario", str(WALKTHROUGH), *extra),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"crossdock serve on {port} did not start")


def _token(url: str) -> str:
    ecr = boto3.session.Session().client(
        "ecr",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=OWNER_KEYS[0],
        aws_secret_access_key=OWNER_KEYS[1],
    )
    ecr.create_repository(repositoryName="bench/storm")
    data = ecr.get_authorization_token()["authorizationData"][0]
    token = str(data["authorizationToken"])
    assert base64.b64decode(token).startswith(b"AWS:")
    return token


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _storm(
    name: str, url: str, token: str, pid: int, args: argparse.Namespace, push: bool
) -> list[dict[str, object]]:
    out = Path(tempfile.mkstemp(suffix=".json")[1])
    target = f"{name}={url},ecr-token={token},prefix={OWNER}/,pid={pid}"
    command = [sys.executable, str(STORM), "--target", target, "--engine", "wrk"]
    command += ["--concurrency", args.concurrency, "--duration", str(args.duration)]
    command += ["--out", str(out)] + ([] if push else ["--no-push"])
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, timeout=600)
    rows: list[dict[str, object]] = json.loads(out.read_text())
    out.unlink()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--concurrency", default="1,64")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="trail-storm-"))
    try:
        _run(work, args)
    finally:
        shutil.rmtree(work)  # the trail of a storm is hundreds of MB
    return 0


def _run(work: Path, args: argparse.Namespace) -> None:
    on, on_url = _serve(work / "on" / "data")
    off, off_url = _serve(work / "off" / "data", "--no-trail")
    results: list[dict[str, object]] = []
    try:
        servers = {
            "on": (on_url, _token(on_url), on.pid),
            "off": (off_url, _token(off_url), off.pid),
        }
        pushed: set[str] = set()
        for round_number in range(args.rounds):
            order = ["on", "off"] if round_number % 2 == 0 else ["off", "on"]
            for name in order:
                url, token, pid = servers[name]
                load = _loadavg()
                rows = _storm(name, url, token, pid, args, name not in pushed)
                pushed.add(name)
                for row in rows:
                    row["round"], row["loadavg_before"] = round_number + 1, load
                    results.append(row)
                    cpu = row.get("server_cpu_ms_per_req")
                    print(
                        f"round {round_number + 1} trail {name} c={row['concurrency']}:"
                        f" {row['ok_rps']} ok req/s, p50 {row['p50_ms']} ms,"
                        f" p99 {row['p99_ms']} ms, non2xx {row['non2xx']},"
                        f" server CPU {cpu} ms/req, loadavg before {load}",
                        flush=True,
                    )
        print(json.dumps(results))
    finally:
        for process in (on, off):
            process.terminate()
            process.wait(timeout=30)
    trail_files = sorted((work / "on" / "data" / "trail").glob("*.jsonl"))
    lines = sum(1 for path in trail_files for _ in path.open("rb"))
    requests = sum(int(str(row["requests"])) for row in results if row["target"] == "on")
    print(f"trail lines written by the 'on' server: {lines} (storm requests: {requests})")
    for log in (work / "on").glob("serve-*.log"):
        print(f"'on' server log: {log.read_text().strip() or '(empty)'}")


if __name__ == "__main__":
    sys.exit(main())
