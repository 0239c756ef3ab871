"""The writer: a queue drained by one thread into one file per UTC day, with retention."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from trail_world import MovableClock

from crossdock.auth.principal import Principal
from crossdock.policy.context import PrincipalKind, Request
from crossdock.policy.decide import Decision, Outcome, PolicyType
from crossdock.service.authz import RequestInfo
from crossdock.service.trail_writer import TrailWriter, first_kept_day
from crossdock.storage.trail_files import day_file, day_files

ALICE = Principal(
    "111111111111",
    PrincipalKind.USER,
    "arn:aws:iam::111111111111:user/alice",
    "AIDAALICE",
    "AKIAALICE",
    user_name="alice",
)
REPO = "arn:aws:ecr:us-east-1:222222222222:repository/app"


def _decision(allowed: bool = True) -> Decision:
    request = Request(ALICE.caller(), "ecr:BatchGetImage", REPO, {})
    if allowed:
        return Decision(Outcome.ALLOWED, request, None, "allowed", (), ())
    return Decision(Outcome.IMPLICITLY_DENIED, request, PolicyType.RESOURCE, "no", (), ())


def _info(now: datetime) -> RequestInfo:
    return RequestInfo("127.0.0.1", False, "test", now, "us-east-1", protocol="v2")


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_thread_writes_within_its_interval_and_close_writes_the_rest(tmp_path: Path) -> None:
    clock = MovableClock()
    writer = TrailWriter(tmp_path, 30, clock, interval=0.05)
    writer.start()
    try:
        writer.record(ALICE, _decision(), _info(clock()))
        path = day_file(tmp_path, clock().date())
        deadline = time.monotonic() + 5
        while not path.exists() or not path.read_text():
            assert time.monotonic() < deadline, "the writer thread wrote nothing"
            time.sleep(0.01)
        assert len(_lines(path)) == 1
        for _ in range(99):
            writer.record(ALICE, _decision(False), _info(clock()))
    finally:
        writer.close()
    lines = _lines(path)
    assert len(lines) == 100
    assert writer.written == 100
    assert [line["crossdock"]["decision"] for line in lines[:2]] == ["Allowed", "ImplicitDeny"]  # type: ignore[index]
    assert path.stat().st_mode & 0o777 == 0o600


def test_close_writes_what_the_thread_has_not_written_yet(tmp_path: Path) -> None:
    """The shutdown flush on its own: the thread's first tick is an hour away."""
    clock = MovableClock()
    writer = TrailWriter(tmp_path, 30, clock, interval=3600)
    writer.start()
    for _ in range(5):
        writer.record(ALICE, _decision(False), _info(clock()))
    path = day_file(tmp_path, clock().date())
    assert not path.exists() or not path.read_text()
    writer.close()
    assert len(_lines(path)) == 5


def test_events_go_to_the_file_of_their_utc_day(tmp_path: Path) -> None:
    clock = MovableClock(datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC))
    writer = TrailWriter(tmp_path, 30, clock)
    writer.record(ALICE, _decision(), _info(clock()))
    clock.advance(seconds=1)
    writer.record(ALICE, _decision(), _info(clock()))
    local = datetime(2026, 3, 2, 1, 0, tzinfo=UTC).astimezone(tz=None)
    writer.record(ALICE, _decision(), _info(local))
    writer.close()
    assert [day.isoformat() for day, _ in day_files(tmp_path)] == ["2026-03-01", "2026-03-02"]
    assert [line["eventTime"] for line in _lines(tmp_path / "2026-03-02.jsonl")] == [
        "2026-03-02T00:00:00Z",
        "2026-03-02T01:00:00Z",
    ]


def _touch_days(directory: Path, first: date, count: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for offset in range(count):
        day_file(directory, first + timedelta(days=offset)).write_text("{}\n")


def test_retention_at_start_keeps_the_last_n_days(tmp_path: Path) -> None:
    clock = MovableClock(datetime(2026, 3, 10, 12, tzinfo=UTC))
    _touch_days(tmp_path, date(2026, 3, 1), 10)
    writer = TrailWriter(tmp_path, 3, clock)
    writer.start()
    writer.close()
    kept = [day.isoformat() for day, _ in day_files(tmp_path)]
    assert kept == ["2026-03-08", "2026-03-09", "2026-03-10"]
    assert first_kept_day(date(2026, 3, 10), 1) == date(2026, 3, 10)


def test_retention_on_day_rollover(tmp_path: Path) -> None:
    clock = MovableClock(datetime(2026, 3, 10, 23, 0, tzinfo=UTC))
    writer = TrailWriter(tmp_path, 2, clock)
    writer.start()
    try:
        writer.record(ALICE, _decision(), _info(clock()))
        _touch_days(tmp_path, date(2026, 3, 9), 1)
        clock.advance(hours=2)  # now the 11th: the 9th is older than two days
        writer.record(ALICE, _decision(), _info(clock()))
    finally:
        writer.close()
    assert [day.isoformat() for day, _ in day_files(tmp_path)] == ["2026-03-10", "2026-03-11"]


def test_a_full_queue_drops_and_reports(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clock = MovableClock()
    writer = TrailWriter(tmp_path, 30, clock, capacity=3)
    for _ in range(5):
        writer.record(ALICE, _decision(), _info(clock()))
    assert writer.dropped == 2
    with caplog.at_level(logging.WARNING, "crossdock.service.trail_writer"):
        writer.close()
    assert len(_lines(day_file(tmp_path, clock().date()))) == 3
    assert "decision trail: 2 events dropped (the queue was full; 2 in all)" in caplog.messages


def test_a_write_failure_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "trail"
    blocked.write_text("a file where the directory should be")
    clock = MovableClock()
    writer = TrailWriter(blocked, 30, clock)
    writer.record(ALICE, _decision(), _info(clock()))
    with caplog.at_level(logging.ERROR, "crossdock.service.trail_writer"):
        writer.close()
    assert writer.written == 0
    assert any(m.startswith("decision trail: 1 events lost:") for m in caplog.messages)


def test_a_trail_keeps_at_least_one_day(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one day"):
        TrailWriter(tmp_path, 0)
