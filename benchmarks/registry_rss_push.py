#!/usr/bin/env python3
"""Server memory while one large layer is pushed: RSS over time, streamed from a generator.

    python benchmarks/registry_rss_push.py URL --pid PID [--repo 111111111111/bench/raw]
        [--mib 4096] [--auth "Basic ..."] [--chunked] [--interval 0.2]

The layer is generated, not read from disk: a 16 MiB random block repeated, with each
1 MiB piece stamped with its index so no two pieces are equal. Its digest is computed in
a first pass (not timed); the second pass streams it to the registry: POST
``/v2/<repo>/blobs/uploads/``, one PATCH carrying the whole layer (``Content-Length``,
or ``Transfer-Encoding: chunked`` with ``--chunked``, as docker sends it), then
``PUT ?digest=``. Meanwhile a thread samples ``VmRSS`` of the server process tree
(``/proc/<pid>/status``, through ``shared/bench/benchlib.py``) every ``--interval``
seconds. Prints one JSON object: RSS before, during (min/max, first and last quarter)
and after, ``VmHWM`` before and after, and the upload's throughput. Loopback only.
This is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SHARED_BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"
PIECE = 1 << 20
BLOCK = 16 << 20


def _benchlib() -> Any:
    sys.dont_write_bytecode = True
    sys.path.insert(0, str(SHARED_BENCH))
    import benchlib  # type: ignore[import-not-found]

    return benchlib


def pieces(total: int, block: bytes) -> Iterator[bytes]:
    """The layer, 1 MiB at a time: the random block repeated, each piece index-stamped."""
    view = memoryview(block)
    sent = 0
    index = 0
    while sent < total:
        size = min(PIECE, total - sent)
        offset = (index * PIECE) % len(block)
        yield index.to_bytes(8, "big") + view[offset + 8 : offset + size].tobytes()
        sent += size
        index += 1


class Sampler(threading.Thread):
    """Samples the RSS (MiB) of a process tree until stopped."""

    def __init__(self, pid: int, interval: float) -> None:
        super().__init__(daemon=True)
        self._bench = _benchlib()
        self._pid = pid
        self._interval = interval
        self._stop_event = threading.Event()
        self.samples: list[tuple[float, float]] = []

    def run(self) -> None:
        start = time.monotonic()
        while not self._stop_event.is_set():
            rss = self._bench.rss_mib(self._pid)
            self.samples.append((round(time.monotonic() - start, 2), round(rss, 1)))
            self._stop_event.wait(self._interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def _request(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    headers: dict[str, str],
    body: Any = None,
    chunked: bool = False,
) -> http.client.HTTPResponse:
    conn.request(method, path, body=body, headers=headers, encode_chunked=chunked)
    response = conn.getresponse()
    response.read()
    return response


def push(url: str, repo: str, auth: str | None, total: int, chunked: bool) -> dict[str, Any]:
    """Push one generated layer of ``total`` bytes; returns timings and the digest."""
    parsed = urllib.parse.urlparse(url)
    if parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("loopback targets only")
    block = os.urandom(BLOCK)
    hasher = hashlib.sha256()
    for piece in pieces(total, block):
        hasher.update(piece)
    digest = "sha256:" + hasher.hexdigest()
    base = {"Authorization": auth} if auth else {}
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=600)
    started = time.monotonic()
    answer = _request(conn, "POST", f"/v2/{repo}/blobs/uploads/", {**base, "Content-Length": "0"})
    if answer.status != 202:
        raise SystemExit(f"POST uploads: HTTP {answer.status}")
    location = answer.getheader("Location") or ""
    path = urllib.parse.urlparse(location)
    upload = path.path + (f"?{path.query}" if path.query else "")
    headers = {**base, "Content-Type": "application/octet-stream"}
    if not chunked:
        headers["Content-Length"] = str(total)
    answer = _request(conn, "PATCH", upload, headers, pieces(total, block), chunked)
    if answer.status != 202:
        raise SystemExit(f"PATCH: HTTP {answer.status}")
    location = answer.getheader("Location") or upload
    path = urllib.parse.urlparse(location)
    query = f"{path.query}&" if path.query else ""
    done = _request(
        conn, "PUT", f"{path.path}?{query}digest={digest}", {**base, "Content-Length": "0"}
    )
    elapsed = time.monotonic() - started
    if done.status != 201:
        raise SystemExit(f"PUT ?digest=: HTTP {done.status}")
    conn.close()
    return {"digest": digest, "seconds": round(elapsed, 2), "MiBps": round(total / 2**20 / elapsed)}


def summarize(samples: list[tuple[float, float]]) -> dict[str, Any]:
    """Min/max over the whole upload and over its first and last quarters."""
    values = [rss for _, rss in samples]
    quarter = max(1, len(values) // 4)
    return {
        "samples": len(values),
        "min_MiB": min(values),
        "max_MiB": max(values),
        "first_quarter_max_MiB": max(values[:quarter]),
        "last_quarter_max_MiB": max(values[-quarter:]),
    }


def main() -> None:
    """Push the layer while sampling the server's RSS; print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--repo", default="bench/raw")
    parser.add_argument("--mib", type=int, default=4096)
    parser.add_argument("--auth", default=os.environ.get("RSS_PUSH_AUTH"))
    parser.add_argument("--chunked", action="store_true")
    parser.add_argument("--interval", type=float, default=0.2)
    parser.add_argument("--series", action="store_true", help="include every sample")
    args = parser.parse_args()
    bench = _benchlib()
    before = {"rss_MiB": bench.rss_mib(args.pid), "hwm_MiB": bench.rss_mib(args.pid, "VmHWM")}
    sampler = Sampler(args.pid, args.interval)
    sampler.start()
    try:
        result = push(args.url, args.repo, args.auth, args.mib << 20, args.chunked)
    finally:
        sampler.stop()
    time.sleep(0.5)
    after = {"rss_MiB": bench.rss_mib(args.pid), "hwm_MiB": bench.rss_mib(args.pid, "VmHWM")}
    out: dict[str, Any] = {
        "layer_MiB": args.mib,
        "mode": "chunked" if args.chunked else "content-length",
        **result,
        "before": before,
        "during": summarize(sampler.samples),
        "after": after,
    }
    if args.series:
        out["series"] = sampler.samples
    print(json.dumps(out))


if __name__ == "__main__":
    main()
