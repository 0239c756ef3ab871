"""``crossdock explain`` for each kind of denial: the right policy and statement, the
AWS error text, and a fix that, applied to the scenario, makes every action Allowed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest
from access_scenario import apply_to, scenario_data
from click.testing import CliRunner

from crossdock.cli.access_common import open_access
from crossdock.cli.main import cli
from crossdock.service.access.context import AccessContext
from crossdock.service.access.explain_live import LiveExplanation, explain_live
from crossdock.service.ecr.common import RepositoryRef

OWNER, CONSUMER, SANDBOX = "111111111111", "222222222222", "333333333333"
APP = RepositoryRef(OWNER, "us-east-1", "app")
TOOLS = RepositoryRef(OWNER, "us-east-1", "tools")
LOCKED = RepositoryRef(OWNER, "us-east-1", "locked")


def _account(data: dict[str, Any], account_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(a for a in data["accounts"] if a["id"] == account_id)
    return found


def _named(entries: list[dict[str, Any]], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(e for e in entries if e["name"] == name)
    return found


def _scps(data: dict[str, Any]) -> list[dict[str, Any]]:
    units = list(data["organization"].get("units", []))
    found = list(data["organization"].get("scps", []))
    while units:
        unit = units.pop()
        found.extend(unit.get("scps", []))
        units.extend(unit.get("units", []))
    return found


def _document(data: dict[str, Any], step: dict[str, Any]) -> dict[str, Any]:
    """The scenario's policy document a fix step names (created when it is new)."""
    new = {"Version": "2012-10-17", "Statement": []}
    if "repositoryArn" in step:
        _, _, _, _, account, resource = step["repositoryArn"].split(":", 5)
        repository = _named(_account(data, account)["repositories"], resource[11:])
        document: dict[str, Any] = repository.setdefault("policy", new)
        return document
    if "inlinePolicyName" in step:
        _, _, _, _, account, resource = step["principalArn"].split(":", 5)
        kind, _, name = resource.partition("/")
        owner = _named(_account(data, account)[kind + "s"], name)
        policies = owner.setdefault("policies", [])
        name = step["inlinePolicyName"]
        if not any(p["name"] == name for p in policies):
            policies.append({"name": name, "document": new})
        return cast(dict[str, Any], _named(policies, name)["document"])
    if "scpName" in step:
        return cast(dict[str, Any], _named(_scps(data), step["scpName"])["document"])
    _, _, _, _, account, resource = step["policyArn"].split(":", 5)
    managed = _named(_account(data, account)["managed_policies"], resource.split("/")[-1])
    return cast(dict[str, Any], managed["document"])


def apply_fix(data: dict[str, Any], fix: dict[str, Any]) -> None:
    """Apply every step of the fix's JSON form to the scenario data."""
    for step in fix["steps"]:
        document = _document(data, step)
        if step["change"] == "add-statement":
            document["Statement"].append(step["statement"])
        else:
            sid = step["statement"]["Sid"]
            document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != sid]


def _explain(context: AccessContext, principal: str, repo: RepositoryRef) -> LiveExplanation:
    return explain_live(context, principal, repo, "pull")


def _fixed(tmp_path: Path, principal: str, repo: RepositoryRef, fix: dict[str, Any]) -> str:
    data = scenario_data()
    apply_fix(data, fix)
    with open_access(apply_to(tmp_path / "fixed", data), None) as context:
        return _explain(context, principal, repo).access.value


def _denied(explanation: LiveExplanation) -> dict[str, tuple[str, str | None]]:
    return {
        a.result.action: (a.explanation.decision, a.explanation.message)
        for a in explanation.actions
        if not a.result.decision.allowed
    }


def _message(principal: str, action: str, resource: str, tail: str) -> str:
    return (
        f"User: {principal} is not authorized to perform: {action} on resource: {resource} {tail}"
    )


def test_no_identity_side(org: AccessContext, tmp_path: Path) -> None:
    visitor = f"arn:aws:iam::{CONSUMER}:user/visitor"
    explanation = _explain(org, visitor, APP)
    denied = _denied(explanation)
    assert set(denied) == {
        "ecr:GetAuthorizationToken",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchCheckLayerAvailability",
    }
    assert denied["ecr:BatchGetImage"] == (
        "ImplicitlyDenied",
        _message(
            visitor,
            "ecr:BatchGetImage",
            APP.arn,
            "because no identity-based policy allows the ecr:BatchGetImage action",
        ),
    )
    assert explanation.aws_error == "AccessDeniedException: " + _message(
        visitor,
        "ecr:GetAuthorizationToken",
        "*",
        "because no identity-based policy allows the ecr:GetAuthorizationToken action",
    )
    fix = explanation.fix
    assert fix is not None
    assert fix.verified
    steps = fix.to_json()["steps"]
    assert [(s["policyType"], s["principalArn"], s["inlinePolicyName"]) for s in steps] == [
        ("identity-based policy", visitor, "crossdock-access-app")
    ] * 2
    assert [s["statement"]["Resource"] for s in steps] == ["*", APP.arn]
    assert _fixed(tmp_path, visitor, APP, fix.to_json()) == "allowed"


def test_no_resource_side(org: AccessContext, tmp_path: Path) -> None:
    puller = f"arn:aws:iam::{CONSUMER}:user/puller"
    explanation = _explain(org, puller, TOOLS)
    denied = _denied(explanation)
    assert "ecr:GetAuthorizationToken" not in denied
    assert denied["ecr:GetDownloadUrlForLayer"] == (
        "ImplicitlyDenied",
        _message(
            puller,
            "ecr:GetDownloadUrlForLayer",
            TOOLS.arn,
            "because no resource-based policy allows the ecr:GetDownloadUrlForLayer action",
        ),
    )
    fix = explanation.fix
    assert fix is not None
    assert fix.verified
    [step] = fix.to_json()["steps"]
    assert step["change"] == "add-statement"
    assert step["repositoryArn"] == TOOLS.arn
    assert step["statement"] == {
        "Sid": f"AllowUserPuller{CONSUMER}",
        "Effect": "Allow",
        "Principal": {"AWS": puller},
        "Action": [
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer",
            "ecr:BatchCheckLayerAvailability",
        ],
    }
    assert _fixed(tmp_path, puller, TOOLS, fix.to_json()) == "allowed"


def test_scp_deny(org: AccessContext, tmp_path: Path) -> None:
    dev = f"arn:aws:iam::{SANDBOX}:user/dev"
    explanation = _explain(org, dev, APP)
    assert set(_denied(explanation)) == {"ecr:BatchGetImage"}
    [denied] = [a for a in explanation.actions if not a.result.decision.allowed]
    [label] = denied.explanation.decisive
    assert label.endswith("#NoPullInSandbox")
    assert denied.explanation.message == _message(
        dev, "ecr:BatchGetImage", APP.arn, "with an explicit deny in a service control policy"
    )
    fix = explanation.fix
    assert fix is not None
    assert fix.verified
    [step] = fix.to_json()["steps"]
    assert (step["change"], step["scpName"], step["attachedTo"], step["removeStatement"]) == (
        "remove-statement",
        "DenyEcrPull",
        "ou-ex01-sand0001",
        label,
    )
    assert _fixed(tmp_path, dev, APP, fix.to_json()) == "allowed"


def test_permissions_boundary_of_a_session(org: AccessContext, tmp_path: Path) -> None:
    session = f"arn:aws:sts::{CONSUMER}:assumed-role/restricted/build-7"
    explanation = _explain(org, session, APP)
    assert explanation.principal.label == "session build-7 of role restricted"
    denied = _denied(explanation)
    assert set(denied) == {
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchCheckLayerAvailability",
    }
    assert denied["ecr:BatchGetImage"][1] == _message(
        session,
        "ecr:BatchGetImage",
        APP.arn,
        "because no permissions boundary allows the ecr:BatchGetImage action",
    )
    fix = explanation.fix
    assert fix is not None
    assert fix.verified
    [step] = fix.to_json()["steps"]
    boundary = f"arn:aws:iam::{CONSUMER}:policy/LoginOnlyBoundary"
    assert (step["policyType"], step["policyArn"]) == ("permissions boundary", boundary)
    assert step["statement"]["Resource"] == APP.arn
    assert _fixed(tmp_path, session, APP, fix.to_json()) == "allowed"


def test_explicit_deny_in_the_repository_policy(org: AccessContext, tmp_path: Path) -> None:
    puller = f"arn:aws:iam::{CONSUMER}:user/puller"
    explanation = _explain(org, puller, LOCKED)
    denied = _denied(explanation)
    assert denied["ecr:BatchGetImage"] == (
        "ExplicitlyDenied",
        _message(
            puller,
            "ecr:BatchGetImage",
            LOCKED.arn,
            "with an explicit deny in a resource-based policy",
        ),
    )
    label = f"{LOCKED.arn} repository policy#DenyPuller"
    assert all(
        a.explanation.decisive == (label,)
        for a in explanation.actions
        if not a.result.decision.allowed
    )
    fix = explanation.fix
    assert fix is not None
    assert fix.verified
    [step] = fix.to_json()["steps"]
    assert (step["change"], step["repositoryArn"], step["removeStatement"]) == (
        "remove-statement",
        LOCKED.arn,
        label,
    )
    assert _fixed(tmp_path, puller, LOCKED, fix.to_json()) == "allowed"


def test_an_allowed_push_has_no_fix(org: AccessContext) -> None:
    session = f"arn:aws:sts::{CONSUMER}:assumed-role/ci/build-42"
    explanation = explain_live(org, session, APP, "push")
    assert explanation.access.value == "allowed"
    assert explanation.fix is None
    assert explanation.aws_error is None
    assert [a.result.action for a in explanation.actions][-1] == "ecr:BatchGetImage"


@pytest.mark.parametrize(
    "image",
    [
        f"{OWNER}.dkr.ecr.us-east-1.example.test:5000/app:latest",
        f"127.0.0.1:5000/{OWNER}/app@sha256:{'0' * 64}",
    ],
)
def test_cli_text_and_json(org_dir: Path, image: str) -> None:
    visitor = f"arn:aws:iam::{CONSUMER}:user/visitor"
    args = ["explain", "--principal", visitor, "--image", image, "--data-dir", str(org_dir)]
    text = CliRunner().invoke(cli, args)
    assert text.exit_code == 0, text.output
    assert f"resource:  {APP.arn}" in text.output
    assert "result:    DENIED (4 of 4 actions denied)" in text.output
    assert "smallest fix (every action is Allowed with it):" in text.output
    single = CliRunner().invoke(cli, [*args, "--format", "json", "--action", "ecr:BatchGetImage"])
    document = json.loads(single.output)
    assert document["request"] == "ecr:BatchGetImage"
    assert [a["decision"] for a in document["actions"]] == ["ImplicitlyDenied"]
