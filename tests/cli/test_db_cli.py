"""``crossdock db upgrade`` and ``--database-url``: URLs, messages and exit codes."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from crossdock.cli.main import cli
from crossdock.storage.sql.dialect import DatabaseUrlError, normalise_database_url
from crossdock.storage.sql.migrate import head_revision


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens once the probe is closed


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@h:5/db", "postgresql+psycopg://u:p@h:5/db"),
        ("postgres://u@h/db?sslmode=require", "postgresql+psycopg://u@h/db?sslmode=require"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_urls_are_normalised_to_psycopg(given: str, expected: str) -> None:
    assert normalise_database_url(given) == expected


@pytest.mark.parametrize("url", ["postgresql+psycopg2://u@h/db", "mysql://u@h/db", "db.sqlite"])
def test_other_urls_are_refused(url: str) -> None:
    with pytest.raises(DatabaseUrlError):
        normalise_database_url(url)


def test_upgrade_a_data_dir_then_nothing_to_do(tmp_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["db", "upgrade", "--data-dir", str(tmp_path)])
    assert first.exit_code == 0, first.output
    url = f"sqlite:///{tmp_path / 'crossdock.db'}"
    assert first.output == f"{url}: upgraded from schema revision none to {head_revision()}\n"
    again = runner.invoke(cli, ["db", "upgrade", "--database-url", url])
    assert again.exit_code == 0, again.output
    assert again.output == f"{url}: at schema revision {head_revision()}; nothing to do\n"


def test_upgrade_refuses_another_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["db", "upgrade", "--database-url", "mysql://u@h/db"])
    assert result.exit_code == 2
    assert "unsupported database URL scheme `mysql://`: use sqlite:/// or postgresql://" in (
        result.output
    )


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    url = f"postgresql://crossdock:secret@127.0.0.1:{_closed_port()}/crossdock"
    runner = CliRunner()
    upgrade = runner.invoke(cli, ["db", "upgrade", "--database-url", url])
    assert upgrade.exit_code == 1
    assert upgrade.output.startswith("error: the database is unavailable: connection failed")
    assert "secret" not in upgrade.output
    serve = runner.invoke(
        cli, ["serve", "--data-dir", str(tmp_path / "data"), "--database-url", url, "--no-trail"]
    )
    assert serve.exit_code == 1
    assert serve.output.startswith(
        "Error: cannot open the database: the database is unavailable: connection failed"
    )


def test_a_silent_database_holds_up_one_request_per_window() -> None:
    """A server that accepts TCP but never answers: the first attempt waits out the
    connect timeout, the attempts right after it fail at once."""
    import time

    from crossdock.storage.errors import StorageUnavailableError
    from crossdock.storage.sql.engine import CONNECT_HOLD_SECONDS, create_sql_engine
    from crossdock.storage.sql.repositories_sql import SqlTokenStore

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # never accepts: the handshake completes, no reply ever comes
        port = silent.getsockname()[1]
        engine = create_sql_engine(f"postgresql://u@127.0.0.1:{port}/db?connect_timeout=2")
        tokens = SqlTokenStore(engine)
        try:
            started = time.monotonic()
            with pytest.raises(StorageUnavailableError):
                tokens.get_token("t")
            assert time.monotonic() - started >= 1.5
            started = time.monotonic()
            with pytest.raises(StorageUnavailableError) as held:
                tokens.get_token("t")
            assert time.monotonic() - started < 0.5
            assert held.value.service == "database"
            time.sleep(CONNECT_HOLD_SECONDS)
            started = time.monotonic()
            with pytest.raises(StorageUnavailableError):
                tokens.get_token("t")  # the window is over: a real attempt again
            assert time.monotonic() - started >= 1.5
        finally:
            engine.dispose()
