"""Planning and applying a share over fake sides: idempotence, rollback, unshare."""

from __future__ import annotations

import json
from typing import Any

import pytest

from crossdock.service.share import (
    IdentityMode,
    ManagedPolicy,
    ShareSideError,
    apply,
    plan,
)
from crossdock.service.share_policy import (
    RepositoryRef,
    ShareConflictError,
    TargetKind,
    make_request,
)

REPO = RepositoryRef("111111111111", "us-east-1", "example")
UNRELATED = {
    "Version": "2008-10-17",
    "Statement": [{"Sid": "Keep", "Effect": "Allow", "Principal": "*", "Action": "ecr:ListImages"}],
}


class FakeRepository:
    def __init__(self, text: str | None) -> None:
        self.text = text
        self.writes: list[str] = []

    def get_policy(self, repository: RepositoryRef) -> str | None:
        return self.text

    def set_policy(self, repository: RepositoryRef, text: str) -> None:
        self.writes.append("set")
        self.text = text

    def delete_policy(self, repository: RepositoryRef) -> None:
        self.writes.append("delete")
        self.text = None


class FakeIdentity:
    def __init__(self, fail_on: str | None = None) -> None:
        self.policies: dict[str, dict[str, Any]] = {}
        self.attached: set[tuple[str, str]] = set()
        self.writes: list[str] = []
        self.fail_on = fail_on

    def _write(self, what: str) -> None:
        if what == self.fail_on:
            raise ShareSideError(f"{what}: AccessDenied: no")
        self.writes.append(what)

    def get_policy(self, arn: str) -> ManagedPolicy | None:
        if arn not in self.policies:
            return None
        count = sum(1 for _, a in self.attached if a == arn)
        return ManagedPolicy(arn, self.policies[arn], count)

    def create_policy(self, name: str, document: str) -> None:
        self._write("create")
        self.policies[f"arn:aws:iam::222222222222:policy/{name}"] = json.loads(document)

    def delete_policy(self, arn: str) -> None:
        self._write("delete")
        del self.policies[arn]

    def is_attached(self, kind: TargetKind, name: str, arn: str) -> bool:
        return (name, arn) in self.attached

    def attach(self, kind: TargetKind, name: str, arn: str) -> None:
        self._write("attach")
        self.attached.add((name, arn))

    def detach(self, kind: TargetKind, name: str, arn: str) -> None:
        self._write("detach")
        self.attached.discard((name, arn))


def _user_share() -> Any:
    return make_request(REPO, "arn:aws:iam::222222222222:user/puller", False, None)


def test_share_writes_both_sides_and_a_second_run_writes_nothing() -> None:
    repo, iam = FakeRepository(json.dumps(UNRELATED)), FakeIdentity()
    first = plan(_user_share(), repo, iam)
    assert first.identity_mode is IdentityMode.WRITE
    assert first.changed
    result = apply(first, repo, iam)
    assert result.ok
    assert repo.writes == ["set"]
    assert iam.writes == ["create", "attach"]
    assert json.loads(repo.text or "")["Statement"][0] == UNRELATED["Statement"][0]

    second = plan(_user_share(), repo, iam)
    assert not second.changed
    assert apply(second, repo, iam).applied == []
    assert repo.writes == ["set"]
    assert iam.writes == ["create", "attach"]


def test_unshare_restores_the_repository_policy_and_removes_the_identity_side() -> None:
    original = json.dumps(UNRELATED)
    repo, iam = FakeRepository(original), FakeIdentity()
    apply(plan(_user_share(), repo, iam), repo, iam)
    result = apply(plan(_user_share(), repo, iam, unshare=True), repo, iam)
    assert result.ok
    assert json.loads(repo.text or "") == UNRELATED
    assert iam.policies == {}
    assert iam.attached == set()
    assert iam.writes[-2:] == ["detach", "delete"]


def test_unshare_on_a_repository_without_other_statements_deletes_the_policy() -> None:
    repo, iam = FakeRepository(None), FakeIdentity()
    apply(plan(_user_share(), repo, iam), repo, iam)
    apply(plan(_user_share(), repo, iam, unshare=True), repo, iam)
    assert repo.text is None
    assert repo.writes == ["set", "delete"]


def test_a_failing_identity_side_rolls_the_repository_policy_back_exactly() -> None:
    original = json.dumps(UNRELATED)
    repo, iam = FakeRepository(original), FakeIdentity(fail_on="attach")
    result = apply(plan(_user_share(), repo, iam), repo, iam)
    assert not result.ok
    assert result.failure is not None
    assert result.failure.startswith("could not attach")
    assert repo.text == original  # the very text read before, not a re-serialization
    assert iam.policies == {}
    assert result.rolled_back == [
        "deleted arn:aws:iam::222222222222:policy/crossdock-pull-111111111111-example",
        f"restored the previous repository policy of {REPO.arn}",
    ]


def test_rollback_deletes_a_repository_policy_that_did_not_exist() -> None:
    repo, iam = FakeRepository(None), FakeIdentity(fail_on="create")
    result = apply(plan(_user_share(), repo, iam), repo, iam)
    assert not result.ok
    assert repo.text is None
    assert repo.writes == ["set", "delete"]


def test_an_identity_policy_with_other_content_is_not_overwritten() -> None:
    repo, iam = FakeRepository(None), FakeIdentity()
    arn = "arn:aws:iam::222222222222:policy/crossdock-pull-111111111111-example"
    iam.policies[arn] = {"Version": "2012-10-17", "Statement": []}
    with pytest.raises(ShareConflictError, match="exists with other content"):
        plan(_user_share(), repo, iam)
    assert repo.writes == []
    assert iam.writes == []


def test_without_consumer_credentials_the_identity_policy_is_printed() -> None:
    repo = FakeRepository(None)
    planned = plan(make_request(REPO, "222222222222", False, None), repo, None)
    assert planned.identity_mode is IdentityMode.PRINT
    assert planned.identity is not None
    assert planned.identity.after is not None
    assert any("no credentials for 222222222222" in note for note in planned.notes)
    assert apply(planned, repo, None).applied == [f"set the repository policy of {REPO.arn}"]


def test_unshare_keeps_an_identity_policy_still_attached_elsewhere() -> None:
    repo, iam = FakeRepository(None), FakeIdentity()
    apply(plan(_user_share(), repo, iam), repo, iam)
    other = make_request(REPO, "arn:aws:iam::222222222222:user/other", False, None)
    apply(plan(other, repo, iam), repo, iam)
    apply(plan(_user_share(), repo, iam, unshare=True), repo, iam)
    assert len(iam.policies) == 1
    assert [name for name, _ in iam.attached] == ["other"]
