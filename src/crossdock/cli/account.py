"""``crossdock account``: create accounts (and their root keys) in a data dir.

Works whether or not ``crossdock serve`` is running on the same data dir (SQLite in WAL
mode; the secret key file is created atomically).

``crossdock account create ACCOUNT_ID`` prints the new account's root access key. An
existing account is an error (exit 1) unless ``--if-not-exists`` is given: then the
command prints the account's first active root key, creating one only when the account
has none, so scripts can run it again and again. Usage errors (an account id that is not
12 digits, a malformed organization id or OU path) exit 2.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import click

from crossdock.cli.db import database_url_option
from crossdock.service.accounts import RootKey
from crossdock.service.errors import AlreadyExistsError, InvalidParameterError, ServiceError
from crossdock.service.identities import build_identity
from crossdock.settings import default_data_dir
from crossdock.storage.data_dir import open_data_dir
from crossdock.storage.sql.identity_stores import sql_identity_stores

USAGE_ERROR = 2
FAILURE = 1


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@click.group()
def account() -> None:
    """Create AWS accounts (12-digit ids) with their root user's access key."""


@account.command("create")
@click.argument("account_id")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where crossdock keeps its data [default: $XDG_DATA_HOME/crossdock].",
)
@click.option("--org-id", default=None, help="Put the account in this organization (o-...).")
@click.option(
    "--ou-path",
    default=None,
    help="The account's place in the organization: r-xxxx/ou-xxxx-yyyyyyyy/ (needs --org-id).",
)
@click.option(
    "--if-not-exists",
    is_flag=True,
    help="Reuse an existing account: print its first active root key.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the key as one JSON object.")
@database_url_option
def create(
    account_id: str,
    data_dir: Path | None,
    org_id: str | None,
    ou_path: str | None,
    if_not_exists: bool,
    as_json: bool,
    database_url: str | None,
) -> None:
    """Create ACCOUNT_ID and print its root user's access key."""
    if not (len(account_id) == 12 and account_id.isascii() and account_id.isdigit()):
        _fail(f"`{account_id}` is not a valid account id: use exactly 12 digits", USAGE_ERROR)
    if ou_path is not None and org_id is None:
        _fail("--ou-path needs --org-id", USAGE_ERROR)
    engine, box = open_data_dir(data_dir or default_data_dir(), url=database_url)
    try:
        identity = build_identity(sql_identity_stores(engine), box, lambda: datetime.now(UTC))
        key = identity.accounts.create_account(account_id, org_id, ou_path, exist_ok=if_not_exists)
    except InvalidParameterError as error:
        _fail(error.message, USAGE_ERROR)
    except AlreadyExistsError as error:
        _fail(error.message, FAILURE)
    except ServiceError as error:  # pragma: no cover - a quota or store failure
        _fail(error.message, FAILURE)
    else:
        _print(key, as_json)
    finally:
        engine.dispose()


def _print(key: RootKey, as_json: bool) -> None:
    fields = {
        "AccountId": key.account_id,
        "AccessKeyId": key.access_key_id,
        "SecretAccessKey": key.secret_access_key,
    }
    if as_json:
        click.echo(json.dumps(fields))
        return
    for name, value in fields.items():
        click.echo(f"{name}: {value}")
