"""``crossdock trail``: filters, text and JSON forms, bad input, and --follow."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from crossdock.cli.main import cli
from crossdock.cli.trail import parse_since

EXAMPLE = Path(__file__).parent / "data" / "example"
LINES = (EXAMPLE / "trail" / "2026-12-01.jsonl").read_text().splitlines()
MALLORY = "arn:aws:iam::333333333333:user/mallory"


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["trail", *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_prints_the_recorded_lines() -> None:
    code, out, _ = _run("--data-dir", str(EXAMPLE), "--format", "json")
    assert code == 0
    assert out.splitlines() == LINES
    code, out, _ = _run("--data-dir", str(EXAMPLE), "--format", "json", "--denied")
    assert out.splitlines() == [line for line in LINES if '"errorCode"' in line]
    assert len(out.splitlines()) == 2


def test_filters_combine() -> None:
    args = ["--data-dir", str(EXAMPLE), "--format", "json"]
    _, out, _ = _run(*args, "--principal", MALLORY, "--repository", "example")
    assert [json.loads(line)["eventName"] for line in out.splitlines()] == ["BatchGetImage"] * 2
    _, out, _ = _run(*args, "--since", "2026-12-01T10:00:01Z", "--limit", "1")
    assert out.splitlines() == LINES[-1:]
    _, out, _ = _run(*args, "--since", "2026-12-01T10:00:01")  # no zone: UTC
    assert out.splitlines() == LINES[-2:]
    _, out, _ = _run(*args, "--since", "1h")  # the example is older than an hour
    assert out == ""


def test_text_is_a_table() -> None:
    code, out, _ = _run("--data-dir", str(EXAMPLE), "--denied")
    assert code == 0
    header = out.splitlines()[1]
    assert [c.strip() for c in header.strip("┃").split("┃")] == [
        "time",
        "principal",
        "action",
        "repository",
        "decision",
        "error",
    ]
    rows = [line for line in out.splitlines() if line.startswith("│")]
    assert len(rows) == 2
    cells = [c.strip() for c in rows[0].strip("│").split("│")]
    assert cells == [
        "2026-12-01T10:00:01Z",
        MALLORY,
        "ecr:BatchGetImage",
        "111111111111/example",
        "ImplicitDeny",
        "because no resource-based policy allows the ecr:BatchGetImage action",
    ]


def test_no_match_says_so(tmp_path: Path) -> None:
    code, out, _ = _run("--data-dir", str(tmp_path))
    assert (code, out) == (0, "no matching decisions in the trail\n")
    code, out, _ = _run("--data-dir", str(tmp_path), "--format", "json")
    assert (code, out) == (0, "")


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    code, _, err = _run("--data-dir", str(tmp_path / "nope"))
    assert code == 2
    assert err == f"error: the data dir `{tmp_path / 'nope'}` does not exist; pass --data-dir DIR\n"
    code, _, err = _run("--data-dir", str(tmp_path), "--since", "yesterday")
    assert code == 2
    assert err == (
        "error: --since: `yesterday` is neither a duration (30m, 1h, 2d) nor an ISO-8601 time\n"
    )


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("30m", timedelta(minutes=30)),
        ("1h", timedelta(hours=1)),
        ("2d", timedelta(days=2)),
        ("45s", timedelta(seconds=45)),
        ("1w", timedelta(weeks=1)),
    ],
)
def test_since_durations(text: str, delta: timedelta) -> None:
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert parse_since(text, now) == now - delta


def test_since_iso_times() -> None:
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert parse_since("2026-11-30T08:00:00Z", now) == datetime(2026, 11, 30, 8, tzinfo=UTC)
    assert parse_since("2026-11-30", now) == datetime(2026, 11, 30, tzinfo=UTC)
    local = parse_since("2026-11-30T08:00:00+02:00", now)
    assert local == datetime(2026, 11, 30, 6, tzinfo=UTC)


def test_follow_prints_new_events_until_stopped(tmp_path: Path) -> None:
    trail = tmp_path / "trail"
    trail.mkdir()
    day = trail / "2026-12-01.jsonl"
    day.write_text(LINES[0] + "\n")
    command = [sys.executable, "-m", "crossdock", "trail", "--data-dir", str(tmp_path)]
    command += ["--follow", "--denied", "--format", "json"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            time.sleep(1.5)  # the process starts and reads the backlog (no denial in it)
            with day.open("a") as handle:
                handle.write("\n".join(LINES[1:]) + "\n")
            assert process.stdout is not None
            first = process.stdout.readline().rstrip("\n")
            second = process.stdout.readline().rstrip("\n")
            assert [first, second] == [line for line in LINES if '"errorCode"' in line]
            assert process.poll() is None  # still following
        finally:
            process.terminate()
            process.wait(timeout=15)
        assert process.stderr is not None
        assert process.stderr.read() == ""
