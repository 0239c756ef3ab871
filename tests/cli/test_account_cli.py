"""``crossdock account create``: output, idempotence, organizations and exit codes.

Exit 0 on success, 1 when the account exists (without ``--if-not-exists``), 2 for usage
errors (a malformed account id, organization id or OU path), always in one line.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from crossdock.cli.main import cli
from crossdock.service.identities import build_identity
from crossdock.storage.data_dir import open_data_dir
from crossdock.storage.sql.identity_stores import sql_identity_stores


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner(env=env).invoke(cli, ["account", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_create_prints_the_root_key_as_json(tmp_path: Path) -> None:
    code, out, err = _run("create", "111111111111", "--data-dir", str(tmp_path), "--json")
    assert (code, err) == (0, "")
    printed = json.loads(out)
    assert list(printed) == ["AccountId", "AccessKeyId", "SecretAccessKey"]
    assert printed["AccountId"] == "111111111111"
    assert printed["AccessKeyId"].startswith("AKIA")
    assert len(printed["SecretAccessKey"]) == 40
    engine, box = open_data_dir(tmp_path)
    identity = build_identity(sql_identity_stores(engine), box, lambda: datetime.now(UTC))
    credential = identity.resolver.credential(printed["AccessKeyId"])
    engine.dispose()
    assert credential is not None
    assert credential.secret_access_key == printed["SecretAccessKey"]
    assert credential.principal.arn == "arn:aws:iam::111111111111:root"


def test_text_output(tmp_path: Path) -> None:
    code, out, _ = _run("create", "000000000042", "--data-dir", str(tmp_path))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "AccountId: 000000000042"
    assert lines[1].startswith("AccessKeyId: AKIA")
    assert lines[2].startswith("SecretAccessKey: ")


def test_an_existing_account_is_an_error_unless_if_not_exists(tmp_path: Path) -> None:
    args = ("create", "111111111111", "--data-dir", str(tmp_path), "--json")
    first = json.loads(_run(*args)[1])
    code, out, err = _run(*args)
    assert (code, out) == (1, "")
    assert err == (
        "error: the account `111111111111` exists already: pass --if-not-exists to reuse it\n"
    )
    code, out, _ = _run(*args, "--if-not-exists")
    assert code == 0
    assert json.loads(out) == first


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("1111111111",), "error: `1111111111` is not a valid account id: use exactly 12 digits"),
        (
            ("11111111111a",),
            "error: `11111111111a` is not a valid account id: use exactly 12 digits",
        ),
        (
            ("1111111111111",),
            "error: `1111111111111` is not a valid account id: use exactly 12 digits",
        ),
        (("111111111111", "--ou-path", "r-ab12/"), "error: --ou-path needs --org-id"),
        (
            ("111111111111", "--org-id", "org-1"),
            "error: `org-1` is not an organization id (o- and 10-32 lowercase alphanumerics)",
        ),
        (
            ("111111111111", "--org-id", "o-abcdefghij", "--ou-path", "ou-ab12-11111111"),
            "error: `ou-ab12-11111111` is not an OU path: start with the root id, e.g."
            " r-ab12/ou-ab12-11111111/",
        ),
    ],
)
def test_usage_errors_exit_2_in_one_line(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    code, out, err = _run("create", *args, "--data-dir", str(tmp_path))
    assert (code, out, err) == (2, "", message + "\n")


def test_organizations_and_ous_are_created_along_the_path(tmp_path: Path) -> None:
    path = "r-ab12/ou-ab12-11111111/ou-ab12-22222222/"
    code, _, _ = _run(
        "create",
        "222222222222",
        "--data-dir",
        str(tmp_path),
        "--org-id",
        "o-abcdefghij",
        "--ou-path",
        path,
    )
    assert code == 0
    code, _, err = _run(
        "create",
        "333333333333",
        "--data-dir",
        str(tmp_path),
        "--org-id",
        "o-abcdefghij",
        "--ou-path",
        "r-zz99/",
    )
    assert (code, err) == (
        2,
        "error: the organization `o-abcdefghij` has the root `r-ab12`, not `r-zz99`\n",
    )
    engine, _ = open_data_dir(tmp_path)
    stores = sql_identity_stores(engine)
    account = stores.accounts.get_account("222222222222")
    unit = stores.accounts.get_org_unit("ou-ab12-22222222")
    engine.dispose()
    assert account is not None
    assert (account.org_id, account.parent_id) == ("o-abcdefghij", "ou-ab12-22222222")
    assert unit is not None
    assert unit.parent_id == "ou-ab12-11111111"


def test_the_default_data_dir_follows_xdg(tmp_path: Path) -> None:
    code, _, _ = _run("create", "111111111111", env={"XDG_DATA_HOME": str(tmp_path)})
    assert code == 0
    assert (tmp_path / "crossdock" / "crossdock.db").exists()
    assert (tmp_path / "crossdock" / "secret.key").exists()


def test_the_console_script(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "crossdock",
            "account",
            "create",
            "123",
            "--data-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "error: `123` is not a valid account id: use exactly 12 digits\n"
