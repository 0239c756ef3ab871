"""``TrailReader``: filters, newest-last order, last denied, follow, and partial lines."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crossdock.service.trail import TrailEvent, TrailReader
from crossdock.storage.trail_files import iter_lines_reversed, read_complete_lines

ROLE = "arn:aws:iam::222222222222:role/Deploy"
SESSION = "arn:aws:sts::222222222222:assumed-role/Deploy/run-1"
ALICE = "arn:aws:iam::111111111111:user/alice"
_ids = itertools.count()


def _event(time_: str, arn: str, repo: str | None, denied: bool, **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "eventTime": time_,
        "userIdentity": {"arn": arn},
        "requestParameters": {} if repo is None else {"repositoryName": repo},
        "eventID": str(next(_ids)),
        "crossdock": {
            "decision": "ImplicitDeny" if denied else "Allowed",
            "action": "ecr:BatchGetImage",
            "resource": f"arn:aws:ecr:us-east-1:111111111111:repository/{repo or '*'}",
        },
    }
    if arn == SESSION:
        record["userIdentity"]["sessionContext"] = {"sessionIssuer": {"arn": ROLE}}
    if denied:
        record["errorCode"] = "AccessDeniedException"
        record["errorMessage"] = f"denied {next(_ids)}"
    record.update(extra)
    return record


def _write(directory: Path, day: str, *records: dict[str, Any], tail: str = "") -> None:
    directory.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r) + "\n" for r in records)
    with (directory / f"{day}.jsonl").open("a") as handle:
        handle.write(text + tail)


def _ids_of(events: list[TrailEvent]) -> list[str]:
    return [e.record["eventID"] for e in events]


def _fixture(directory: Path) -> list[dict[str, Any]]:
    records = [
        _event("2026-03-01T10:00:00Z", ALICE, "app", False),
        _event("2026-03-01T11:00:00Z", SESSION, "app", True),
        _event("2026-03-02T09:00:00Z", ALICE, "web", True),
        _event("2026-03-02T10:00:00Z", SESSION, None, False),
    ]
    _write(directory, "2026-03-01", *records[:2])
    # a malformed line and a line still being written are skipped
    _write(directory, "2026-03-02", *records[2:], tail='not json\n{"eventTime": "2026-03-02')
    (directory / "README").write_text("not a day file")
    return records


def test_query_filters_and_orders_oldest_first(tmp_path: Path) -> None:
    records = _fixture(tmp_path)
    reader = TrailReader(tmp_path)
    ids = [r["eventID"] for r in records]
    assert _ids_of(reader.query()) == ids
    assert _ids_of(reader.query(denied=True)) == [ids[1], ids[2]]
    assert _ids_of(reader.query(principal=ALICE)) == [ids[0], ids[2]]
    assert _ids_of(reader.query(principal=ROLE)) == [ids[1], ids[3]]
    assert _ids_of(reader.query(principal=SESSION, denied=True)) == [ids[1]]
    assert _ids_of(reader.query(repository="app")) == ids[:2]
    repo_arn = "arn:aws:ecr:us-east-1:111111111111:repository/web"
    assert _ids_of(reader.query(repository=repo_arn)) == [ids[2]]
    since = datetime(2026, 3, 1, 11, tzinfo=UTC)
    assert _ids_of(reader.query(since=since)) == ids[1:]
    assert _ids_of(reader.query(since=datetime(2026, 3, 2, 9, 30, tzinfo=UTC))) == [ids[3]]
    assert _ids_of(reader.query(limit=2)) == ids[2:]
    assert reader.query(repository="nothing") == []


def test_event_properties(tmp_path: Path) -> None:
    _fixture(tmp_path)
    event = TrailReader(tmp_path).query(denied=True)[0]
    assert event.principal_arn == SESSION
    assert event.role_arn == ROLE
    assert event.action == "ecr:BatchGetImage"
    assert event.resource == "arn:aws:ecr:us-east-1:111111111111:repository/app"
    assert event.event_time == datetime(2026, 3, 1, 11, tzinfo=UTC)
    assert event.denied
    assert event.repository == "app"
    assert event.decision == "ImplicitDeny"
    assert event.error_message is not None


def test_last_denied_is_the_newest_denial(tmp_path: Path) -> None:
    records = _fixture(tmp_path)
    reader = TrailReader(tmp_path)
    last = reader.last_denied()
    assert last is not None
    assert last.record == records[2]
    assert TrailReader(tmp_path / "missing").last_denied() is None
    assert TrailReader(tmp_path / "missing").query() == []


def test_reading_backwards_across_blocks(tmp_path: Path) -> None:
    path = tmp_path / "2026-03-01.jsonl"
    lines = [f"line {n} " + "x" * (n % 13) for n in range(200)]
    path.write_text("\n".join(lines) + "\npartial")
    for block in (1, 7, 64, 1 << 16):
        assert list(iter_lines_reversed(path, block)) == lines[::-1]
    assert read_complete_lines(path, 0) == (lines, len("\n".join(lines)) + 1)
    assert list(iter_lines_reversed(tmp_path / "none.jsonl")) == []


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_follow_gives_the_backlog_then_new_events(tmp_path: Path) -> None:
    records = [_event(f"2026-03-02T0{n}:00:00Z", ALICE, "app", n != 1) for n in range(3)]
    _write(tmp_path, "2026-03-02", *records, tail='{"eventTime": "2026-03-02')
    stop = threading.Event()
    seen: list[str] = []
    reader = TrailReader(tmp_path)

    def consume() -> None:
        for event in reader.follow(denied=True, backlog=1, poll=0.02, stop=stop.is_set):
            seen.append(event.record["eventID"])

    thread = threading.Thread(target=consume)
    thread.start()
    try:
        _wait_for(lambda: len(seen) == 1)
        assert seen == [records[2]["eventID"]]
        new = [_event("2026-03-02T12:00:00Z", ALICE, "app", True) for _ in range(2)]
        # the writer ends the line it was writing, writes more, then starts a new day
        partial = '{"eventTime": "2026-03-02'
        with (tmp_path / "2026-03-02.jsonl").open("a") as handle:
            handle.write(json.dumps(new[0])[len(partial) :] + "\n")
        _write(tmp_path, "2026-03-02", _event("2026-03-02T12:00:01Z", ALICE, "a", False))
        _write(tmp_path, "2026-03-03", new[1])
        _wait_for(lambda: len(seen) == 3)
    finally:
        stop.set()
        thread.join(5)
    assert seen == [records[2]["eventID"], new[0]["eventID"], new[1]["eventID"]]
