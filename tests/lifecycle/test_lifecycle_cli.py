"""``crossdock lifecycle run`` on a data dir, and ``crossdock serve --lifecycle-interval``
driven by the unmodified AWS CLI v1."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from lifecycle_data import policy_text, rule
from lifecycle_server import KEYS, OWNER, REGION, WALKTHROUGH, running_server

from crossdock.testing.process import ServeProcess, start_serve

COUNT, SINCE = "imageCountMoreThan", "sinceImagePushed"


def _crossdock(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crossdock", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data dir whose repository `apps` holds three images and a lifecycle policy."""
    directory = tmp_path / "data"
    with running_server(directory) as ls:
        ecr = ls.client()
        ecr.create_repository(repositoryName="apps")
        ls.push("apps", "old", ["v1"], days_ago=30)
        ls.push("apps", "older", None, days_ago=40)
        ls.push("apps", "new", ["v2"], days_ago=1)
        text = policy_text(rule(1, "any", SINCE, 7))
        ecr.put_lifecycle_policy(repositoryName="apps", lifecyclePolicyText=text)
    return directory


def test_lifecycle_run_dry_run_then_for_real(data_dir: Path) -> None:
    where = ["--data-dir", str(data_dir)]
    dry = _crossdock("lifecycle", "run", *where, "--dry-run", "--format", "json")
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert report["dryRun"] is True
    assert report["expired"] == 0
    [repository] = report["repositories"]
    assert (repository["registryId"], repository["repositoryName"]) == (OWNER, "apps")
    images = repository["images"]
    assert [(i["imageTags"], i["outcome"]) for i in images] == [
        ([], "would expire"),
        (["v1"], "would expire"),
    ]
    assert {i["appliedRulePriority"] for i in images} == {1}

    other = _crossdock("lifecycle", "run", *where, "--repository", "none")
    assert other.returncode == 0, other.stderr
    assert other.stdout == "expired 0 image(s) in 0 repository(ies)\n"

    done = _crossdock("lifecycle", "run", *where)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"{OWNER}/{REGION}/apps: 2 image(s) selected by the policy"
    assert lines[1].startswith("  expired: sha256:")
    assert "[untagged]" in lines[1]
    assert lines[2].startswith("  expired: sha256:")
    assert "[v1]" in lines[2]
    assert lines[-1] == "expired 2 image(s) in 1 repository(ies)"

    again = _crossdock("lifecycle", "run", *where, "--format", "json")
    assert json.loads(again.stdout)["repositories"][0]["images"] == []


def test_lifecycle_run_needs_a_data_dir(tmp_path: Path) -> None:
    done = _crossdock("lifecycle", "run", "--data-dir", str(tmp_path / "missing"))
    assert done.returncode == 2
    assert done.stderr == (
        f"error: the data dir `{tmp_path / 'missing'}` does not exist; pass --data-dir DIR\n"
    )


# --- crossdock serve + AWS CLI v1 -------------------------------------------------------


def _aws_cli_v1() -> str:
    configured = os.environ.get("CROSSDOCK_AWS_CLI_V1")
    local = Path(__file__).resolve().parents[2] / ".venv-awscli1" / "bin" / "aws"
    found = configured or str(local)
    assert Path(found).exists(), f"AWS CLI v1 not found at {found}: run ./scripts/test"
    return found


def _aws(server: ServeProcess, *args: str) -> dict[str, Any]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_ACCESS_KEY_ID": KEYS["owner"][0],
        "AWS_SECRET_ACCESS_KEY": KEYS["owner"][1],
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PAGER": "",
    }
    done = subprocess.run(
        [_aws_cli_v1(), "ecr", *args, "--endpoint-url", server.url, "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _push(ecr: Any, name: str, seed: str, tag: str) -> str:
    """Push one image through the ECR layer API (real time); its digest."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed}).encode()
    layer = f"layer {seed}".encode()
    descriptors = []
    for data, media_type in (
        (config, "application/vnd.oci.image.config.v1+json"),
        (layer, "application/vnd.oci.image.layer.v1.tar"),
    ):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        upload = ecr.initiate_layer_upload(repositoryName=name)["uploadId"]
        ecr.upload_layer_part(
            repositoryName=name,
            uploadId=upload,
            partFirstByte=0,
            partLastByte=len(data) - 1,
            layerPartBlob=data,
        )
        ecr.complete_layer_upload(repositoryName=name, uploadId=upload, layerDigests=[digest])
        descriptors.append({"mediaType": media_type, "digest": digest, "size": len(data)})
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": descriptors[0],
            "layers": descriptors[1:],
        }
    )
    image = ecr.put_image(repositoryName=name, imageManifest=manifest, imageTag=tag)["image"]
    return str(image["imageId"]["imageDigest"])


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[ServeProcess]:
    """``crossdock serve`` applying lifecycle policies every second."""
    args = ["--scenario", str(WALKTHROUGH), "--lifecycle-interval", "1s", "--no-trail"]
    running = start_serve(tmp_path, args)
    try:
        yield running
    finally:
        running.stop()


def test_serve_expires_images_on_its_schedule_and_the_aws_cli_sees_it(
    serve: ServeProcess,
) -> None:
    key, secret = KEYS["owner"]
    ecr = boto3.session.Session().client(
        "ecr",
        endpoint_url=serve.url,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )
    ecr.create_repository(repositoryName="ci")
    pushed = [_push(ecr, "ci", f"build{n}", f"build-{n}") for n in range(3)]
    text = ["put-lifecycle-policy", "--repository-name", "ci", "--lifecycle-policy-text"]

    lenient = policy_text(rule(1, "tagged", COUNT, 5, patterns=["build-*"]))
    put = _aws(serve, *text, lenient)
    assert put == {"registryId": OWNER, "repositoryName": "ci", "lifecyclePolicyText": lenient}

    strict = policy_text(rule(1, "tagged", COUNT, 1, patterns=["build-*"]))
    preview_args = ["start-lifecycle-policy-preview", "--repository-name", "ci"]
    started = _aws(serve, *preview_args, "--lifecycle-policy-text", strict)
    assert started["status"] == "COMPLETE"
    preview = _aws(serve, "get-lifecycle-policy-preview", "--repository-name", "ci")
    assert [r["imageDigest"] for r in preview["previewResults"]] == pushed[:2]
    assert [r["imageTags"] for r in preview["previewResults"]] == [["build-0"], ["build-1"]]
    assert preview["summary"] == {"expiringImageTotalCount": 2}
    assert len(ecr.list_images(repositoryName="ci")["imageIds"]) == 3

    _aws(serve, *text, strict)
    deadline = time.monotonic() + 20
    while len(ecr.list_images(repositoryName="ci")["imageIds"]) > 1:
        assert time.monotonic() < deadline, "the scheduled lifecycle run did not expire"
        time.sleep(0.2)
    assert ecr.list_images(repositoryName="ci")["imageIds"] == [
        {"imageDigest": pushed[2], "imageTag": "build-2"}
    ]
    got = _aws(serve, "get-lifecycle-policy", "--repository-name", "ci")
    assert got["lifecyclePolicyText"] == strict
    assert "lastEvaluatedAt" in got
