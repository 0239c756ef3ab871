"""Check a cross-account sharing setup offline, with the crossdock pytest plugin.

Run it with ``pytest examples/testing/test_my_sharing.py`` in an environment where
crossdock is installed (``pip install crossdock``): the plugin is loaded automatically.
Each test gets a fresh ``crossdock serve`` on a free 127.0.0.1 port, started from the
scenario named by the marker below.
"""

from __future__ import annotations

import urllib.request

import pytest
from botocore.exceptions import ClientError

from crossdock.testing import CrossdockServer

pytestmark = pytest.mark.crossdock_scenario("sharing.yaml")

OWNER_ROOT = "arn:aws:iam::111111111111:root"
CI_ROLE = "arn:aws:iam::222222222222:role/ci-puller"
BOB = "arn:aws:iam::222222222222:user/bob"
MALLORY = "arn:aws:iam::333333333333:user/mallory"


def test_the_ci_role_can_pull_but_not_push(crossdock_server: CrossdockServer) -> None:
    crossdock_server.assert_access(CI_ROLE, "pull", "app", True)
    crossdock_server.assert_access(CI_ROLE, "push", "app", False)


def test_who_can_do_what(crossdock_server: CrossdockServer) -> None:
    crossdock_server.assert_access_matrix(
        {
            "111111111111/app": {
                OWNER_ROOT: "pull,push",
                CI_ROLE: "pull",
                BOB: "none",  # the owner shares with the account, but bob's IAM says nothing
                MALLORY: "none",  # ecr:* in 333333333333 is not a grant from the owner
            }
        }
    )


def test_mallory_gets_the_aws_error(crossdock_server: CrossdockServer) -> None:
    ecr = crossdock_server.client("ecr", MALLORY)
    with pytest.raises(ClientError) as denied:
        ecr.batch_get_image(
            registryId="111111111111", repositoryName="app", imageIds=[{"imageTag": "latest"}]
        )
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "because no resource-based policy allows" in denied.value.response["Error"]["Message"]


def test_the_ci_role_logs_in_to_the_registry(crossdock_server: CrossdockServer) -> None:
    login = crossdock_server.registry_credentials(CI_ROLE)
    assert login.username == "AWS"
    request = urllib.request.Request(
        f"{crossdock_server.url}/v2/", headers={"Authorization": f"Basic {login.auth}"}
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 200
