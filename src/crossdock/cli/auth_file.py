"""The Docker/Podman auth file: where it is, and writing ``auths`` entries into it safely.

Docker reads ``$DOCKER_CONFIG/config.json`` (default ``~/.docker/config.json``); Podman,
skopeo and buildah read ``$REGISTRY_AUTH_FILE`` first and fall back to the Docker file.
Writes replace the file atomically (a temporary file in the same directory, then a
rename) with mode 0600, and keep every other key and entry as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

FILE_MODE = 0o600


class AuthFileError(Exception):
    """The auth file cannot be read or written (one line for the user)."""


def auth_file_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$REGISTRY_AUTH_FILE``, else ``$DOCKER_CONFIG/config.json``, else
    ``~/.docker/config.json``."""
    env = os.environ if environ is None else environ
    if env.get("REGISTRY_AUTH_FILE"):
        return Path(env["REGISTRY_AUTH_FILE"]).expanduser()
    if env.get("DOCKER_CONFIG"):
        return Path(env["DOCKER_CONFIG"]).expanduser() / "config.json"
    return Path.home() / ".docker" / "config.json"


def read_auth_file(path: Path) -> dict[str, Any]:
    """The file's JSON object (empty when the file is missing or empty)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise AuthFileError(f"cannot read {path}: {error.strerror}") from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise AuthFileError(f"{path} is not valid JSON ({error}): fix or remove it") from None
    if not isinstance(data, dict):
        raise AuthFileError(f"{path} does not hold a JSON object: fix or remove it")
    return data


def write_auths(path: Path, entries: Mapping[str, str]) -> dict[str, Any]:
    """Set ``auths[host] = {"auth": value}`` for each entry; everything else is kept.

    Returns the configuration as written.
    """
    target = path.resolve() if path.is_symlink() else path
    config = read_auth_file(target)
    auths = config.get("auths")
    if auths is None:
        auths = config["auths"] = {}
    if not isinstance(auths, dict):
        raise AuthFileError(f'"auths" in {path} is not a JSON object: fix or remove it')
    for host, value in entries.items():
        auths[host] = {"auth": value}
    _replace(target, json.dumps(config, indent="\t") + "\n")
    return config


def _replace(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as error:
        raise AuthFileError(f"cannot write {path}: {error.strerror}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            os.fchmod(stream.fileno(), FILE_MODE)
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise AuthFileError(f"cannot write {path}: {error.strerror}") from None


def helper_for(config: Mapping[str, Any], host: str) -> str | None:
    """The credential helper Docker will ask for ``host`` instead of ``auths``, if any."""
    helpers = config.get("credHelpers")
    if isinstance(helpers, dict) and isinstance(helpers.get(host), str):
        return str(helpers[host])
    store = config.get("credsStore")
    return str(store) if isinstance(store, str) and store else None
