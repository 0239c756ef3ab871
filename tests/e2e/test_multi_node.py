"""Two stateless nodes: ``crossdock serve`` twice, over one PostgreSQL database and one S3 bucket.

The acceptance test of issue 6's "stateless nodes": node 1 and node 2 listen on different
ports, share a fresh PostgreSQL database, one SeaweedFS key prefix and one secret key
file, and keep nothing that matters in memory:

- the walkthrough scenario, applied by both nodes at start, exists once;
- an image pushed through node 1 (skopeo) pulls back through node 2, digests preserved;
- a registry token from node 1 opens node 2, and an STS session from node 2 works on node 1;
- a repository policy deleted through node 2 stops the next pull through node 1 (the delay
  is measured and must stay under one second), and so do an identity policy and a key;
- node 1 killed with SIGKILL in the middle of a chunked upload: the upload resumes on
  node 2 from the Range node 2 reports, completes with the right digest, and
  ``crossdock fsck`` then finds nothing wrong.

Runs when ``CROSSDOCK_TEST_DATABASE_URL`` and ``CROSSDOCK_TEST_S3_URL`` are set
(``scripts/services/postgres.sh`` and ``scripts/services/seaweedfs.sh``; scripts/test
starts both).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError
from images import build_image
from serve_process import RunningServer, start_server, stop_server
from walkthrough import OWNER, WALKTHROUGH, client, password, puller_policy

from crossdock.oci.digest import Digest
from crossdock.storage.blobs_s3 import S3BlobStore
from crossdock.storage.s3_location import parse_s3_url
from crossdock.storage.sql.scratch import scratch_database

POSTGRES = os.environ.get("CROSSDOCK_TEST_DATABASE_URL")
S3_URL = os.environ.get("CROSSDOCK_TEST_S3_URL")
CONSUMER = "222222222222"
PROPAGATION_LIMIT = 1.0
"""Seconds within which a change made through one node must hold on every node (issue 6)."""
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MIB = 1024 * 1024

pytestmark = pytest.mark.skipif(
    not (POSTGRES and S3_URL),
    reason="CROSSDOCK_TEST_DATABASE_URL and CROSSDOCK_TEST_S3_URL are not both set",
)


def _with_prefix(url: str, prefix: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(
        (parts.scheme, parts.netloc, f"{parts.path.rstrip('/')}/{prefix}", parts.query, "")
    )


@dataclass
class Cluster:
    """Two nodes over one database, one bucket prefix and one key file."""

    nodes: list[RunningServer]
    database: str
    blob_store: str
    key_file: Path
    root: Path

    def node_args(self) -> tuple[str, ...]:
        """The options every node gets: the shared services and the shared key."""
        return (
            "--database-url",
            self.database,
            "--blob-store",
            self.blob_store,
            "--key-file",
            str(self.key_file),
        )

    def start_node(self, name: str, *extra: str) -> RunningServer:
        """Start a node with a data dir of its own (its trail; nothing shared)."""
        (self.root / name).mkdir()
        return start_server(self.root / name / "data", *self.node_args(), *extra)

    def crossdock(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the ``crossdock`` CLI (as an operator would, next to the nodes)."""
        return self.nodes[-1].crossdock(*args)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Node 1 and node 2, both started with the walkthrough scenario (applied twice)."""
    assert POSTGRES is not None
    assert S3_URL is not None
    root = tmp_path_factory.mktemp("multi-node")
    blob_store = _with_prefix(S3_URL, f"multi-node-{uuid.uuid4().hex}")
    with scratch_database(POSTGRES, prefix="crossdock_multinode") as database:
        built = Cluster([], database, blob_store, root / "secret.key", root)
        try:
            for name in ("node1", "node2"):
                built.nodes.append(built.start_node(name, "--scenario", str(WALKTHROUGH)))
            yield built
        finally:
            for node in built.nodes:
                stop_server(node)
            store = S3BlobStore(parse_s3_url(blob_store))
            store.bucket.delete([item.key for item in store.bucket.list(store.location.prefix)])


def _basic(secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"AWS:{secret}".encode()).decode()}


def _v2(node: RunningServer, secret: str) -> httpx.Client:
    return httpx.Client(base_url=node.url, headers=_basic(secret), timeout=60)


def _skopeo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["skopeo", *args], capture_output=True, text=True, check=False, timeout=300
    )


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _push_small_image(node: RunningServer, repository: str, tag: str, seed: int) -> str:
    """Push a one-layer image with raw /v2/ calls as the owner; its manifest digest."""
    layer = seed.to_bytes(4, "big") * 1000
    config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed}).encode()
    with _v2(node, password(node, "owner")) as http:
        for blob in (layer, config):
            started = http.post(f"/v2/{OWNER}/{repository}/blobs/uploads/")
            assert started.status_code == 202, started.text
            done = http.put(
                started.headers["Location"], params={"digest": _digest(blob)}, content=blob
            )
            assert done.status_code == 201, done.text
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": MANIFEST,
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": _digest(config),
                    "size": len(config),
                },
                "layers": [
                    {
                        "mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": _digest(layer),
                        "size": len(layer),
                    }
                ],
            }
        ).encode()
        put = http.put(
            f"/v2/{OWNER}/{repository}/manifests/{tag}",
            content=manifest,
            headers={"Content-Type": MANIFEST},
        )
        assert put.status_code == 201, put.text
    return _digest(manifest)


def _first_change(
    probe: Any, changed: Any, deadline: float = 10.0, pause: float = 0.01
) -> tuple[float, Any]:
    """Call ``probe()`` until ``changed(result)``; (seconds it took, that result)."""
    start = time.monotonic()
    while True:
        result = probe()
        elapsed = time.monotonic() - start
        if changed(result):
            return elapsed, result
        assert elapsed < deadline, f"no change after {deadline} s: {result!r}"
        time.sleep(pause)


def test_scenario_applied_by_both_nodes_exists_once(cluster: Cluster) -> None:
    node1, node2 = cluster.nodes
    # Other tests of this module add repositories and users: count the scenario's own.
    repositories = client(node2, "ecr", "owner").describe_repositories()["repositories"]
    assert [r["repositoryName"] for r in repositories].count("example") == 1
    iam = client(node1, "iam", "consumer")
    assert [u["UserName"] for u in iam.list_users()["Users"]].count("puller") == 1
    assert iam.list_user_policies(UserName="puller")["PolicyNames"] == ["PullExample"]
    keys = iam.list_access_keys(UserName="puller")["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == ["AKIAPULLER0000000001"]
    policy = client(node1, "ecr", "owner").get_repository_policy(repositoryName="example")
    statements = json.loads(policy["policyText"])["Statement"]
    assert [s["Sid"] for s in statements] == ["AllowPullFrom222222222222"]


@pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo not installed")
def test_push_via_node_1_pull_via_node_2_with_skopeo(cluster: Cluster, tmp_path: Path) -> None:
    node1, node2 = cluster.nodes
    # Two layers bigger than one stored S3 segment (8 MiB), so each spans several objects.
    image = build_image(tmp_path / "layout", "oci", layers=2, layer_size=9 * MIB, seed=61)
    digestfile = tmp_path / "pushed.digest"
    push = _skopeo(
        "copy",
        "--dest-tls-verify=false",
        "--dest-creds",
        f"AWS:{password(node1, 'owner')}",
        "--digestfile",
        str(digestfile),
        image.source,
        f"docker://127.0.0.1:{node1.port}/{OWNER}/example:multi",
    )
    assert push.returncode == 0, push.stderr
    assert digestfile.read_text().strip() == image.digest

    out = tmp_path / "pulled"
    pull = _skopeo(
        "copy",
        "--src-tls-verify=false",
        "--src-creds",
        f"AWS:{password(node2, 'puller')}",
        f"docker://127.0.0.1:{node2.port}/{OWNER}/example:multi",
        f"oci:{out}:multi",
    )
    assert pull.returncode == 0, pull.stderr
    assert json.loads((out / "index.json").read_text())["manifests"][0]["digest"] == image.digest
    source = tmp_path / "layout" / "blobs" / "sha256"
    for blob in source.iterdir():  # every blob back, byte for byte
        assert (out / "blobs" / "sha256" / blob.name).read_bytes() == blob.read_bytes()
    listed = client(node2, "ecr", "owner").list_images(repositoryName="example")["imageIds"]
    assert {"imageDigest": image.digest, "imageTag": "multi"} in listed


def test_registry_token_from_node_1_is_accepted_by_node_2(cluster: Cluster) -> None:
    node1, node2 = cluster.nodes
    digest = _push_small_image(node1, "example", "token", seed=7)
    secret = password(node1, "puller")  # GetAuthorizationToken answered by node 1
    path = f"/v2/{OWNER}/example/manifests/token"
    with _v2(node2, secret) as http:
        got = http.get(path, headers={"Accept": MANIFEST})
        assert got.status_code == 200, got.text
        assert got.headers["Docker-Content-Digest"] == digest
    forged = secret.split(".", 1)[0] + ".not-the-secret"
    with _v2(node2, forged) as http:
        refused = http.get(path, headers={"Accept": MANIFEST})
    assert refused.status_code == 401


def test_repository_policy_deleted_via_node_2_stops_pulls_via_node_1(cluster: Cluster) -> None:
    node1, node2 = cluster.nodes
    owner2 = client(node2, "ecr", "owner")
    owner2.create_repository(repositoryName="propagation")
    grant = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ConsumerPulls",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{CONSUMER}:root"},
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            }
        ],
    }
    owner2.set_repository_policy(repositoryName="propagation", policyText=json.dumps(grant))
    _push_small_image(node1, "propagation", "v1", seed=8)
    # The consumer's root: its own account allows it everything, so the grant decides.
    puller_on_node1 = _v2(node1, password(node1, "consumer", OWNER))
    path = f"/v2/{OWNER}/propagation/manifests/v1"

    def pull() -> int:
        return puller_on_node1.get(path, headers={"Accept": MANIFEST}).status_code

    try:
        assert [pull() for _ in range(5)] == [200] * 5  # node 1 has served (and cached) it
        owner2.delete_repository_policy(repositoryName="propagation")
        delay, status = _first_change(pull, lambda code: code != 200)
    finally:
        puller_on_node1.close()
    print(f"\nrepository policy deletion seen by the other node after {delay * 1000:.1f} ms")
    assert status == 403
    assert delay < PROPAGATION_LIMIT


def test_identity_changes_and_sessions_cross_nodes(cluster: Cluster) -> None:
    """An STS session issued by node 2 works on node 1; an identity policy and an access
    key deleted through one node stop working on the other within the limit."""
    node1, node2 = cluster.nodes
    iam1 = client(node1, "iam", "consumer")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{CONSUMER}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = iam1.create_role(RoleName="reader", AssumeRolePolicyDocument=json.dumps(trust))
    login = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}],
    }
    iam1.put_role_policy(RoleName="reader", PolicyName="Login", PolicyDocument=json.dumps(login))
    iam1.create_user(UserName="assumer")
    assume = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role["Role"]["Arn"]}
        ],
    }
    iam1.put_user_policy(UserName="assumer", PolicyName="Assume", PolicyDocument=json.dumps(assume))
    key = iam1.create_access_key(UserName="assumer")["AccessKey"]

    def signed(node: RunningServer, service: str, credentials: dict[str, str]) -> Any:
        return boto3.session.Session().client(
            service, endpoint_url=node.url, region_name="us-east-1", **credentials
        )

    user_keys = {
        "aws_access_key_id": key["AccessKeyId"],
        "aws_secret_access_key": key["SecretAccessKey"],
    }
    session = signed(node2, "sts", user_keys).assume_role(
        RoleArn=role["Role"]["Arn"], RoleSessionName="multi-node"
    )["Credentials"]
    session_keys = {
        "aws_access_key_id": session["AccessKeyId"],
        "aws_secret_access_key": session["SecretAccessKey"],
        "aws_session_token": session["SessionToken"],
    }
    ecr_as_session_on_node1 = signed(node1, "ecr", session_keys)
    assert ecr_as_session_on_node1.get_authorization_token()["authorizationData"]

    def token_code() -> str:
        try:
            ecr_as_session_on_node1.get_authorization_token()
        except ClientError as error:
            return str(error.response["Error"]["Code"])
        return "ok"

    client(node2, "iam", "consumer").delete_role_policy(RoleName="reader", PolicyName="Login")
    delay, code = _first_change(token_code, lambda found: found != "ok")
    print(f"\nrole policy deletion seen by the other node after {delay * 1000:.1f} ms")
    assert code == "AccessDeniedException"
    assert delay < PROPAGATION_LIMIT

    sts_on_node2 = signed(node2, "sts", user_keys)
    assert sts_on_node2.get_caller_identity()["Arn"].endswith(":user/assumer")

    def caller_code() -> str:
        try:
            sts_on_node2.get_caller_identity()
        except ClientError as error:
            return str(error.response["Error"]["Code"])
        return "ok"

    iam1.delete_access_key(UserName="assumer", AccessKeyId=key["AccessKeyId"])
    delay, code = _first_change(caller_code, lambda found: found != "ok")
    print(f"access key deletion seen by the other node after {delay * 1000:.1f} ms")
    assert code == "InvalidClientTokenId"
    assert delay < PROPAGATION_LIMIT


def test_identity_policy_deleted_via_node_1_stops_pulls_via_node_2(cluster: Cluster) -> None:
    node1, node2 = cluster.nodes
    _push_small_image(node1, "example", "identity", seed=9)
    name, document = puller_policy()
    puller_on_node2 = _v2(node2, password(node2, "puller", OWNER))
    path = f"/v2/{OWNER}/example/manifests/identity"

    def pull() -> int:
        return puller_on_node2.get(path, headers={"Accept": MANIFEST}).status_code

    consumer1 = client(node1, "iam", "consumer")
    try:
        assert pull() == 200
        consumer1.delete_user_policy(UserName="puller", PolicyName=name)
        delay, status = _first_change(pull, lambda code: code != 200)
    finally:
        consumer1.put_user_policy(
            UserName="puller", PolicyName=name, PolicyDocument=json.dumps(document)
        )
        puller_on_node2.close()
    print(f"\nidentity policy deletion seen by the other node after {delay * 1000:.1f} ms")
    assert status == 403
    assert delay < PROPAGATION_LIMIT


def _chunks(data: bytes, sent: threading.Event, release: threading.Event) -> Iterator[bytes]:
    """The body of the PATCH node 1 dies in: half of ``data``, then a stall, then the rest."""
    half = len(data) // 2
    for start in range(0, half, MIB):
        yield data[start : min(start + MIB, half)]
    sent.set()
    release.wait(30)
    yield data[half:]


def test_upload_resumes_on_node_2_after_node_1_is_killed(cluster: Cluster) -> None:
    """SIGKILL node 1 while a chunk streams in; node 2 reports how much the session holds,
    takes the rest from there, and commits the right blob; fsck finds nothing wrong."""
    node1, node2 = cluster.nodes
    blob = os.urandom(26 * MIB)
    # The second chunk is 18 MiB; 9 MiB of it arrive before the kill, more than one
    # stored segment (8 MiB), so node 1 has stored part of it when it dies.
    first, second_end = 6 * MIB, 24 * MIB
    digest = _digest(blob)
    secret = password(node1, "owner")

    with _v2(node1, secret) as http:
        started = http.post(f"/v2/{OWNER}/example/blobs/uploads/")
        assert started.status_code == 202, started.text
        location = urlsplit(started.headers["Location"]).path
        patched = http.patch(
            location,
            content=blob[:first],
            headers={"Content-Range": f"0-{first - 1}", "Content-Type": "application/octet-stream"},
        )
        assert patched.status_code == 202, patched.text
        assert patched.headers["Range"] == f"0-{first - 1}"

    sent, release = threading.Event(), threading.Event()
    outcome: list[object] = []

    def doomed_patch() -> None:
        try:
            with httpx.Client(base_url=node1.url, headers=_basic(secret), timeout=60) as doomed:
                outcome.append(
                    doomed.patch(
                        location,
                        content=_chunks(blob[first:second_end], sent, release),
                        headers={
                            "Content-Range": f"{first}-{second_end - 1}",
                            "Content-Length": str(second_end - first),
                            "Content-Type": "application/octet-stream",
                        },
                    )
                )
        except httpx.HTTPError as error:
            outcome.append(error)

    thread = threading.Thread(target=doomed_patch)
    thread.start()
    assert sent.wait(30), "the chunk never started"
    time.sleep(1.0)  # let node 1 take in (and store) what was sent
    node1.process.send_signal(signal.SIGKILL)
    node1.process.wait(timeout=15)
    node1.log_handle.close()
    release.set()
    thread.join(60)
    assert len(outcome) == 1
    assert isinstance(outcome[0], httpx.HTTPError), outcome  # node 1 died mid-request

    with _v2(node2, password(node2, "owner")) as http:
        status = http.get(location)
        assert status.status_code == 204, status.text
        assert status.headers["Docker-Upload-UUID"] == location.rsplit("/", 1)[1]
        last = int(status.headers["Range"].split("-")[1])
        print(f"\nafter SIGKILL node 2 reports Range {status.headers['Range']}")
        # The session holds a prefix of what was sent: the first chunk, plus whatever node 1
        # stored of the second before it died, never less and never more.
        assert first - 1 <= last < second_end, status.headers["Range"]
        rest = http.patch(
            location,
            content=blob[last + 1 :],
            headers={
                "Content-Range": f"{last + 1}-{len(blob) - 1}",
                "Content-Type": "application/octet-stream",
            },
        )
        assert rest.status_code == 202, rest.text
        assert rest.headers["Range"] == f"0-{len(blob) - 1}"
        done = http.put(location, params={"digest": digest})
        assert done.status_code == 201, done.text
        assert done.headers["Docker-Content-Digest"] == digest
        head = http.head(f"/v2/{OWNER}/example/blobs/{digest}")
        assert head.status_code == 200
        assert int(head.headers["Content-Length"]) == len(blob)
    store = S3BlobStore(parse_s3_url(cluster.blob_store))
    assert hashlib.sha256(b"".join(store.read(Digest.parse(digest)))).hexdigest() == digest[7:]

    # Node 1 comes back (a new process on a new port) and serves the blob node 2 committed.
    cluster.nodes[0] = cluster.start_node("node1-restarted")
    with _v2(cluster.nodes[0], password(cluster.nodes[0], "owner")) as http:
        assert http.head(f"/v2/{OWNER}/example/blobs/{digest}").status_code == 200

    fsck = cluster.crossdock(
        "fsck",
        "--data-dir",
        str(cluster.root / "node2" / "data"),
        "--database-url",
        cluster.database,
        "--blob-store",
        cluster.blob_store,
        "--grace",
        "0",
    )
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    assert fsck.stdout.rstrip().endswith(": no problems"), fsck.stdout
