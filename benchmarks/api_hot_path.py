#!/usr/bin/env python3
"""Where an ECR API call's server CPU goes, stage by stage, in-process (no HTTP, no threads).

It wires crossdock exactly as ``crossdock serve`` does (``build_server``) over a fresh
temporary data dir with ``examples/cross-account-walkthrough.yaml`` applied, signs one
request per call with botocore (as ``benchmarks/api_calls.py`` does), and times each
stage of DescribeRepositories (111111111111's root) and GetAuthorizationToken (the
``puller`` of 222222222222): SigV4 verification, the identity caches, the policy decision,
the store calls, the service call and the whole protocol call. Each figure is process
CPU per call, the minimum and the median of five batches (the minimum is the least
disturbed by other load). It prints one JSON object::

    python benchmarks/api_hot_path.py
    python benchmarks/api_hot_path.py --cprofile 25   # plus the top functions, to stderr

The HTTP server, the framework and the event loop come on top: ``api_calls.py`` measures
the whole. This is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import pstats
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_calls import (
    SCENARIO,
    Operation,
    load_average,
    machine,
    scenario_operations,
    signed_pool,
)

from crossdock.api.compose import Server, build_server
from crossdock.api.context import CallContext
from crossdock.api.ecr.protocol import EcrProtocol
from crossdock.api.scenario import apply_scenario_file
from crossdock.api.wire import ApiRequest
from crossdock.auth.sigv4 import SignedRequest, SigV4Verifier
from crossdock.service.authz import RequestInfo
from crossdock.service.ecr.common import Actor
from crossdock.settings import Settings

OWNER_REPOSITORIES = "arn:aws:ecr:us-east-1:111111111111:repository/*"


def _signed(raw: bytes) -> SignedRequest:
    """A captured HTTP/1.1 request as the endpoint hands it to the verifier."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = tuple(
        (name, value.strip()) for name, _, value in (line.partition(":") for line in lines[1:])
    )
    return SignedRequest("POST", "/", "", headers, body)


def _clock(work: Callable[[], object], calls: int) -> dict[str, float]:
    """Process CPU per call in µs: the minimum and the median of five batches."""
    for _ in range(min(200, calls)):
        work()
    batches = []
    for _ in range(5):
        started = time.process_time()
        for _ in range(calls // 5):
            work()
        batches.append((time.process_time() - started) / (calls // 5) * 1e6)
    batches.sort()
    return {"min_us": round(batches[0], 1), "median_us": round(batches[2], 1)}


def _stages(
    server: Server,
    verifier: SigV4Verifier,
    protocol: EcrProtocol,
    name: str,
    operation: Operation,
) -> dict[str, Callable[[], object]]:
    """Each stage of ``operation`` as a no-argument call, the whole call last."""
    signed = _signed(signed_pool("http://127.0.0.1:5000", operation, 1)[0])
    principal = verifier.verify(signed).principal
    info = RequestInfo("127.0.0.1", False, "bench", server.clock(), "us-east-1")
    actor = Actor(principal, info)
    headers = {k.lower(): v for k, v in signed.headers}
    authorizer = server.identity.authorizer

    def whole() -> None:
        checked = verifier.verify(signed)
        request = ApiRequest(headers, signed.body, checked.service, checked.region)
        context = CallContext(checked.principal, info, "bench")
        response = protocol.handle(context, request)
        assert response.status_code == 200, response.body

    key = operation.credentials[0]
    stages: dict[str, Callable[[], object]] = {
        "sigv4_verify": lambda: verifier.verify(signed),
        "credential_lookup": lambda: server.identity.resolver.credential(key),
        "identity_generation_read": server.identity_stores.generations.generation,
    }
    if name == "DescribeRepositories":
        repositories = server.registry_stores.repositories
        stages["policy_decision"] = lambda: authorizer.require(
            principal, "ecr:DescribeRepositories", OWNER_REPOSITORIES, info
        )
        stages["store_list_repositories"] = lambda: repositories.list_repositories(
            "111111111111", "us-east-1", None, 101
        )
        stages["service_call"] = lambda: server.ecr.repositories.describe(
            actor, "111111111111", None, None, None
        )
    else:
        stages["policy_decision"] = lambda: authorizer.require(
            principal, "ecr:GetAuthorizationToken", "*", info
        )
        stages["token_issue"] = lambda: server.ecr.registry_tokens.issue(principal, server.clock())
        stages["service_call"] = lambda: server.ecr.tokens.get_authorization_token(actor, None)
    stages["verify_and_protocol_call"] = whole
    return stages


def main() -> None:
    """Time every stage of both calls and print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=4000, help="calls per stage")
    parser.add_argument("--cprofile", type=int, default=0, metavar="N")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="crossdock-hot-path-"))
    try:
        server = build_server(Settings(data_dir=work / "data", port=5000))
        apply_scenario_file(server, SCENARIO, "us-east-1")
        verifier = SigV4Verifier(server.identity.resolver, server.clock)
        protocol = EcrProtocol(server.ecr)
        operations = scenario_operations(SCENARIO)
        report: dict[str, Any] = {
            "benchmark": "api_hot_path",
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "machine": machine(),
            "load_average_at_start": load_average(),
            "stages": {},
        }
        for name, operation in operations.items():
            stages = _stages(server, verifier, protocol, name, operation)
            report["stages"][name] = {
                stage: _clock(work_, args.calls) for stage, work_ in stages.items()
            }
            if args.cprofile:
                profile = cProfile.Profile()
                whole = stages["verify_and_protocol_call"]
                for _ in range(args.calls):
                    profile.runcall(whole)
                print(f"--- {name}: verify + protocol call", file=sys.stderr)
                stats = pstats.Stats(profile, stream=sys.stderr)
                stats.sort_stats("tottime").print_stats(args.cprofile)
        report["load_average_at_end"] = load_average()
        print(json.dumps(report, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
