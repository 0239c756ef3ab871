"""What the decision trail adds to one request, in-process: encoding its line.

Builds a server over a temporary data dir with the walkthrough scenario, decides a
cross-account manifest pull (ecr:BatchGetImage) for ``--requests`` fresh request facts,
and times ``TrailEncoder.encode`` on those decisions: the work ``TrailWriter.record``
does on the request path, with the caches as warm as in a pull storm (one caller, one
repository, one tag).

    .venv/bin/python benchmarks/trail_encode.py [--requests 20000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from crossdock.api.compose import build_server
from crossdock.api.scenario import apply_scenario_file
from crossdock.service.authz import RequestInfo
from crossdock.service.trail_record import TrailEncoder
from crossdock.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
REPO = "arn:aws:ecr:us-east-1:111111111111:repository/example"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        server = build_server(Settings(data_dir=Path(work) / "data", trail=False))
        apply_scenario_file(
            server, ROOT / "examples" / "cross-account-walkthrough.yaml", "us-east-1"
        )
        credential = server.identity.resolver.credential("AKIAPULLER0000000001")
        assert credential is not None
        principal = credential.principal
        infos = [
            RequestInfo(
                "127.0.0.1",
                False,
                "wrk/4.1",
                datetime.now(UTC),
                "us-east-1",
                parameters={"imageTag": "latest"},
                protocol="v2",
            )
            for _ in range(args.requests)
        ]
        authorizer = server.identity.authorizer
        decisions = [authorizer.decide(principal, "ecr:BatchGetImage", REPO, i) for i in infos]
        pairs = list(zip(decisions, infos, strict=True))
        encode_us = []
        for _ in range(args.repeat):
            encoder = TrailEncoder()
            start = time.perf_counter()
            for decision, info in pairs:
                encoder.encode(principal, decision, info)
            encode_us.append((time.perf_counter() - start) * 1e6 / len(pairs))
        line = TrailEncoder().line(principal, decisions[0], infos[0])
        print(
            f"encode: median {statistics.median(encode_us):.1f} us/event"
            f" (runs: {', '.join(f'{u:.1f}' for u in encode_us)}), line {len(line)} bytes"
        )


if __name__ == "__main__":
    main()
