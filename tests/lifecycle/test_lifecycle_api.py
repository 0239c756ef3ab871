"""The five lifecycle operations through boto3 against a real server (SigV4, JSON 1.1)."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from lifecycle_data import policy_text, rule
from lifecycle_server import OWNER, REGION, LifecycleServer, running_server

COUNT, SINCE = "imageCountMoreThan", "sinceImagePushed"
_names = itertools.count(1)
EXAMPLE_A = policy_text(
    rule(1, "tagged", COUNT, 1, prefixes=["prod"], description="Rule 1"),
    rule(2, "tagged", COUNT, 1, prefixes=["beta"], description="Rule 2"),
)


@pytest.fixture(scope="module")
def ls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LifecycleServer]:
    """One server for the module; every test makes its own repository."""
    with running_server(tmp_path_factory.mktemp("lifecycle") / "data") as running:
        yield running


def _repository(ls: LifecycleServer) -> str:
    name = f"lc{next(_names)}"
    ls.client().create_repository(repositoryName=name)
    return name


def _error(call: Callable[[], object]) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return error["Code"], error["Message"]


def _body(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def _digests(ls: LifecycleServer, name: str) -> set[str]:
    images = ls.client().describe_images(repositoryName=name)["imageDetails"]
    return {i["imageDigest"] for i in images}


def test_put_get_delete_round_trip(ls: LifecycleServer) -> None:
    ecr, name = ls.client(), _repository(ls)
    text = policy_text(rule(1, "untagged", SINCE, 14, description="old untagged"))
    put = ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=text)
    expected = {"registryId": OWNER, "repositoryName": name, "lifecyclePolicyText": text}
    assert _body(put) == expected
    assert _body(ecr.get_lifecycle_policy(repositoryName=name)) == expected
    replaced = policy_text(rule(1, "any", COUNT, 3))
    ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=replaced)
    got = ecr.get_lifecycle_policy(registryId=OWNER, repositoryName=name)
    assert got["lifecyclePolicyText"] == replaced
    assert _body(ecr.delete_lifecycle_policy(repositoryName=name)) == {
        **expected,
        "lifecyclePolicyText": replaced,
    }
    missing = (
        "LifecyclePolicyNotFoundException",
        f"Lifecycle policy does not exist for the repository with name '{name}' "
        f"in the registry with id '{OWNER}'",
    )
    assert _error(lambda: ecr.get_lifecycle_policy(repositoryName=name)) == missing
    assert _error(lambda: ecr.delete_lifecycle_policy(repositoryName=name)) == missing
    preview = lambda: ecr.start_lifecycle_policy_preview(repositoryName=name)  # noqa: E731
    assert _error(preview) == missing


def test_invalid_policies_are_refused_with_ecr_texts(ls: LifecycleServer) -> None:
    ecr, name = ls.client(), _repository(ls)
    two_untagged = policy_text(rule(1, "untagged", COUNT, 1), rule(2, "untagged", SINCE, 3))
    put = lambda: ecr.put_lifecycle_policy(  # noqa: E731
        repositoryName=name, lifecyclePolicyText=two_untagged
    )
    assert _error(put) == (
        "InvalidParameterException",
        "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: "
        "'Lifecycle policy validation failure: Only one rule can select Untagged images per "
        "storage class.'",
    )
    huge = policy_text(rule(1, "any", COUNT, 1)) + " " * 30_720
    too_long = lambda: ecr.put_lifecycle_policy(  # noqa: E731
        repositoryName=name, lifecyclePolicyText=huge
    )
    assert _error(too_long) == (
        "InvalidParameterException",
        "Invalid parameter at 'lifecyclePolicyText' failed to satisfy constraint: "
        "'must have length less than or equal to 30720'",
    )
    preview = lambda: ecr.start_lifecycle_policy_preview(  # noqa: E731
        repositoryName=name, lifecyclePolicyText=two_untagged
    )
    assert _error(preview)[0] == "InvalidParameterException"
    assert _error(lambda: ecr.get_lifecycle_policy(repositoryName=name))[0] == (
        "LifecyclePolicyNotFoundException"
    )


def test_a_missing_repository_is_repository_not_found(ls: LifecycleServer) -> None:
    ecr = ls.client()
    text = policy_text(rule(1, "any", COUNT, 1))
    put = lambda: ecr.put_lifecycle_policy(  # noqa: E731
        repositoryName="nothing-here", lifecyclePolicyText=text
    )
    assert _error(put) == (
        "RepositoryNotFoundException",
        f"The repository with name 'nothing-here' does not exist in the registry with id '{OWNER}'",
    )


CALLS: dict[str, Callable[[Any, str], object]] = {
    "PutLifecyclePolicy": lambda ecr, text: ecr.put_lifecycle_policy(
        registryId=OWNER, repositoryName="example", lifecyclePolicyText=text
    ),
    "GetLifecyclePolicy": lambda ecr, _: ecr.get_lifecycle_policy(
        registryId=OWNER, repositoryName="example"
    ),
    "DeleteLifecyclePolicy": lambda ecr, _: ecr.delete_lifecycle_policy(
        registryId=OWNER, repositoryName="example"
    ),
    "StartLifecyclePolicyPreview": lambda ecr, text: ecr.start_lifecycle_policy_preview(
        registryId=OWNER, repositoryName="example", lifecyclePolicyText=text
    ),
    "GetLifecyclePolicyPreview": lambda ecr, _: ecr.get_lifecycle_policy_preview(
        registryId=OWNER, repositoryName="example"
    ),
}


@pytest.mark.parametrize("operation", sorted(CALLS))
def test_each_operation_is_authorized_on_the_repository(
    ls: LifecycleServer, operation: str
) -> None:
    # mallory holds ecr:* in her own account; the owner's repository policy does not
    # name her account, so every call is denied, naming its own action.
    call = CALLS[operation]
    text = policy_text(rule(1, "any", COUNT, 1))
    assert _error(lambda: call(ls.client("mallory"), text)) == (
        "AccessDeniedException",
        f"User: arn:aws:iam::333333333333:user/mallory is not authorized to perform: "
        f"ecr:{operation} on resource: arn:aws:ecr:{REGION}:{OWNER}:repository/example "
        f"because no resource-based policy allows the ecr:{operation} action",
    )


def test_preview_of_the_user_guide_example_a(ls: LifecycleServer) -> None:
    ecr, name = ls.client(), _repository(ls)
    a = ls.push(name, "a", ["beta-1", "prod-1"], days_ago=10)
    ls.push(name, "b", ["beta-2", "prod-2"], days_ago=9)
    ls.push(name, "c", ["beta-3"], days_ago=8)
    missing = _error(lambda: ecr.get_lifecycle_policy_preview(repositoryName=name))
    assert missing == (
        "LifecyclePolicyPreviewNotFoundException",
        f"Lifecycle policy preview does not exist for the repository with name '{name}' "
        f"in the registry with id '{OWNER}'",
    )
    started = ecr.start_lifecycle_policy_preview(repositoryName=name, lifecyclePolicyText=EXAMPLE_A)
    assert _body(started) == {
        "registryId": OWNER,
        "repositoryName": name,
        "lifecyclePolicyText": EXAMPLE_A,
        "status": "COMPLETE",
    }
    preview = ecr.get_lifecycle_policy_preview(repositoryName=name)
    [result] = preview["previewResults"]
    pushed_at = result.pop("imagePushedAt").timestamp()
    assert abs(pushed_at - (time.time() - 10 * 86_400)) < 120
    assert result == {
        "imageTags": ["beta-1", "prod-1"],
        "imageDigest": a,
        "action": {"type": "EXPIRE"},
        "appliedRulePriority": 1,
        "storageClass": "STANDARD",
    }
    assert preview["summary"] == {"expiringImageTotalCount": 1}
    assert preview["status"] == "COMPLETE"
    assert preview["lifecyclePolicyText"] == EXAMPLE_A
    assert len(_digests(ls, name)) == 3  # a preview deletes nothing
    with pytest.raises(ClientError):
        ecr.get_lifecycle_policy(repositoryName=name)  # nor does it store the policy


def test_preview_of_the_stored_policy_and_the_in_progress_guard(ls: LifecycleServer) -> None:
    ecr, name = ls.client(), _repository(ls)
    for n in range(3):
        ls.push(name, f"ip{n}", None, days_ago=3 - n)
    text = policy_text(rule(1, "untagged", COUNT, 1))
    ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=text)
    assert ecr.start_lifecycle_policy_preview(repositoryName=name)["lifecyclePolicyText"] == text
    assert len(ecr.get_lifecycle_policy_preview(repositoryName=name)["previewResults"]) == 2
    # Another node is previewing this repository right now.
    record = ls.server.registry_stores.repositories.get_repository(OWNER, REGION, name)
    assert record is not None
    assert ls.server.registry_stores.lifecycle.begin_lifecycle_preview(
        record.id, text, time.time(), 0.0
    )
    assert _error(lambda: ecr.start_lifecycle_policy_preview(repositoryName=name)) == (
        "LifecyclePolicyPreviewInProgressException",
        f"The previous lifecycle policy preview request for the repository with name '{name}' "
        f"in the registry with id '{OWNER}' has not completed. Wait and try again.",
    )
    running = ecr.get_lifecycle_policy_preview(repositoryName=name)
    assert (running["status"], running["previewResults"]) == ("IN_PROGRESS", [])
    assert "summary" not in running


def test_preview_pages_and_filters(ls: LifecycleServer) -> None:
    ecr, name = ls.client(), _repository(ls)
    untagged = [ls.push(name, f"u{n}", None, days_ago=20 - n) for n in range(4)]
    tagged = [ls.push(name, f"t{n}", [f"v{n}"], days_ago=10 - n) for n in range(3)]
    text = policy_text(rule(1, "any", COUNT, 1))
    ecr.start_lifecycle_policy_preview(repositoryName=name, lifecyclePolicyText=text)
    expiring = untagged + tagged[:2]  # all but the newest, oldest first
    seen: list[str] = []
    token: dict[str, str] = {}
    while True:
        page = ecr.get_lifecycle_policy_preview(repositoryName=name, maxResults=2, **token)
        assert len(page["previewResults"]) <= 2
        assert page["summary"] == {"expiringImageTotalCount": 6}
        seen += [r["imageDigest"] for r in page["previewResults"]]
        if "nextToken" not in page:
            break
        token = {"nextToken": page["nextToken"]}
    assert seen == expiring
    only_untagged = ecr.get_lifecycle_policy_preview(
        repositoryName=name, filter={"tagStatus": "UNTAGGED"}
    )
    assert [r["imageDigest"] for r in only_untagged["previewResults"]] == untagged
    by_id = ecr.get_lifecycle_policy_preview(
        repositoryName=name,
        imageIds=[{"imageTag": "v1"}, {"imageDigest": untagged[0]}, {"imageTag": "v2"}],
    )
    assert [r["imageDigest"] for r in by_id["previewResults"]] == [untagged[0], tagged[1]]
    mixed = lambda: ecr.get_lifecycle_policy_preview(  # noqa: E731
        repositoryName=name, imageIds=[{"imageTag": "v1"}], maxResults=5
    )
    assert _error(mixed) == (
        "InvalidParameterException",
        "Invalid parameter at 'imageIds' failed to satisfy constraint: "
        "'imageIds cannot be combined with nextToken or maxResults'",
    )


def test_a_lifecycle_run_expires_through_the_delete_path(ls: LifecycleServer) -> None:
    ecr, name = ls.client(), _repository(ls)
    old = ls.push(name, "old", ["build-1", "keep"], days_ago=30)
    young = ls.push(name, "young", ["build-2"], days_ago=1)
    untagged = ls.push(name, "dangling", None, days_ago=20)
    text = policy_text(
        rule(1, "tagged", SINCE, 7, patterns=["build-*"]), rule(2, "untagged", SINCE, 14)
    )
    ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=text)
    dry = ls.runner().run(dry_run=True, repository=name)
    assert [i.outcome.value for i in dry.repositories[0].images] == ["would expire"] * 2
    assert _digests(ls, name) == {old, young, untagged}
    assert "lastEvaluatedAt" not in ecr.get_lifecycle_policy(repositoryName=name)
    report = ls.runner().run(repository=name)
    [run] = report.repositories
    assert [(i.expiry.image.digest, i.expiry.rule_priority) for i in run.images] == [
        (old, 1),
        (untagged, 2),
    ]
    assert report.expired == 2
    assert _digests(ls, name) == {young}
    listed = ecr.list_images(repositoryName=name)["imageIds"]
    assert listed == [{"imageDigest": young, "imageTag": "build-2"}]
    missing = ecr.batch_get_image(repositoryName=name, imageIds=[{"imageTag": "keep"}])
    assert missing["failures"][0]["failureCode"] == "ImageNotFound"
    evaluated = ecr.get_lifecycle_policy(repositoryName=name)["lastEvaluatedAt"].timestamp()
    assert abs(evaluated - time.time()) < 60
    assert ls.runner().run(repository=name).expired == 0


def test_deleting_the_repository_deletes_its_policy(ls: LifecycleServer) -> None:
    ecr, name = ls.client(), _repository(ls)
    text = policy_text(rule(1, "any", COUNT, 1))
    ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=text)
    ecr.delete_repository(repositoryName=name)
    ecr.create_repository(repositoryName=name)
    assert _error(lambda: ecr.get_lifecycle_policy(repositoryName=name))[0] == (
        "LifecyclePolicyNotFoundException"
    )
    assert name not in {t.name for t in ls.runner().targets()}


def test_images_an_index_references_wait_for_the_index(ls: LifecycleServer) -> None:
    ecr, name = ls.client(), _repository(ls)
    child = ls.push(name, "child", None, days_ago=40)
    ls.push_index(name, [child], "multi", days_ago=30)
    # The index is kept (tagged, not selected): its untagged child cannot go.
    untagged_only = policy_text(rule(1, "untagged", SINCE, 1))
    ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=untagged_only)
    [run] = ls.runner().run(repository=name).repositories
    assert [i.outcome.value for i in run.images] == [
        "kept: an image index in the repository references it"
    ]
    assert child in _digests(ls, name)
    # When the index expires in the same run, the child follows it.
    everything = policy_text(rule(1, "any", SINCE, 1))
    ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=everything)
    [run] = ls.runner().run(repository=name).repositories
    assert [i.outcome.value for i in run.images] == ["expired", "expired"]
    assert _digests(ls, name) == set()


def test_policy_text_is_returned_as_given(ls: LifecycleServer) -> None:
    ecr, name = ls.client(), _repository(ls)
    compact = json.dumps(
        {"rules": [rule(1, "any", SINCE, 30, description="a month, as written: ünïcode")]},
        ensure_ascii=False,
    )
    ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=compact)
    assert ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"] == compact


def test_data_dir_survives_a_restart(tmp_path: Path) -> None:
    with running_server(tmp_path / "data") as first:
        name = _repository(first)
        text = policy_text(rule(1, "any", COUNT, 2))
        first.client().put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=text)
    with running_server(tmp_path / "data") as second:
        got = second.client().get_lifecycle_policy(repositoryName=name)
        assert got["lifecyclePolicyText"] == text
