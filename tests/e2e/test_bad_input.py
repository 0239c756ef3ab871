"""Bad input on ``/v2/`` against a real ``crossdock serve``: each case gets the distribution
spec's error code, leaves nothing stored (checked over HTTP and in the data dir: no blob
file, no temp or upload file once the request has ended), and the server keeps serving
other clients afterwards.

Covered: wrong and malformed digests, truncated uploads, size mismatches, malformed,
oversized and unknown-type manifests, manifests referencing missing blobs, invalid names
and path traversal, bad ``Range``/``Content-Range`` values (with Hypothesis against the
live server), duplicate and concurrent uploads of one blob, and clients that disconnect
in the middle of a monolithic PUT or a chunked PATCH.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from serve_process import RunningServer, start_server, stop_server

ROOT = Path(__file__).resolve().parents[2]
WALKTHROUGH = ROOT / "examples" / "cross-account-walkthrough.yaml"
OWNER_KEY = "AKIAOWNER00000000001"
ACCOUNT = "111111111111"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
MAX_MANIFEST = 4 * 1024 * 1024
_names = itertools.count(1)


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Registry:
    """The running server, the owner's credentials and views of its data dir."""

    def __init__(self, server: RunningServer, password: str, ecr: object) -> None:
        self.server = server
        self.password = password
        self.ecr = ecr
        self.authorization = registry_authorization(password)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.server.url, auth=("AWS", self.password), timeout=60)

    def repository(self) -> str:
        """A fresh repository of the owner; its ``<account>/<name>`` path."""
        name = f"bad-input-{next(_names)}"
        self.ecr.create_repository(repositoryName=name)  # type: ignore[attr-defined]
        return f"{ACCOUNT}/{name}"

    @property
    def blobs(self) -> Path:
        return self.server.data_dir / "blobs"

    def blob_files(self) -> set[str]:
        return {
            path.relative_to(self.blobs).as_posix()
            for algorithm in ("sha256", "sha512")
            for path in (self.blobs / algorithm).glob("*/*")
        }

    def in_flight_files(self) -> set[str]:
        """Files of upload sessions and anonymous writers."""
        return {
            path.relative_to(self.blobs).as_posix()
            for folder in ("tmp", "uploads")
            for path in (self.blobs / folder).iterdir()
        }

    def data_dir_entries(self) -> set[str]:
        """Every path in the data dir but the SQLite files (they change on any write)."""
        root = self.server.data_dir
        return {
            path.relative_to(root).as_posix()
            for path in root.rglob("*")
            if not path.name.startswith("crossdock.db")
        }

    def raw(self, data: bytes, *, read: bool = True, timeout: float = 30) -> bytes:
        """Send ``data`` on a fresh connection; read the answer (until close) or just close."""
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=timeout) as sock:
            sock.sendall(data)
            if not read:
                return b""
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
            return received

    def head(self, method: str, path: str, length: int | None, *extra: str) -> bytes:
        """A raw request head (``Connection: close``) for ``path``."""
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: 127.0.0.1:{self.server.port}",
            f"Authorization: {self.authorization}",
            "Connection: close",
            *extra,
        ]
        if length is not None:
            lines.append(f"Content-Length: {length}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _owner_ecr(url: str) -> object:
    return boto3.session.Session().client(
        "ecr",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=OWNER_KEY,
        aws_secret_access_key=_secrets()[OWNER_KEY],
    )


def _password(ecr: object) -> str:
    data = ecr.get_authorization_token()["authorizationData"][0]  # type: ignore[attr-defined]
    return base64.b64decode(data["authorizationToken"]).decode().partition(":")[2]


def registry_authorization(password: str) -> str:
    return "Basic " + base64.b64encode(f"AWS:{password}".encode()).decode()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """``crossdock serve --scenario`` the walkthrough; the owner's registry password."""
    running = start_server(
        tmp_path_factory.mktemp("bad-input") / "data", "--scenario", str(WALKTHROUGH)
    )
    try:
        ecr = _owner_ecr(running.url)
        yield Registry(running, _password(ecr), ecr)
        log = running.log.read_text()
        assert "Traceback" not in log, log
        # after all that bad input the data dir is whole: no finding at all, in flight or not
        checked = running.crossdock(
            "fsck", "--data-dir", str(running.data_dir), "--grace", "0", "--format", "json"
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert json.loads(checked.stdout)["findings"] == []
    finally:
        stop_server(running)


def _secrets() -> dict[str, str]:
    found: dict[str, str] = {}
    for account in yaml.safe_load(WALKTHROUGH.read_text())["accounts"]:
        for key in account.get("root_access_keys", []):
            found[str(key["id"])] = str(key["secret"])
    return found


@pytest.fixture
def repo(registry: Registry) -> str:
    return registry.repository()


@pytest.fixture(autouse=True)
def still_serving(registry: Registry) -> Iterator[None]:
    """After every case: nothing left in flight, and a new client is served in full."""
    yield
    wait_until(lambda: registry.in_flight_files() <= _known_sessions(registry))
    assert_serving(registry)


_KEPT: set[str] = set()
"""Upload sessions a test keeps on purpose (their files are expected to stay)."""


def _known_sessions(registry: Registry) -> set[str]:
    return {f"uploads/{upload_id}" for upload_id in _KEPT}


def keep_session(location: str) -> str:
    """Note that the session at ``location`` stays; return its id."""
    upload_id = location.rstrip("/").rsplit("/", 1)[1]
    _KEPT.add(upload_id)
    return upload_id


def cancel_session(client: httpx.Client, location: str) -> None:
    assert client.delete(location).status_code == 204
    _KEPT.discard(location.rstrip("/").rsplit("/", 1)[1])


def assert_serving(registry: Registry) -> None:
    """A fresh client can log in, push a new blob and read it back."""
    data = os.urandom(4096)
    digest = digest_of(data)
    path = f"{ACCOUNT}/serving-check"
    with registry.client() as client:
        if client.get(f"/v2/{path}/tags/list").status_code == 404:
            registry.ecr.create_repository(repositoryName="serving-check")  # type: ignore[attr-defined]
        assert client.get("/v2/").status_code == 200
        pushed = client.post(f"/v2/{path}/blobs/uploads/", params={"digest": digest}, content=data)
        assert pushed.status_code == 201, pushed.text
        assert client.get(f"/v2/{path}/blobs/{digest}").content == data


def wait_until(condition: Callable[[], bool], timeout: float = 20) -> None:
    """Poll ``condition`` (the server finishes a dropped request on its own time)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def error_code(response: httpx.Response) -> str:
    """The single error code of a spec error body."""
    [error] = response.json()["errors"]
    return str(error["code"])


def raw_status(answer: bytes) -> tuple[int, str | None]:
    """The status and (if the body is a spec error) the code of a raw HTTP answer."""
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    try:
        return status, json.loads(body)["errors"][0]["code"]
    except (ValueError, KeyError, IndexError):
        return status, None


def assert_absent(client: httpx.Client, registry: Registry, repo: str, *digests: str) -> None:
    """No blob of ``digests`` is visible in ``repo`` nor stored on disk."""
    for digest in digests:
        head = client.head(f"/v2/{repo}/blobs/{digest}")
        assert head.status_code == 404
        get = client.get(f"/v2/{repo}/blobs/{digest}")
        assert (get.status_code, error_code(get)) == (404, "BLOB_UNKNOWN")
        assert f"sha256/{digest[7:9]}/{digest[7:]}" not in registry.blob_files()


def new_session(client: httpx.Client, repo: str) -> str:
    started = client.post(f"/v2/{repo}/blobs/uploads/")
    assert started.status_code == 202
    return started.headers["location"]


def session_range(client: httpx.Client, location: str) -> str:
    """The session's ``Range`` header (``0-<last byte>``; ``0-0`` when empty, as distribution)."""
    status = client.get(location)
    assert status.status_code == 204
    return status.headers["range"]


def session_file(registry: Registry, location: str) -> Path:
    return registry.blobs / "uploads" / location.rstrip("/").rsplit("/", 1)[1]


def manifest(config: bytes, layers: list[bytes], **extra: object) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": digest_of(config), "size": len(config)},
            "layers": [
                {"mediaType": OCI_LAYER, "digest": digest_of(layer), "size": len(layer)}
                for layer in layers
            ],
            **extra,
        }
    ).encode()


def push_blob(client: httpx.Client, repo: str, data: bytes) -> str:
    digest = digest_of(data)
    pushed = client.post(f"/v2/{repo}/blobs/uploads/", params={"digest": digest}, content=data)
    assert pushed.status_code == 201, pushed.text
    return digest


# --- digests -----------------------------------------------------------------------------


def test_a_monolithic_upload_with_the_wrong_digest(registry: Registry, repo: str) -> None:
    data, claimed = b"the real bytes", b"other bytes"
    before = registry.blob_files()
    with registry.client() as client:
        answer = client.post(
            f"/v2/{repo}/blobs/uploads/", params={"digest": digest_of(claimed)}, content=data
        )
        assert (answer.status_code, error_code(answer)) == (400, "DIGEST_INVALID")
        assert digest_of(data) in answer.json()["errors"][0]["message"]
        assert_absent(client, registry, repo, digest_of(data), digest_of(claimed))
    assert registry.blob_files() == before


@pytest.mark.parametrize(
    ("digest", "code"),
    [
        ("sha256:xyz", "DIGEST_INVALID"),
        ("sha256:" + "A" * 64, "DIGEST_INVALID"),
        ("sha512:" + "0" * 64, "DIGEST_INVALID"),
        ("md5:" + "0" * 32, "UNSUPPORTED"),
        ("notadigest", "DIGEST_INVALID"),
        ("sha256:../../../crossdock.db", "DIGEST_INVALID"),
    ],
)
def test_malformed_digests(registry: Registry, repo: str, digest: str, code: str) -> None:
    with registry.client() as client:
        answer = client.post(f"/v2/{repo}/blobs/uploads/", params={"digest": digest}, content=b"x")
        assert (answer.status_code, error_code(answer)) == (400, code)
        assert answer.json()["errors"][0]["detail"] == {"digest": digest}
        location = new_session(client, repo)
        finish = client.put(location, params={"digest": digest}, content=b"x")
        assert (finish.status_code, error_code(finish)) == (400, code)
        assert session_range(client, location) == "0-0"
        assert session_file(registry, location).stat().st_size == 0
        cancel_session(client, location)


def test_completing_with_the_wrong_digest_keeps_the_session(registry: Registry, repo: str) -> None:
    data = os.urandom(10_000)
    with registry.client() as client:
        location = new_session(client, repo)
        assert client.patch(location, content=data).status_code == 202
        wrong = client.put(location, params={"digest": digest_of(b"nope")})
        assert (wrong.status_code, error_code(wrong)) == (400, "DIGEST_INVALID")
        assert_absent(client, registry, repo, digest_of(data), digest_of(b"nope"))
        # the session is intact: its bytes can still be completed under the right digest
        assert session_range(client, location) == f"0-{len(data) - 1}"
        right = client.put(location, params={"digest": digest_of(data)})
        assert right.status_code == 201
        assert client.get(f"/v2/{repo}/blobs/{digest_of(data)}").content == data
        assert client.get(location).status_code == 404


# --- truncated uploads and disconnects -----------------------------------------------------


def test_a_truncated_monolithic_upload_stores_nothing(registry: Registry, repo: str) -> None:
    data = os.urandom(3 * 1024 * 1024)
    digest = digest_of(data)
    before = registry.blob_files()
    path = f"/v2/{repo}/blobs/uploads/?digest={digest}"
    registry.raw(registry.head("POST", path, len(data)) + data[: len(data) // 2], read=False)
    # the server notices the disconnect, discards the session and its file
    wait_until(lambda: registry.in_flight_files() <= _known_sessions(registry))
    with registry.client() as client:
        assert_absent(client, registry, repo, digest)
    assert registry.blob_files() == before


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_a_client_that_disconnects_mid_upload(registry: Registry, repo: str, method: str) -> None:
    """The session keeps exactly the bytes that arrived; nothing becomes a blob; the client
    can resume from the reported offset."""
    data = os.urandom(4 * 1024 * 1024)
    digest = digest_of(data)
    with registry.client() as client:
        location = new_session(client, repo)
        upload_id = keep_session(location)
        assert client.patch(location, content=data[:1000]).status_code == 202
        target = f"{location}?digest={digest}" if method == "PUT" else location
        sent = 1000 + 2 * 1024 * 1024 + 17
        head = registry.head(
            method, target, len(data) - 1000, f"Content-Range: 1000-{len(data) - 1}"
        )
        registry.raw(head + data[1000:sent], read=False)
        stored = session_file(registry, location)

        def settled() -> bool:
            size = stored.stat().st_size
            return size > 1000 and session_range(client, location) == f"0-{size - 1}"

        wait_until(settled)
        received = stored.stat().st_size
        assert 1000 < received <= sent
        assert stored.read_bytes() == data[:received]
        assert_absent(client, registry, repo, digest)

        rest = client.patch(
            location,
            content=data[received:],
            headers={"Content-Range": f"{received}-{len(data) - 1}"},
        )
        assert rest.status_code == 202
        assert rest.headers["range"] == f"0-{len(data) - 1}"
        done = client.put(location, params={"digest": digest})
        assert done.status_code == 201
        _KEPT.discard(upload_id)
        assert client.get(f"/v2/{repo}/blobs/{digest}").content == data


def test_a_disconnect_before_any_byte_changes_nothing(registry: Registry, repo: str) -> None:
    with registry.client() as client:
        location = new_session(client, repo)
        keep_session(location)
        registry.raw(registry.head("PATCH", location, 1_000_000), read=False)
        time.sleep(0.5)
        assert session_range(client, location) == "0-0"
        assert session_file(registry, location).stat().st_size == 0
        cancel_session(client, location)


# --- size mismatches -------------------------------------------------------------------------


def test_content_range_and_content_length_disagree(registry: Registry, repo: str) -> None:
    with registry.client() as client:
        location = new_session(client, repo)
        assert client.patch(location, content=b"abc").status_code == 202
        bad = client.patch(location, content=b"defg", headers={"Content-Range": "3-9"})
        assert (bad.status_code, error_code(bad)) == (400, "BLOB_UPLOAD_INVALID")
        assert session_range(client, location) == "0-2"
        assert session_file(registry, location).read_bytes() == b"abc"
        cancel_session(client, location)


def test_a_body_longer_than_its_content_length(registry: Registry, repo: str) -> None:
    """Only Content-Length bytes belong to the request: they do not match the digest."""
    data = os.urandom(50_000)
    digest = digest_of(data)
    path = f"/v2/{repo}/blobs/uploads/?digest={digest}"
    answer = registry.raw(registry.head("POST", path, len(data) // 2) + data)
    assert raw_status(answer) == (400, "DIGEST_INVALID")
    with registry.client() as client:
        assert_absent(client, registry, repo, digest, digest_of(data[: len(data) // 2]))


def test_an_empty_body_with_a_digest(registry: Registry, repo: str) -> None:
    with registry.client() as client:
        answer = client.post(
            f"/v2/{repo}/blobs/uploads/", params={"digest": digest_of(b"something")}, content=b""
        )
        assert (answer.status_code, error_code(answer)) == (400, "DIGEST_INVALID")
        assert_absent(client, registry, repo, digest_of(b"something"))


# --- manifests -------------------------------------------------------------------------------


def _config_pushed(client: httpx.Client, repo: str) -> bytes:
    config = json.dumps({"architecture": "amd64", "os": "linux", "repo": repo}).encode()
    push_blob(client, repo, config)
    return config


def _assert_no_image(client: httpx.Client, repo: str, tag: str) -> None:
    got = client.get(f"/v2/{repo}/manifests/{tag}", headers={"Accept": OCI_MANIFEST})
    assert (got.status_code, error_code(got)) == (404, "MANIFEST_UNKNOWN")
    tags = client.get(f"/v2/{repo}/tags/list").json()["tags"]
    assert tag not in (tags or [])


MALFORMED = {
    "not json": (b"{not json", OCI_MANIFEST, "MANIFEST_INVALID"),
    "a json array": (b"[]", OCI_MANIFEST, "MANIFEST_INVALID"),
    "utf-16": ('{"schemaVersion": 2}'.encode("utf-16"), OCI_MANIFEST, "MANIFEST_INVALID"),
    "no config": (
        json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": []}).encode(),
        OCI_MANIFEST,
        "MANIFEST_INVALID",
    ),
    "schemaVersion 3": (
        json.dumps({"schemaVersion": 3, "mediaType": OCI_MANIFEST}).encode(),
        OCI_MANIFEST,
        "MANIFEST_INVALID",
    ),
    "layers not a list": (None, OCI_MANIFEST, "MANIFEST_INVALID"),
    "negative size": (None, OCI_MANIFEST, "MANIFEST_INVALID"),
    "bad config digest": (None, OCI_MANIFEST, "MANIFEST_INVALID"),
    "type differs from Content-Type": (None, OCI_INDEX, "MANIFEST_INVALID"),
}


def _malformed_body(case: str, config: bytes) -> bytes:
    body = json.loads(manifest(config, []))
    if case == "layers not a list":
        body["layers"] = {}
    elif case == "negative size":
        body["config"]["size"] = -1
    elif case == "bad config digest":
        body["config"]["digest"] = "sha256:zz"
    return json.dumps(body).encode()


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_manifests(registry: Registry, repo: str, case: str) -> None:
    body, content_type, code = MALFORMED[case]
    with registry.client() as client:
        config = _config_pushed(client, repo)
        data = body if body is not None else _malformed_body(case, config)
        answer = client.put(
            f"/v2/{repo}/manifests/bad", content=data, headers={"Content-Type": content_type}
        )
        assert (answer.status_code, error_code(answer)) == (400, code)
        _assert_no_image(client, repo, "bad")
        wrongly_stored = client.get(f"/v2/{repo}/manifests/{digest_of(data)}")
        assert wrongly_stored.status_code == 404


def test_oversized_manifests(registry: Registry, repo: str) -> None:
    with registry.client() as client:
        config = _config_pushed(client, repo)
        padding = json.loads(manifest(config, [], annotations={"pad": ""}))
        base = len(json.dumps(padding).encode())
        padding["annotations"]["pad"] = "x" * (MAX_MANIFEST - base)
        exact = json.dumps(padding).encode()
        assert len(exact) == MAX_MANIFEST
        over = exact[:-1] + b" }"  # the same JSON, one byte longer
        assert len(over) == MAX_MANIFEST + 1
        declared = client.put(
            f"/v2/{repo}/manifests/big", content=over, headers={"Content-Type": OCI_MANIFEST}
        )
        assert (declared.status_code, error_code(declared)) == (413, "SIZE_INVALID")

        def chunks() -> Iterator[bytes]:
            for start in range(0, len(over), 65536):
                yield over[start : start + 65536]

        streamed = client.put(
            f"/v2/{repo}/manifests/big", content=chunks(), headers={"Content-Type": OCI_MANIFEST}
        )
        assert (streamed.status_code, error_code(streamed)) == (413, "SIZE_INVALID")
        _assert_no_image(client, repo, "big")
        # the limit itself is allowed
        accepted = client.put(
            f"/v2/{repo}/manifests/big", content=exact, headers={"Content-Type": OCI_MANIFEST}
        )
        assert accepted.status_code == 201
        assert accepted.headers["docker-content-digest"] == digest_of(exact)


@pytest.mark.parametrize(
    ("media_type", "content_type", "code"),
    [
        ("application/vnd.example.unknown+json", OCI_MANIFEST, "MANIFEST_INVALID"),
        ("application/vnd.example.unknown+json", None, "UNSUPPORTED"),
        (None, "application/vnd.docker.distribution.manifest.v1+prettyjws", "UNSUPPORTED"),
        (None, "application/vnd.docker.distribution.manifest.v1+json", "UNSUPPORTED"),
    ],
)
def test_unknown_media_types(
    registry: Registry, repo: str, media_type: str | None, content_type: str | None, code: str
) -> None:
    with registry.client() as client:
        config = _config_pushed(client, repo)
        body = json.loads(manifest(config, []))
        if media_type is None:
            del body["mediaType"]
        else:
            body["mediaType"] = media_type
        headers = {} if content_type is None else {"Content-Type": content_type}
        data = json.dumps(body).encode()
        answer = client.put(f"/v2/{repo}/manifests/odd", content=data, headers=headers)
        assert (answer.status_code, error_code(answer)) == (400, code), answer.text
        _assert_no_image(client, repo, "odd")


def test_manifests_referencing_missing_blobs(registry: Registry, repo: str) -> None:
    with registry.client() as client:
        config = _config_pushed(client, repo)
        missing_layer = os.urandom(1000)
        answer = client.put(
            f"/v2/{repo}/manifests/holes",
            content=manifest(config, [missing_layer]),
            headers={"Content-Type": OCI_MANIFEST},
        )
        assert (answer.status_code, error_code(answer)) == (400, "MANIFEST_BLOB_UNKNOWN")
        assert digest_of(missing_layer) in answer.json()["errors"][0]["message"]

        # a blob held by another repository does not count
        other = registry.repository()
        elsewhere = os.urandom(1000)
        push_blob(client, other, elsewhere)
        foreign = client.put(
            f"/v2/{repo}/manifests/holes",
            content=manifest(config, [elsewhere]),
            headers={"Content-Type": OCI_MANIFEST},
        )
        assert (foreign.status_code, error_code(foreign)) == (400, "MANIFEST_BLOB_UNKNOWN")

        child = manifest(config, [], annotations={"child": "missing"})
        index = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_INDEX,
                "manifests": [
                    {"mediaType": OCI_MANIFEST, "digest": digest_of(child), "size": len(child)}
                ],
            }
        ).encode()
        orphan_index = client.put(
            f"/v2/{repo}/manifests/holes", content=index, headers={"Content-Type": OCI_INDEX}
        )
        assert (orphan_index.status_code, error_code(orphan_index)) == (
            400,
            "MANIFEST_BLOB_UNKNOWN",
        )
        _assert_no_image(client, repo, "holes")
        for data in (manifest(config, [missing_layer]), index):
            assert client.get(f"/v2/{repo}/manifests/{digest_of(data)}").status_code == 404


# --- names -----------------------------------------------------------------------------------

TRAVERSALS = [
    ("GET", f"/v2/{ACCOUNT}/../{ACCOUNT}/repo/tags/list", 400, "NAME_INVALID"),
    ("GET", f"/v2/{ACCOUNT}/%2e%2e/repo/tags/list", 400, "NAME_INVALID"),
    ("GET", f"/v2/{ACCOUNT}/repo/../../../etc/tags/list", 400, "NAME_INVALID"),
    ("GET", f"/v2/{ACCOUNT}/repo%2F..%2F..%2Fetc/tags/list", 400, "NAME_INVALID"),
    ("GET", "/v2/..%2f..%2fetc/tags/list", 404, "NAME_UNKNOWN"),
    ("GET", f"/v2/{ACCOUNT}/UPPER/tags/list", 400, "NAME_INVALID"),
    ("GET", f"/v2/{ACCOUNT}/a//b/tags/list", 400, "NAME_INVALID"),
    ("GET", f"/v2/{ACCOUNT}/pro%00be/tags/list", 400, "NAME_INVALID"),
    ("GET", f"/v2/{ACCOUNT}/{'a' * 300}/tags/list", 400, "NAME_INVALID"),
    ("GET", "/v2/not-an-account/repo/tags/list", 404, "NAME_UNKNOWN"),
    ("POST", f"/v2/{ACCOUNT}/../../blobs/uploads/", 400, "NAME_INVALID"),
    ("POST", f"/v2/{ACCOUNT}/%2e%2e/blobs/uploads/", 400, "NAME_INVALID"),
    ("PUT", f"/v2/{ACCOUNT}/%2e%2e%2f%2e%2e/manifests/latest", 400, "NAME_INVALID"),
    ("GET", f"/v2/{ACCOUNT}/REPO/blobs/uploads/..%2f..%2f..%2fsecret.key", 404, "NAME_UNKNOWN"),
    ("GET", f"/v2/{ACCOUNT}/REPO/blobs/sha256:..%2f..%2fcrossdock.db", 404, "NAME_UNKNOWN"),
    ("GET", f"/v2/{ACCOUNT}/REPO/blobs/uploads/../../../crossdock.db", 404, "NAME_UNKNOWN"),
    ("PATCH", f"/v2/{ACCOUNT}/REPO/blobs/uploads/..", 404, "BLOB_UPLOAD_UNKNOWN"),
    ("GET", f"/v2/{ACCOUNT}/REPO/manifests/..%2f..%2fx", 404, "NAME_UNKNOWN"),
]


@pytest.mark.parametrize(("method", "path", "status", "code"), TRAVERSALS)
def test_invalid_names_and_path_traversal(
    registry: Registry, repo: str, method: str, path: str, status: int, code: str
) -> None:
    """Sent raw: clients (httpx, curl) would normalise the dots away before sending."""
    before = registry.data_dir_entries()
    repositories = registry.ecr.describe_repositories()["repositories"]  # type: ignore[attr-defined]
    target = path.replace("REPO", repo.split("/", 1)[1])
    body = b"{}" if method in ("PUT", "PATCH") else b""
    answer = registry.raw(registry.head(method, target, len(body)) + body)
    assert raw_status(answer) == (status, code), answer[:400]
    assert registry.data_dir_entries() == before
    after = registry.ecr.describe_repositories()["repositories"]  # type: ignore[attr-defined]
    assert [r["repositoryName"] for r in after] == [r["repositoryName"] for r in repositories]


def test_an_encoded_slash_is_a_path_separator(registry: Registry, repo: str) -> None:
    name = repo.split("/", 1)[1]
    answer = registry.raw(registry.head("GET", f"/v2/{ACCOUNT}/{name}%2Fextra/tags/list", None))
    assert raw_status(answer) == (404, "NAME_UNKNOWN")
    assert f"'{name}/extra'".encode() in answer


# --- Range and Content-Range ---------------------------------------------------------------


@pytest.fixture(scope="module")
def stored_blob(registry: Registry) -> tuple[str, bytes]:
    repo = registry.repository()
    data = os.urandom(1000)
    with registry.client() as client:
        push_blob(client, repo, data)
    return repo, data


@pytest.mark.parametrize(
    ("header", "status", "content_range", "body"),
    [
        ("bytes=0-", 206, "bytes 0-999/1000", slice(0, 1000)),
        ("bytes=10-19", 206, "bytes 10-19/1000", slice(10, 20)),
        ("bytes=990-5000", 206, "bytes 990-999/1000", slice(990, 1000)),
        ("bytes=-10", 206, "bytes 990-999/1000", slice(990, 1000)),
        ("bytes=-5000", 206, "bytes 0-999/1000", slice(0, 1000)),
        ("bytes=1000-", 416, "bytes */1000", None),
        ("bytes=5000-6000", 416, "bytes */1000", None),
        ("bytes=-0", 416, "bytes */1000", None),
        ("bytes=5-2", 200, None, slice(0, 1000)),
        ("bytes=abc", 200, None, slice(0, 1000)),
        ("bytes=0-1,5-6", 200, None, slice(0, 1000)),
        ("bytes=99999999999999999999-", 200, None, slice(0, 1000)),
        ("items=0-5", 200, None, slice(0, 1000)),
        ("bytes=", 200, None, slice(0, 1000)),
    ],
)
def test_blob_ranges(
    registry: Registry,
    stored_blob: tuple[str, bytes],
    header: str,
    status: int,
    content_range: str | None,
    body: slice | None,
) -> None:
    repo, data = stored_blob
    with registry.client() as client:
        answer = client.get(f"/v2/{repo}/blobs/{digest_of(data)}", headers={"Range": header})
        assert answer.status_code == status
        assert answer.headers.get("content-range") == content_range
        if body is None:
            assert error_code(answer) == "BLOB_UNKNOWN"
        else:
            assert answer.content == data[body]


@given(
    first=st.one_of(st.none(), st.integers(0, 1200)),
    last=st.one_of(st.none(), st.integers(0, 1200)),
    unit=st.sampled_from(["bytes=", "bytes =", "BYTES=", "items=", ""]),
    noise=st.sampled_from(["", "x", ",0-1", "-", "/10"]),
)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_fuzzed_ranges_against_the_server(
    registry: Registry,
    stored_blob: tuple[str, bytes],
    first: int | None,
    last: int | None,
    unit: str,
    noise: str,
) -> None:
    """Whatever the header, the answer is the whole blob, exactly the range it announces,
    or 416; never an error of the server."""
    repo, data = stored_blob
    header = f"{unit}{'' if first is None else first}-{'' if last is None else last}{noise}"
    with registry.client() as client:
        answer = client.get(f"/v2/{repo}/blobs/{digest_of(data)}", headers={"Range": header})
    assert answer.status_code in (200, 206, 416)
    if answer.status_code == 200:
        assert answer.content == data
    elif answer.status_code == 206:
        unit, _, spec = answer.headers["content-range"].partition(" ")
        span, _, total = spec.partition("/")
        start, end = (int(part) for part in span.split("-"))
        assert (unit, total) == ("bytes", "1000")
        assert answer.content == data[start : end + 1]
        assert len(answer.content) == int(answer.headers["content-length"])
    else:
        assert answer.headers["content-range"] == "bytes */1000"


@pytest.mark.parametrize("header", ["0-", "-5", "3-2", "0-2, 3-4", "", "bytes", "a-b", "1-2/x"])
def test_invalid_content_ranges(registry: Registry, repo: str, header: str) -> None:
    with registry.client() as client:
        location = new_session(client, repo)
        answer = client.patch(location, content=b"abc", headers={"Content-Range": header})
        assert (answer.status_code, error_code(answer)) == (400, "BLOB_UPLOAD_INVALID")
        assert session_range(client, location) == "0-0"
        assert session_file(registry, location).stat().st_size == 0
        cancel_session(client, location)


@pytest.mark.parametrize("start", [0, 2, 4, 99])
def test_out_of_order_chunks_get_416_with_the_range(
    registry: Registry, repo: str, start: int
) -> None:
    with registry.client() as client:
        location = new_session(client, repo)
        assert (
            client.patch(location, content=b"abc", headers={"Content-Range": "0-2"}).status_code
            == 202
        )
        chunk = b"defg"
        answer = client.patch(
            location, content=chunk, headers={"Content-Range": f"{start}-{start + len(chunk) - 1}"}
        )
        assert answer.status_code == 416
        assert error_code(answer) == "BLOB_UPLOAD_INVALID"  # the body is whole JSON
        assert answer.headers["range"] == "0-2"
        assert answer.headers["location"] == location
        # the connection is still usable and the session unchanged
        assert session_range(client, location) == "0-2"
        assert session_file(registry, location).read_bytes() == b"abc"
        cancel_session(client, location)


@given(header=st.text(max_size=40))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_fuzzed_content_ranges_against_the_server(registry: Registry, header: str) -> None:
    """Any Content-Range text: 202, 400 or 416, and the session holds what was accepted."""
    repo = f"{ACCOUNT}/serving-check"
    with registry.client() as client:
        if client.get(f"/v2/{repo}/tags/list").status_code == 404:
            registry.ecr.create_repository(repositoryName="serving-check")  # type: ignore[attr-defined]
        location = new_session(client, repo)
        try:
            value = header.encode("latin-1").decode("latin-1").strip()
            answer = client.patch(location, content=b"abc", headers={"Content-Range": value})
        except (UnicodeEncodeError, httpx.LocalProtocolError):
            client.delete(location)
            return
        assert answer.status_code in (202, 400, 416), answer.text
        expected = 3 if answer.status_code == 202 else 0
        assert session_file(registry, location).stat().st_size == expected
        assert client.delete(location).status_code == 204


# --- a crash ----------------------------------------------------------------------------


def test_a_server_killed_mid_upload_leaves_no_partial_blob(
    registry: Registry, tmp_path: Path
) -> None:
    """SIGKILL while a monolithic upload and a chunked upload stream in: after a restart
    no blob is visible, the session resumes from what its file holds, and fsck finds only
    the dead request's temp leftovers."""
    running = start_server(tmp_path / "data", "--scenario", str(WALKTHROUGH))
    crashed = Registry(running, "", registry.ecr)
    try:
        crashed.ecr = _owner_ecr(running.url)
        crashed.password = _password(crashed.ecr)
        crashed.authorization = registry_authorization(crashed.password)
        repo = crashed.repository()
        data = os.urandom(8 * 1024 * 1024)
        digest = digest_of(data)
        with crashed.client() as client:
            location = new_session(client, repo)
        head = crashed.head("PATCH", location, len(data))
        mono = crashed.head("POST", f"/v2/{repo}/blobs/uploads/?digest={digest}", len(data))
        sockets = []
        for request in (head, mono):
            sock = socket.create_connection(("127.0.0.1", running.port), timeout=30)
            sock.sendall(request + data[: 3 * 1024 * 1024])
            sockets.append(sock)
        stored = session_file(crashed, location)
        wait_until(lambda: stored.stat().st_size > 0)
        running.process.kill()
        running.process.wait(timeout=15)
        for sock in sockets:
            sock.close()
    finally:
        stop_server(running)
    received = session_file(crashed, location).stat().st_size
    assert session_file(crashed, location).read_bytes() == data[:received]

    checked = running.crossdock(
        "fsck", "--data-dir", str(running.data_dir), "--grace", "0", "--format", "json"
    )
    findings = json.loads(checked.stdout)["findings"]
    assert {f["code"] for f in findings} <= {"temp_file", "upload_orphan_file"}, findings
    assert not any(f["code"].startswith(("blob_", "image_")) for f in findings)

    restarted = start_server(running.data_dir)
    try:
        crashed.server = restarted
        with crashed.client() as client:
            assert_absent(client, crashed, repo, digest)
            assert session_range(client, location) == f"0-{received - 1}"
            rest = client.patch(
                location,
                content=data[received:],
                headers={"Content-Range": f"{received}-{len(data) - 1}"},
            )
            assert rest.status_code == 202
            assert client.put(location, params={"digest": digest}).status_code == 201
            assert client.get(f"/v2/{repo}/blobs/{digest}").content == data
    finally:
        stop_server(restarted)


# --- duplicate and concurrent uploads ------------------------------------------------------


def test_duplicate_uploads_of_one_blob(registry: Registry, repo: str) -> None:
    data = os.urandom(100_000)
    digest = digest_of(data)
    with registry.client() as client:
        push_blob(client, repo, data)
        push_blob(client, repo, data)
        location = new_session(client, repo)
        assert client.patch(location, content=data).status_code == 202
        assert client.put(location, params={"digest": digest}).status_code == 201
        assert client.get(f"/v2/{repo}/blobs/{digest}").content == data
    assert sum(1 for name in registry.blob_files() if name.endswith(digest[7:])) == 1


def test_concurrent_uploads_of_one_blob(registry: Registry) -> None:
    repos = [registry.repository(), registry.repository()]
    data = os.urandom(512 * 1024)
    digest = digest_of(data)

    def upload(index: int) -> tuple[int, str]:
        repo = repos[index % 2]
        with registry.client() as client:
            if index % 3 == 0:
                answer = client.post(
                    f"/v2/{repo}/blobs/uploads/", params={"digest": digest}, content=data
                )
            else:
                location = new_session(client, repo)
                client.patch(location, content=data[:1000])
                answer = client.put(location, params={"digest": digest}, content=data[1000:])
            return answer.status_code, answer.text

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(upload, range(16)))
    for status, text in results:
        # either stored, or refused with a clean spec error (never a server error)
        assert status == 201 or (400 <= status < 500 and json.loads(text)["errors"]), text
    assert any(status == 201 for status, _ in results)
    with registry.client() as client:
        for repo in repos:
            assert client.get(f"/v2/{repo}/blobs/{digest}").content == data
    blob_file = registry.blobs / "sha256" / digest[7:9] / digest[7:]
    assert hashlib.sha256(blob_file.read_bytes()).hexdigest() == digest[7:]


def test_concurrent_chunks_to_one_session(registry: Registry, repo: str) -> None:
    """Two clients send the first chunk of one session at once: one is appended, the other
    is told where the session ends."""
    chunk = os.urandom(2 * 1024 * 1024)
    with registry.client() as client:
        location = new_session(client, repo)
    barrier = threading.Barrier(2)

    def send(_: int) -> int:
        with registry.client() as client:
            barrier.wait()
            answer = client.patch(
                location, content=chunk, headers={"Content-Range": f"0-{len(chunk) - 1}"}
            )
            return answer.status_code

    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(send, range(2)))
    assert statuses == [202, 416]
    with registry.client() as client:
        assert session_range(client, location) == f"0-{len(chunk) - 1}"
        done = client.put(location, params={"digest": digest_of(chunk)})
        assert done.status_code == 201
        assert client.get(f"/v2/{repo}/blobs/{digest_of(chunk)}").content == chunk
