"""Secrets at rest: sealed under a key file that the database never holds."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from crossdock.storage.data_dir import open_data_dir
from crossdock.storage.secrets import SecretBox, SecretBoxError, token_hash
from crossdock.storage.sql.identity_tables import access_keys

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def test_seal_and_open_round_trip() -> None:
    box = SecretBox.generate()
    sealed = box.seal(SECRET)
    assert SECRET not in sealed
    assert box.open(sealed) == SECRET


def test_another_key_cannot_open_a_sealed_secret() -> None:
    sealed = SecretBox.generate().seal(SECRET)
    with pytest.raises(SecretBoxError, match="the key file does not match the database"):
        SecretBox.generate().open(sealed)


def test_a_malformed_key_is_refused() -> None:
    with pytest.raises(SecretBoxError, match="not a valid Fernet key"):
        SecretBox(b"short")


def test_the_key_file_is_created_private_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "secret.key"
    sealed = SecretBox.from_key_file(path).seal(SECRET)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert SecretBox.from_key_file(path).open(sealed) == SECRET
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_concurrent_first_uses_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    boxes: list[SecretBox] = []

    def load() -> None:
        boxes.append(SecretBox.from_key_file(path))

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sealed = boxes[0].seal(SECRET)
    assert all(box.open(sealed) == SECRET for box in boxes)


def test_an_empty_key_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_bytes(b"")
    with pytest.raises(SecretBoxError, match="is empty"):
        SecretBox.from_key_file(path)


def test_token_hash_is_sha256_hex() -> None:
    assert token_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_a_copy_of_the_database_reveals_no_secret(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from crossdock.service.identities import build_identity
    from crossdock.storage.sql.identity_stores import sql_identity_stores

    engine, box = open_data_dir(tmp_path)
    identity = build_identity(sql_identity_stores(engine), box, lambda: datetime.now(UTC))
    key = identity.accounts.create_account("111111111111")
    with engine.connect() as conn:
        stored = conn.execute(select(access_keys.c.secret_sealed)).scalar_one()
    engine.dispose()
    for path in tmp_path.iterdir():
        if path.name != "secret.key":
            assert key.secret_access_key.encode() not in path.read_bytes(), path.name
    assert key.secret_access_key not in stored
    assert box.open(stored) == key.secret_access_key
