#!/usr/bin/env python3
"""Policy decisions per second, cold (parse + compile + decide) and warm (compiled once).

The corpus is generated here: seed-sized policy sets (one or two identity policies, a
repository policy, sometimes a boundary, SCP levels and conditions) across the
same-account and cross-account paths. Run it on an otherwise idle machine::

    taskset -c 1 python benchmarks/policy_eval.py --cases 400 --seconds 3

It prints one JSON object; docs/performance.md records the figures. A decision records
its trace compactly and builds the ``PolicyTrace`` objects when they are first read, so
the plain warm figure reads no trace; ``warm_traced`` also reads every decision's trace
and AccessDenied message, as ``crossdock policy explain`` and an AccessDenied reply do.

Wall-clock figures are noisy on a shared machine. ``--passes N`` runs exactly N warm
passes and no timing, for an instruction count that load does not change::

    valgrind --tool=callgrind python benchmarks/policy_eval.py --passes 5
    valgrind --tool=callgrind python benchmarks/policy_eval.py --passes 25

The difference of the two totals divided by 20 passes x 400 cases is the instructions
per warm decision (setup is the same in both runs and cancels out).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
from collections.abc import Callable
from typing import Any

from crossdock.policy.cases import PolicyCache, SimulationCase, parse_case, simulate_case

PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
PUSH = ["ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage"]
OWNER, CONSUMER, OTHER = "111111111111", "222222222222", "333333333333"


def _repo(name: str, account: str = OWNER) -> str:
    return f"arn:aws:ecr:us-east-1:{account}:repository/{name}"


def _principal(rng: random.Random, account: str) -> tuple[str, dict[str, Any]]:
    kind = rng.choice(["user", "session", "root"])
    if kind == "user":
        arn = f"arn:aws:iam::{account}:user/dev{rng.randint(1, 9)}"
        return arn, {"aws:PrincipalArn": arn, "aws:username": arn.rsplit("/", 1)[1]}
    if kind == "session":
        role = f"arn:aws:iam::{account}:role/ci/builder"
        arn = f"arn:aws:sts::{account}:assumed-role/builder/job{rng.randint(1, 99)}"
        return arn, {"aws:PrincipalArn": role, "aws:PrincipalTag/team": "platform"}
    return f"arn:aws:iam::{account}:root", {"aws:PrincipalArn": f"arn:aws:iam::{account}:root"}


def make_case(rng: random.Random, index: int) -> dict[str, Any]:
    """One random seed-sized case."""
    account = rng.choice([OWNER, CONSUMER, CONSUMER, OTHER])
    principal, context = _principal(rng, account)
    context.update(
        {
            "aws:PrincipalAccount": account,
            "aws:SourceIp": f"203.0.113.{rng.randint(1, 254)}",
            "aws:SecureTransport": "true",
            "aws:CurrentTime": "2026-11-28T12:00:00Z",
        }
    )
    repo = rng.choice(["example", "team/app", "base/python"])
    action = rng.choice(PULL + PUSH + ["ecr:GetAuthorizationToken"])
    resource = "*" if action == "ecr:GetAuthorizationToken" else _repo(repo)
    identity = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Pull", "Effect": "Allow", "Action": PULL, "Resource": _repo("*")},
            {
                "Sid": "Login",
                "Effect": "Allow",
                "Action": "ecr:GetAuthorizationToken",
                "Resource": "*",
            },
            {
                "Sid": "PushOwnTeam",
                "Effect": "Allow",
                "Action": PUSH,
                "Resource": _repo("team/*"),
                "Condition": {"StringEquals": {"aws:PrincipalTag/team": "platform"}},
            },
        ],
    }
    repository_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ConsumerPull",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{CONSUMER}:root"},
                "Action": PULL,
            },
            {
                "Sid": "DenyPlainHttp",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "ecr:*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }
    case: dict[str, Any] = {
        "id": f"bench/{index}",
        "request": {
            "principal": principal,
            "action": action,
            "resource": resource,
            "context": context,
        },
        "identityPolicies": [identity],
        "resourcePolicy": repository_policy if resource != "*" else None,
        "permissionBoundaries": None,
        "scps": None,
    }
    if rng.random() < 0.3:
        case["permissionBoundaries"] = [
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}],
            }
        ]
    if rng.random() < 0.3:
        full = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
        case["scps"] = [[full], [full]]
    return case


def _rate(work: Callable[[], int], seconds: float) -> float:
    done = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        done += work()
    return done / (time.perf_counter() - started)


def main() -> None:
    """Run the benchmark and print its figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--passes", type=int, default=0, help="run exactly N warm passes, untimed (callgrind)"
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    raw = [make_case(rng, i) for i in range(args.cases)]

    def cold() -> int:
        cache = PolicyCache()  # a fresh cache: every policy is parsed and compiled again
        for case in raw:
            simulate_case(parse_case(case, cache))
        return len(raw)

    shared = PolicyCache()
    parsed: list[SimulationCase] = [parse_case(case, shared) for case in raw]

    def warm() -> int:
        for case in parsed:
            simulate_case(case)
        return len(parsed)

    def warm_traced() -> int:
        for case in parsed:
            decision = simulate_case(case)
            _ = decision.trace, decision.message
        return len(parsed)

    outcomes: dict[str, int] = {}
    for case in parsed:
        name = simulate_case(case).outcome.value
        outcomes[name] = outcomes.get(name, 0) + 1
    report: dict[str, Any] = {"cases": len(raw), "outcomes": outcomes}
    if args.passes:
        for _ in range(args.passes):
            warm()
        print(json.dumps({**report, "warm_passes": args.passes}))
        return
    report = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        **report,
        "cold_decisions_per_second": round(_rate(cold, args.seconds)),
        "warm_decisions_per_second": round(_rate(warm, args.seconds)),
        "warm_traced_decisions_per_second": round(_rate(warm_traced, args.seconds)),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
