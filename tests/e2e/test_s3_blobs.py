"""``crossdock serve --blob-store s3://...`` with real clients, on SeaweedFS.

skopeo pushes and pulls through a real server whose blobs live in S3 (digests preserved,
layers bigger than one stored segment). Blob GETs answer 307 to a presigned S3 URL, which
skopeo follows and which serves ranges, as ECR's do; GetDownloadUrlForLayer hands out the
same kind of URL; ``--blob-proxy`` streams the bytes through crossdock instead. An object
store that stops answering gives 503 ``UNAVAILABLE`` (``/v2/``) and ``ServerException``
(ECR API), both with ``Retry-After``, and the same server works again once it is back.

Runs when ``CROSSDOCK_TEST_S3_URL`` is set (``scripts/services/seaweedfs.sh``).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import socket
import subprocess
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from images import BuiltImage, build_image
from serve_process import RunningServer, free_port, start_server, stop_server
from walkthrough import OWNER, WALKTHROUGH, client, keys, password

from crossdock.oci.digest import Digest
from crossdock.storage.blobs_s3 import S3BlobStore
from crossdock.storage.s3_location import parse_s3_url

S3_ENV = "CROSSDOCK_TEST_S3_URL"
UNAVAILABLE = "The object store is temporarily unavailable. Retry the request."

pytestmark = [
    pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo not installed"),
    pytest.mark.skipif(not os.environ.get(S3_ENV), reason=f"{S3_ENV} is not set"),
]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _with_prefix(url: str, prefix: str) -> str:
    parts = urlsplit(url)
    path = f"{parts.path.rstrip('/')}/{prefix}"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def _with_endpoint(url: str, endpoint: str) -> str:
    parts = urlsplit(url)
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    query["endpoint"] = endpoint
    text = "&".join(f"{name}={value}" for name, value in query.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, text, ""))


@pytest.fixture
def s3_url() -> Iterator[str]:
    """The test object store with a key prefix of this test's own (removed afterwards)."""
    url = _with_prefix(os.environ[S3_ENV], f"e2e-{uuid.uuid4().hex}")
    try:
        yield url
    finally:
        store = S3BlobStore(parse_s3_url(url))
        store.bucket.delete([item.key for item in store.bucket.list(store.location.prefix)])


def _serve(tmp_path: Path, url: str, *extra: str) -> RunningServer:
    return start_server(
        tmp_path / "data", "--scenario", str(WALKTHROUGH), "--blob-store", url, *extra
    )


def _skopeo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["skopeo", *args], capture_output=True, text=True, check=False, timeout=300
    )


def _push(server: RunningServer, image: BuiltImage, tmp_path: Path) -> str:
    reference = f"docker://127.0.0.1:{server.port}/{OWNER}/example:latest"
    digestfile = tmp_path / "pushed.digest"
    push = _skopeo(
        "copy",
        "--dest-tls-verify=false",
        "--dest-creds",
        f"AWS:{password(server, 'owner')}",
        "--digestfile",
        str(digestfile),
        image.source,
        reference,
    )
    assert push.returncode == 0, push.stderr
    assert digestfile.read_text().strip() == image.digest
    return reference


def _pull_and_compare(server: RunningServer, reference: str, source: Path, into: Path) -> None:
    pull = _skopeo(
        "copy",
        "--src-tls-verify=false",
        "--src-creds",
        f"AWS:{password(server, 'puller')}",
        reference,
        f"oci:{into}:latest",
    )
    assert pull.returncode == 0, pull.stderr
    index = json.loads((into / "index.json").read_text())
    top = json.loads((source / "index.json").read_text())["manifests"][0]["digest"]
    assert index["manifests"][0]["digest"] == top
    for blob in (source / "blobs" / "sha256").iterdir():  # every blob back, byte for byte
        assert (into / "blobs" / "sha256" / blob.name).read_bytes() == blob.read_bytes()


def _layers(image_dir: Path) -> list[str]:
    top = json.loads((image_dir / "index.json").read_text())["manifests"][0]["digest"]
    manifest = image_dir / "blobs" / "sha256" / top.removeprefix("sha256:")
    return [layer["digest"] for layer in json.loads(manifest.read_text())["layers"]]


def _lower(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers}


def _blob_path(digest: str) -> str:
    return f"/v2/{OWNER}/example/blobs/{digest}"


def _get(
    server: RunningServer, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    secret = base64.b64encode(f"AWS:{password(server, 'owner')}".encode()).decode()
    request = urllib.request.Request(
        server.url + path, headers={"Authorization": f"Basic {secret}", **(headers or {})}
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=60) as answer:
            return answer.status, _lower(answer.headers.items()), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, _lower(error.headers.items()), error.read()


def test_push_pull_and_presigned_redirects(tmp_path: Path, s3_url: str) -> None:
    server = _serve(tmp_path, s3_url)
    try:
        # 9 MiB layers: more than one 8 MiB segment each, committed by multipart copy
        image = build_image(tmp_path / "image", "oci", layers=2, layer_size=9 * 1024 * 1024)
        reference = _push(server, image, tmp_path)
        layers = _layers(tmp_path / "image")
        stored = set(S3BlobStore(parse_s3_url(s3_url)).digests())
        assert {Digest.parse(layer) for layer in layers} <= stored
        assert not (server.data_dir / "blobs" / "sha256").exists() or not any(
            (server.data_dir / "blobs" / "sha256").iterdir()
        )
        # skopeo follows the 307s to SeaweedFS
        _pull_and_compare(server, reference, tmp_path / "image", tmp_path / "pulled")

        layer = layers[0]
        data = (
            tmp_path / "image" / "blobs" / "sha256" / layer.removeprefix("sha256:")
        ).read_bytes()
        status, headers, body = _get(server, _blob_path(layer))
        assert (status, body) == (307, b"")
        assert headers["docker-content-digest"] == layer
        location = headers["location"]
        endpoint = parse_qs(urlsplit(s3_url).query)["endpoint"][0]
        assert location.startswith(f"{endpoint}/")
        assert "X-Amz-Signature=" in location
        ranged = urllib.request.Request(location, headers={"Range": "bytes=100-8388707"})
        with urllib.request.urlopen(ranged, timeout=60) as answer:  # no credentials needed
            assert answer.status == 206
            assert answer.read() == data[100:8388708]

        ecr = client(server, "ecr", "owner")
        answer = ecr.get_download_url_for_layer(repositoryName="example", layerDigest=layer)
        assert answer["layerDigest"] == layer
        assert answer["downloadUrl"].startswith(f"{endpoint}/")
        with urllib.request.urlopen(answer["downloadUrl"], timeout=60) as download:
            assert hashlib.sha256(download.read()).hexdigest() == layer.removeprefix("sha256:")
    finally:
        stop_server(server)


def test_blob_proxy_streams_through_crossdock(tmp_path: Path, s3_url: str) -> None:
    server = _serve(tmp_path, s3_url, "--blob-proxy")
    try:
        image = build_image(tmp_path / "image", "docker", layers=2, layer_size=256 * 1024)
        reference = _push(server, image, tmp_path)
        pulled = _skopeo(
            "copy",
            "--src-tls-verify=false",
            "--src-creds",
            f"AWS:{password(server, 'puller')}",
            reference,
            f"dir:{tmp_path / 'pulled'}",
        )
        assert pulled.returncode == 0, pulled.stderr
        manifest = json.loads((tmp_path / "image" / "manifest.json").read_text())
        layer = manifest["layers"][0]["digest"]
        data = (tmp_path / "image" / layer.removeprefix("sha256:")).read_bytes()
        assert (tmp_path / "pulled" / layer.removeprefix("sha256:")).read_bytes() == data
        status, headers, body = _get(server, _blob_path(layer))
        assert (status, body) == (200, data)
        assert "location" not in headers
        status, headers, body = _get(server, _blob_path(layer), {"Range": "bytes=10-19"})
        assert (status, body) == (206, data[10:20])
        assert headers["content-range"] == f"bytes 10-19/{len(data)}"
        ecr = client(server, "ecr", "owner")
        url = ecr.get_download_url_for_layer(repositoryName="example", layerDigest=layer)
        assert url["downloadUrl"] == f"{server.url}{_blob_path(layer)}"
    finally:
        stop_server(server)


class _Gate:
    """A TCP forwarder to the object store that can be shut (refusing and cutting
    every connection) and opened again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None

    def open(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def shut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, []
        for sock in [listener, *sockets]:
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                inbound, _ = listener.accept()
            except OSError:
                return
            try:
                outbound = socket.create_connection(self.target)
            except OSError:
                inbound.close()
                continue
            with self._lock:
                self._sockets += [inbound, outbound]
            for a, b in ((inbound, outbound), (outbound, inbound)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def test_unreachable_store_answers_503_and_recovers(tmp_path: Path, s3_url: str) -> None:
    endpoint = urlsplit(parse_qs(urlsplit(s3_url).query)["endpoint"][0])
    gate = _Gate((endpoint.hostname or "127.0.0.1", endpoint.port or 80))
    gate.open()
    gated = _with_endpoint(s3_url, f"http://127.0.0.1:{gate.port}")
    server = _serve(tmp_path, gated, "--blob-proxy")
    try:
        image = build_image(tmp_path / "image", "docker", layers=1, layer_size=64 * 1024)
        _push(server, image, tmp_path)
        layer = json.loads((tmp_path / "image" / "manifest.json").read_text())["layers"][0]
        ecr = _ecr_without_retries(server)

        gate.shut()
        start = _post(server, f"/v2/{OWNER}/example/blobs/uploads/")
        assert start[0] == 503
        assert start[1]["retry-after"] == "5"
        assert json.loads(start[2]) == {"errors": [{"code": "UNAVAILABLE", "message": UNAVAILABLE}]}
        status, headers, body = _get(server, _blob_path(layer["digest"]))
        assert status == 503
        assert headers["retry-after"] == "5"
        with pytest.raises(ClientError) as failure:
            ecr.initiate_layer_upload(repositoryName="example")
        response = failure.value.response
        assert response["Error"]["Code"] == "ServerException"
        assert response["Error"]["Message"] == UNAVAILABLE
        assert response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "5"

        gate.open()  # the store is back: the same server serves again
        started = _post(server, f"/v2/{OWNER}/example/blobs/uploads/")
        assert started[0] == 202
        status, headers, body = _get(server, _blob_path(layer["digest"]))
        assert status == 200
        assert hashlib.sha256(body).hexdigest() == layer["digest"].removeprefix("sha256:")
        assert "uploadId" in ecr.initiate_layer_upload(repositoryName="example")
    finally:
        stop_server(server)
        gate.shut()


def _ecr_without_retries(server: RunningServer) -> Any:
    key_id, secret = keys("owner")
    return boto3.session.Session().client(
        "ecr",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def _post(server: RunningServer, path: str) -> tuple[int, dict[str, str], bytes]:
    secret = base64.b64encode(f"AWS:{password(server, 'owner')}".encode()).decode()
    request = urllib.request.Request(
        server.url + path,
        data=b"",
        method="POST",
        headers={"Authorization": f"Basic {secret}", "Content-Length": "0"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, _lower(answer.headers.items()), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, _lower(error.headers.items()), error.read()
