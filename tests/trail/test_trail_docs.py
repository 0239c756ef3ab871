"""The trail example in docs/trail.md is real: this test produces it.

A server with the walkthrough scenario takes five requests: the puller and mallory log in,
the puller reads a manifest, mallory is denied the same over /v2/ and over the ECR API.
The lines it writes must equal ``tests/trail/data/example/trail/2026-12-01.jsonl`` (the
docs' console blocks read that data dir), apart from the event ids and the users' unique
ids, which are random. The JSON block in docs/trail.md must equal the denied /v2/ line.
``CROSSDOCK_UPDATE_TRAIL_EXAMPLE=1`` rewrites the file.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from trail_world import OWNER, ROOT, TrailWorld

EXAMPLE = Path(__file__).parent / "data" / "example" / "trail" / "2026-12-01.jsonl"
DOC = ROOT / "docs" / "trail.md"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _produce(world: TrailWorld) -> list[dict[str, Any]]:
    puller = world.password("puller")
    mallory = world.password("mallory")
    manifest = f"/v2/{OWNER}/example/manifests/latest"
    assert world.v2("GET", manifest, puller).status_code == 404  # allowed; no such tag
    world.clock.advance(seconds=1)
    assert world.v2("GET", manifest, mallory).status_code == 403
    world.clock.advance(seconds=1)
    params = {"registryId": OWNER, "repositoryName": "example", "imageIds": [{"imageTag": "v1"}]}
    assert world.ecr("mallory", "BatchGetImage", params).status_code == 400
    return [event.record for event in world.events()]


def _normalized(record: dict[str, Any], like: dict[str, Any]) -> dict[str, Any]:
    """``record`` with the random ids of ``like``, after checking their form."""
    assert UUID.fullmatch(record["eventID"])
    assert record["userIdentity"]["principalId"].startswith("AIDA")
    copy = json.loads(json.dumps(record))
    copy["eventID"] = like["eventID"]
    copy["userIdentity"]["principalId"] = like["userIdentity"]["principalId"]
    return copy


def test_the_example_trail_is_what_a_server_writes(world: TrailWorld) -> None:
    produced = _produce(world)
    if os.environ.get("CROSSDOCK_UPDATE_TRAIL_EXAMPLE") == "1":
        EXAMPLE.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in produced))
    example = [json.loads(line) for line in EXAMPLE.read_text().splitlines()]
    assert len(produced) == len(example) == 5
    for record, expected in zip(produced, example, strict=True):
        assert _normalized(record, expected) == expected


def test_the_docs_show_the_denied_pull_line() -> None:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(), re.DOTALL)
    example = [json.loads(line) for line in EXAMPLE.read_text().splitlines()]
    denied_pull = next(
        r for r in example if r["crossdock"]["protocol"] == "v2" and "errorCode" in r
    )
    assert json.loads(blocks[0]) == denied_pull
    assert blocks[0] == json.dumps(denied_pull, indent=2) + "\n"
