"""``crossdock account create`` on the data dir of a running server: the new key works at
once (SQLite WAL lets the CLI write while the server serves)."""

from __future__ import annotations

import json

from click.testing import CliRunner
from live_server import LiveServer

from crossdock.cli.main import cli


def test_an_account_created_beside_a_running_server_can_call_it(live: LiveServer) -> None:
    args = ["account", "create", "123456789012", "--data-dir", str(live.data_dir), "--json"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    key = json.loads(result.stdout)
    sts = live.client("sts", (key["AccessKeyId"], key["SecretAccessKey"]))
    assert sts.get_caller_identity()["Arn"] == "arn:aws:iam::123456789012:root"
