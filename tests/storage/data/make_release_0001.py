"""Regenerate ``release-0001-sqlite.sql`` and ``release-0001-secret.key`` with the previous release.

The fixture of ``tests/storage/test_release_upgrade.py`` must be written by the previous
release's own code (commit d957199, schema revision ``0001``), not by today's. Run from
the repository root::

    git worktree add /tmp/rel0001 d957199
    PYTHONPATH=/tmp/rel0001/src .venv/bin/python tests/storage/data/make_release_0001.py
    git worktree remove /tmp/rel0001

It starts that release's ``crossdock serve`` with the walkthrough scenario, adds what the
scenario does not cover (a tagged repository, a managed policy, a role, an image with two
tags) through the AWS APIs and ``/v2/``, stops it and dumps the SQLite database.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
import httpx

import crossdock

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from serve_process import start_server, stop_server  # noqa: E402
from walkthrough import WALKTHROUGH, keys  # noqa: E402

OWNER, CONSUMER = "111111111111", "222222222222"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _client(url: str, service: str, who: str) -> object:
    key_id, secret = keys(who)
    return boto3.session.Session().client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
    )


def _populate(url: str) -> None:
    ecr = _client(url, "ecr", "owner")
    ecr.create_repository(  # type: ignore[attr-defined]
        repositoryName="team/app",
        imageTagMutability="IMMUTABLE",
        tags=[{"Key": "team", "Value": "blue"}],
    )
    iam = _client(url, "iam", "consumer")
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ecr:DescribeImages", "Resource": "*"}],
    }
    policy = iam.create_policy(  # type: ignore[attr-defined]
        PolicyName="DescribeImages", PolicyDocument=json.dumps(document)
    )
    iam.attach_user_policy(  # type: ignore[attr-defined]
        UserName="puller", PolicyArn=policy["Policy"]["Arn"]
    )
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
    iam.create_role(  # type: ignore[attr-defined]
        RoleName="deployer",
        AssumeRolePolicyDocument=json.dumps(trust),
        Tags=[{"Key": "env", "Value": "prod"}],
    )

    token = ecr.get_authorization_token()["authorizationData"][0]  # type: ignore[attr-defined]
    secret = base64.b64decode(token["authorizationToken"]).decode().partition(":")[2]
    basic = base64.b64encode(f"AWS:{secret}".encode()).decode()
    layer = b"release 0001 layer\n" * 64
    config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
    with httpx.Client(base_url=url, headers={"Authorization": f"Basic {basic}"}) as http:
        for blob in (layer, config):
            started = http.post(f"/v2/{OWNER}/example/blobs/uploads/")
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
        for tag in ("v1", "latest"):
            put = http.put(
                f"/v2/{OWNER}/example/manifests/{tag}",
                content=manifest,
                headers={"Content-Type": MANIFEST},
            )
            assert put.status_code == 201, put.text
    print(f"image {_digest(manifest)} tagged v1 and latest")


def main() -> None:
    """Write the fixture files next to this script."""
    source = Path(crossdock.__file__).resolve().parents[1]
    if source == ROOT / "src":
        sys.exit("run with PYTHONPATH=<worktree of d957199>/src (see the docstring)")
    with tempfile.TemporaryDirectory() as temp:
        (Path(temp) / "node").mkdir()
        data_dir = Path(temp) / "node" / "data"
        server = start_server(data_dir, "--scenario", str(WALKTHROUGH))
        try:
            _populate(server.url)
        finally:
            stop_server(server)
        time.sleep(0.2)
        database = sqlite3.connect(data_dir / "crossdock.db")
        try:
            revision = database.execute("SELECT version_num FROM alembic_version").fetchone()
            assert revision == ("0001",), revision
            dump = "\n".join(database.iterdump()) + "\n"
        finally:
            database.close()
        (HERE / "release-0001-sqlite.sql").write_text(dump)
        shutil.copyfile(data_dir / "secret.key", HERE / "release-0001-secret.key")
    commit = subprocess.run(
        ["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    print(f"wrote the fixture with the code of {commit or source}")


if __name__ == "__main__":
    main()
