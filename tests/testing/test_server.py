"""``crossdock.testing.start_server``: principals, registry credentials and assertions."""

from __future__ import annotations

import copy
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from crossdock.service.access.errors import AccessInputError
from crossdock.testing import CrossdockServer, PrincipalLookupError, start_server

SHARING = Path(__file__).resolve().parents[2] / "examples" / "testing" / "sharing.yaml"
CI_ROLE = "arn:aws:iam::222222222222:role/ci-puller"
ALICE = "arn:aws:iam::222222222222:user/alice"
BOB = "arn:aws:iam::222222222222:user/bob"
MALLORY = "arn:aws:iam::333333333333:user/mallory"


def _scenario() -> dict[str, Any]:
    """sharing.yaml plus an explicit deny of 333333333333 in the repository policy."""
    document: dict[str, Any] = copy.deepcopy(yaml.safe_load(SHARING.read_text()))
    app = document["accounts"][0]["repositories"][0]
    app["policy"]["Statement"].append(
        {
            "Sid": "NeverMallory",
            "Effect": "Deny",
            "Principal": {"AWS": "arn:aws:iam::333333333333:root"},
            "Action": "ecr:*",
        }
    )
    return document


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrossdockServer]:
    with start_server(_scenario(), tmp_path_factory.mktemp("testing")) as running:
        yield running


def test_a_role_session_comes_from_a_principal_its_trust_lets_in(
    server: CrossdockServer,
) -> None:
    identity = server.client("sts", CI_ROLE).get_caller_identity()
    assert identity["Arn"] == "arn:aws:sts::222222222222:assumed-role/ci-puller/crossdock-testing"
    named = "arn:aws:sts::222222222222:assumed-role/ci-puller/nightly"
    assert server.client("sts", named).get_caller_identity()["Arn"] == named
    via = server.client("sts", CI_ROLE, via=ALICE).get_caller_identity()
    assert via["Arn"].startswith("arn:aws:sts::222222222222:assumed-role/ci-puller/")


def test_a_role_nobody_may_assume_is_reported(server: CrossdockServer) -> None:
    with pytest.raises(PrincipalLookupError) as error:
        server.credentials(CI_ROLE, via=MALLORY)
    assert str(error.value) == (
        "no principal of the scenario may assume arn:aws:iam::222222222222:role/ci-puller; "
        f"tried {MALLORY} (AccessDenied): pass via= a principal its trust policy allows"
    )


def test_a_user_without_a_key_in_the_scenario_gets_one(server: CrossdockServer) -> None:
    arn = server.client("sts", BOB).get_caller_identity()["Arn"]
    assert arn == BOB
    assert server.credentials(BOB) == server.credentials(BOB)  # made once


def test_registry_credentials_log_in_to_v2(server: CrossdockServer) -> None:
    login = server.registry_credentials(CI_ROLE)
    assert (login.registry, login.username) == (server.registry, "AWS")
    request = urllib.request.Request(
        f"{server.url}/v2/", headers={"Authorization": f"Basic {login.auth}"}
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 200


def test_sessions_use_the_server_for_every_client(server: CrossdockServer) -> None:
    session = server.session("111111111111")
    names = [
        r["repositoryName"] for r in session.client("ecr").describe_repositories()["repositories"]
    ]
    assert names == ["app"]


def test_exact_outcomes(server: CrossdockServer) -> None:
    server.assert_access(MALLORY, "pull", "app", "ExplicitlyDenied")
    server.assert_access(BOB, "ecr:BatchGetImage", "111111111111/app", "ImplicitlyDenied")
    with pytest.raises(AssertionError) as failed:
        server.assert_access(MALLORY, "pull", "app", "ImplicitlyDenied")
    message = str(failed.value)
    assert message.startswith(
        f"expected {MALLORY} pull arn:aws:ecr:us-east-1:111111111111:repository/app: "
        "ImplicitlyDenied, but crossdock explains: ExplicitlyDenied\n"
    )
    assert "NeverMallory" in message


def test_repositories_by_name_path_uri_and_arn(server: CrossdockServer) -> None:
    arn = "arn:aws:ecr:us-east-1:111111111111:repository/app"
    for value in ("app", "111111111111/app", server.image("app"), server.image("app", "v2"), arn):
        assert server.repository_arn(value) == arn


def test_bad_input_is_explained(server: CrossdockServer) -> None:
    with pytest.raises(ValueError, match="expected must be True, False, 'allow'"):
        server.assert_access(BOB, "pull", "app", "maybe")
    with pytest.raises(AccessInputError, match="the principal `arn:aws:iam::222222222222:user/"):
        server.assert_access("arn:aws:iam::222222222222:user/nobody", "pull", "app", False)
    with pytest.raises(AccessInputError, match="`ecr:Fly` is not an ECR action"):
        server.assert_access(BOB, "ecr:Fly", "app", False)
    with pytest.raises(PrincipalLookupError, match="`alice` is not a principal"):
        server.credentials("alice")
