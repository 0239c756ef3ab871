"""The ECR / condition-key catalogue: regeneration is a no-op, botocore agrees, facts hold."""

from __future__ import annotations

import dataclasses
import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from crossdock.policy import catalog
from crossdock.policy.catalog import (
    ECR_ACTIONS,
    ECR_CONDITION_KEYS,
    ECR_OPERATIONS,
    ECR_RESOURCE_TYPES,
    GLOBAL_CONDITION_KEYS,
    AccessLevel,
    actions_for_operation,
    condition_key,
    condition_key_service,
    condition_key_type,
    ecr,
    ecr_action,
    ecr_action_names,
    ecr_action_requires_star,
    ecr_operation,
    global_keys,
    is_known_condition_key,
    permission_only_actions,
    repository_actions,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "refresh_catalog.py"
COMMITTED = REPO_ROOT / "src" / "crossdock" / "policy" / "catalog" / "ecr.py"

_FLAGS: dict[AccessLevel, dict[str, bool]] = {
    AccessLevel.READ: {},
    AccessLevel.LIST: {"IsList": True},
    AccessLevel.WRITE: {"IsWrite": True},
    # AWS flags these actions Write as well; the generator must still pick the narrower level.
    AccessLevel.PERMISSIONS_MANAGEMENT: {"IsPermissionManagement": True, "IsWrite": True},
    AccessLevel.TAGGING: {"IsTaggingOnly": True, "IsWrite": True},
}


def _properties(level: AccessLevel) -> dict[str, bool]:
    flags = dict.fromkeys(("IsList", "IsPermissionManagement", "IsTaggingOnly", "IsWrite"), False)
    return flags | _FLAGS[level]


def _authorized(name: str) -> dict[str, str]:
    service, _, action = name.partition(":")
    return {"Name": action, "Service": service}


def reference_document() -> dict[str, Any]:
    """The committed catalogue written back in AWS's servicereference layout, lists reversed."""
    actions: list[dict[str, Any]] = []
    for action in reversed(ECR_ACTIONS):
        entry: dict[str, Any] = {
            "Name": action.name,
            "Annotations": {"Properties": _properties(action.access_level)},
            "SupportedBy": {"IAM Action Last Accessed": True},
        }
        if action.condition_keys:
            entry["ActionConditionKeys"] = list(reversed(action.condition_keys))
        if action.resource_types:
            entry["Resources"] = [{"Name": name} for name in action.resource_types]
        actions.append(entry)
    return {
        "Name": "ecr",
        "Actions": actions,
        "ConditionKeys": [
            {"Name": key.name, "Types": list(key.types)} for key in reversed(ECR_CONDITION_KEYS)
        ],
        "Resources": [
            {
                "Name": resource.name,
                "ARNFormats": list(resource.arn_formats),
                "ConditionKeys": list(resource.condition_keys),
            }
            for resource in ECR_RESOURCE_TYPES
        ],
        "Operations": [
            {
                "Name": operation.name,
                "AuthorizedActions": [
                    _authorized(a) for a in reversed(operation.authorized_actions)
                ],
                "SDK": [{"Name": "ecr", "Method": operation.name, "Package": "Boto3"}],
            }
            for operation in reversed(ECR_OPERATIONS)
        ],
        "Version": ecr.REFERENCE_VERSION,
    }


def run_refresh(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture
def reference_file(tmp_path: Path) -> Path:
    path = tmp_path / "ecr.json"
    path.write_text(json.dumps(reference_document(), indent=2), encoding="utf-8")
    return path


# --- (a) the generator reproduces the committed module byte for byte ---------------------------


def test_regenerating_from_the_committed_data_reproduces_the_module(
    reference_file: Path, tmp_path: Path
) -> None:
    output = tmp_path / "ecr.py"
    result = run_refresh(
        *("--from", reference_file, "--output", output),
        *("--date", ecr.RETRIEVED, "--source-label", ecr.SOURCE),
    )
    assert result.returncode == 0, result.stderr
    assert output.read_bytes() == COMMITTED.read_bytes()


def test_rerunning_over_the_same_input_is_a_no_op(reference_file: Path, tmp_path: Path) -> None:
    output = tmp_path / "ecr.py"
    output.write_bytes(COMMITTED.read_bytes())
    check = run_refresh("--from", reference_file, "--output", output, "--check")
    assert check.returncode == 0, check.stderr
    rerun = run_refresh("--from", reference_file, "--output", output)
    assert rerun.returncode == 0, rerun.stderr
    assert "up to date" in rerun.stderr
    assert output.read_bytes() == COMMITTED.read_bytes()


@pytest.fixture
def reference_server() -> Iterator[str]:
    """A local HTTP server that serves the reference document, standing in for AWS."""
    body = json.dumps(reference_document()).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/ecr/ecr.json"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_fetching_over_http_gives_the_same_module(reference_server: str, tmp_path: Path) -> None:
    output = tmp_path / "ecr.py"
    result = run_refresh(
        *("--url", reference_server, "--output", output),
        *("--date", ecr.RETRIEVED, "--source-label", ecr.SOURCE),
    )
    assert result.returncode == 0, result.stderr
    assert output.read_bytes() == COMMITTED.read_bytes()


def test_check_reports_a_stale_module(reference_file: Path, tmp_path: Path) -> None:
    document = reference_document()
    document["Actions"].append({"Name": "DescribeNewThing", "Annotations": {"Properties": {}}})
    reference_file.write_text(json.dumps(document), encoding="utf-8")
    output = tmp_path / "ecr.py"
    output.write_bytes(COMMITTED.read_bytes())
    result = run_refresh("--from", reference_file, "--output", output, "--check")
    assert result.returncode == 1
    assert output.read_bytes() == COMMITTED.read_bytes()


def test_a_document_for_another_service_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "s3.json"
    source.write_text(json.dumps({"Name": "s3", "Actions": []}), encoding="utf-8")
    result = run_refresh("--from", source, "--output", tmp_path / "out.py")
    assert result.returncode == 2
    assert "document.Name" in result.stderr
    assert not (tmp_path / "out.py").exists()


def test_help_documents_the_usage() -> None:
    result = run_refresh("--help")
    assert result.returncode == 0
    for option in ("--from", "--check", "--output", "--date", "servicereference"):
        assert option in result.stdout


# --- (b) every operation of botocore's ECR model is in the catalogue ----------------------------


def _botocore_operations() -> tuple[str, ...]:
    session = pytest.importorskip("botocore.session")
    return tuple(session.get_session().get_service_model("ecr").operation_names)


def test_every_botocore_operation_is_catalogued() -> None:
    for name in _botocore_operations():
        operation = ecr_operation(name)
        assert operation is not None, f"botocore operation {name} is not in the catalogue"
        for authorized in operation.authorized_actions:
            service, _, action = authorized.partition(":")
            if service == "ecr":
                assert ecr_action(action) is not None, f"{name} names unknown ecr:{action}"
        if ecr_action(name) is not None:
            assert f"ecr:{name}" in operation.authorized_actions


def test_only_list_image_referrers_lacks_an_action_of_its_own() -> None:
    # The API Reference and botocore both say ListImageReferrers needs ecr:BatchGetImage.
    without_action = {name for name in _botocore_operations() if ecr_action(name) is None}
    assert without_action == {"ListImageReferrers"}
    assert actions_for_operation("ListImageReferrers") == ("ecr:BatchGetImage",)


# --- (c) facts ------------------------------------------------------------------------------------


def test_get_authorization_token_requires_star() -> None:
    token = ecr_action("GetAuthorizationToken")
    assert token is not None
    assert token.requires_star
    assert token.resource_types == ()
    assert ecr_action_requires_star("ecr:GetAuthorizationToken")
    assert "GetAuthorizationToken" not in repository_actions()


@pytest.mark.parametrize(
    "name",
    ["PutRegistryPolicy", "PutReplicationConfiguration", "DescribeRegistry", "PutAccountSetting"],
)
def test_registry_level_actions_require_star(name: str) -> None:
    assert ecr_action_requires_star(name)


def test_batch_get_image_takes_a_repository() -> None:
    action = ecr_action("BatchGetImage")
    assert action is not None
    assert action.resource_types == ("repository",)
    assert action.access_level is AccessLevel.READ
    assert not ecr_action_requires_star("BatchGetImage")
    assert "BatchGetImage" in repository_actions()


def test_tag_resource_supports_tag_keys() -> None:
    action = ecr_action("TagResource")
    assert action is not None
    assert "aws:TagKeys" in action.condition_keys
    assert "aws:RequestTag/${TagKey}" in action.condition_keys
    assert action.access_level is AccessLevel.TAGGING


def test_lookups_ignore_case_and_the_prefix() -> None:
    for spelling in ("BatchGetImage", "batchgetimage", "ecr:BatchGetImage", "ECR:BATCHGETIMAGE"):
        action = ecr_action(spelling)
        assert action is not None
        assert action.name == "BatchGetImage"
        assert action.iam_name == "ecr:BatchGetImage"
    assert ecr_operation("listimagereferrers") is not None


@pytest.mark.parametrize(
    "name",
    [
        "ecr:GetDownloadUrlForLayers",
        "ecr:Batch*",
        "ecr:*",
        "s3:GetObject",
        "ecr-public:PutImage",
        "",
    ],
)
def test_unknown_actions(name: str) -> None:
    assert ecr_action(name) is None
    assert not ecr_action_requires_star(name)


def test_permission_only_actions() -> None:
    assert {"ReplicateImage", "BatchImportUpstreamImage"} <= permission_only_actions()
    assert "GetRegistryPolicy" not in permission_only_actions()
    assert ecr_action("GetRegistryPolicy") is not None


def test_access_levels() -> None:
    expected = {
        "SetRepositoryPolicy": AccessLevel.PERMISSIONS_MANAGEMENT,
        "PutRegistryPolicy": AccessLevel.PERMISSIONS_MANAGEMENT,
        "UntagResource": AccessLevel.TAGGING,
        "DescribeImages": AccessLevel.LIST,
        "ListImages": AccessLevel.LIST,
        "PutImage": AccessLevel.WRITE,
        "GetDownloadUrlForLayer": AccessLevel.READ,
    }
    for name, level in expected.items():
        action = ecr_action(name)
        assert action is not None
        assert action.access_level is level, name


def test_action_names_are_sorted_unique_and_consistent() -> None:
    names = ecr_action_names()
    assert list(names) == sorted(names)
    assert len({n.lower() for n in names}) == len(names)
    assert repository_actions() | {a.name for a in ECR_ACTIONS if a.requires_star} == set(names)


def test_every_action_key_and_resource_is_declared() -> None:
    declared = {key.name for key in ECR_CONDITION_KEYS}
    resources = {resource.name for resource in ECR_RESOURCE_TYPES}
    for action in ECR_ACTIONS:
        assert set(action.condition_keys) <= declared, action.name
        assert set(action.resource_types) <= resources, action.name


def test_ecr_condition_keys() -> None:
    assert condition_key_type("ecr:AccountSetting") == "String"
    assert condition_key_type("ecr:ResourceTag/team") == "String"
    assert is_known_condition_key("ECR:resourcetag/Team")
    assert not is_known_condition_key("ecr:RepositoryName")


def test_ecr_and_global_catalogues_agree_on_aws_keys() -> None:
    for key in ECR_CONDITION_KEYS:
        if key.service == "aws":
            entry = condition_key(key.name)
            assert entry is not None
            assert entry.types == key.types, key.name


@pytest.mark.parametrize(
    ("key", "data_type"),
    [
        ("aws:SourceIp", "IPAddress"),
        ("aws:PrincipalArn", "ARN"),
        ("aws:PrincipalOrgID", "String"),
        ("aws:PrincipalTag/team", "String"),
        ("aws:RequestTag/cost-center", "String"),
        ("aws:ResourceTag/kubernetes.io/cluster/x", "String"),
        ("aws:TagKeys", "ArrayOfString"),
        ("aws:CurrentTime", "Date"),
        ("aws:EpochTime", "Date"),
        ("aws:SecureTransport", "Bool"),
        ("aws:MultiFactorAuthAge", "Numeric"),
        ("aws:userid", "String"),
        ("aws:UserName", "String"),
        ("aws:CalledVia", "ArrayOfString"),
        ("aws:SourceVpce", "String"),
        ("sts:ExternalId", "String"),
        ("sts:RoleSessionName", "String"),
        ("sts:SourceIdentity", "String"),
        ("sts:TransitiveTagKeys", "ArrayOfString"),
        ("iam:PermissionsBoundary", "ARN"),
        ("iam:PolicyARN", "ARN"),
        ("iam:ResourceTag/team", "String"),
        ("iam:PassedToService", "String"),
        ("ec2:SourceInstanceArn", "ARN"),
    ],
)
def test_condition_key_types(key: str, data_type: str) -> None:
    assert is_known_condition_key(key)
    assert condition_key_type(key) == data_type
    assert condition_key_type(key.upper()) == data_type


@pytest.mark.parametrize(
    "key",
    [
        "aws:SourceIP6",
        "aws:PrincipalTag/",
        "aws:PrincipalTag",
        "aws:RequestTag",
        "sts:ExternalID2",
        "iam:NoSuchKey",
        "ecr:ResourceTag/",
        "SourceIp",
        ":SourceIp",
        "aws:",
        "",
    ],
)
def test_unknown_condition_keys(key: str) -> None:
    assert not is_known_condition_key(key)
    assert condition_key_type(key) is None


@pytest.mark.parametrize("key", ["s3:prefix", "kms:ViaService", "saml:aud", "EC2:Region"])
def test_keys_of_uncatalogued_services_are_taken_as_known(key: str) -> None:
    assert is_known_condition_key(key)
    assert condition_key_type(key) is None


def test_condition_key_service() -> None:
    assert condition_key_service("aws:SourceIp") == "aws"
    assert condition_key_service("S3:prefix") == "s3"
    assert condition_key_service("token.actions.githubusercontent.com:sub") == (
        "token.actions.githubusercontent.com"
    )
    assert condition_key_service("SourceIp") is None
    assert condition_key_service("aws:") is None


def test_multivalued_global_keys_are_the_documented_ones() -> None:
    multivalued = {key.name for key in GLOBAL_CONDITION_KEYS if key.multivalued}
    assert multivalued == {
        "aws:CalledVia",
        "aws:PrincipalOrgPaths",
        "aws:PrincipalServiceNamesList",
        "aws:ResourceOrgPaths",
        "aws:SourceOrgPaths",
        "aws:TagKeys",
        "aws:VpceOrgPaths",
    }
    single = condition_key("aws:SourceIp")
    assert single is not None
    assert not single.multivalued


def test_global_keys_are_unique_and_well_typed() -> None:
    types = {"String", "ArrayOfString", "ARN", "ArrayOfARN", "Date", "Bool", "Numeric", "IPAddress"}
    every = (
        GLOBAL_CONDITION_KEYS
        + global_keys.CROSS_SERVICE_CONDITION_KEYS
        + global_keys.STS_CONDITION_KEYS
        + global_keys.IAM_CONDITION_KEYS
    )
    assert len({key.name.lower() for key in every}) == len(every)
    for key in every + ECR_CONDITION_KEYS:
        assert key.types, key.name
        assert set(key.types) <= types, key.name
    assert all(key.service == "aws" for key in GLOBAL_CONDITION_KEYS)
    assert global_keys.SENSITIVE_GLOBAL_KEYS.issubset(key.name for key in GLOBAL_CONDITION_KEYS)


def test_catalogue_values_are_frozen() -> None:
    action = ECR_ACTIONS[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        action.name = "Other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        catalog._ACTIONS["x"] = action  # type: ignore[index]


@pytest.mark.parametrize("module", [catalog, ecr, global_keys])
def test_no_mutable_module_globals(module: ModuleType) -> None:
    for name, value in vars(module).items():
        if name.startswith("__") or isinstance(value, type | ModuleType):
            continue
        assert not isinstance(value, list | dict | set | bytearray), f"{module.__name__}.{name}"


def test_provenance_is_recorded() -> None:
    header = COMMITTED.read_text(encoding="utf-8").splitlines()[:4]
    assert header[0].startswith("# GENERATED by scripts/refresh_catalog.py")
    assert header[1] == f"# Source: {ecr.SOURCE}"
    assert header[3] == f"# Retrieved: {ecr.RETRIEVED}"


def test_operation_names_are_sorted_and_cover_botocore_operations() -> None:
    from crossdock.policy.catalog import ecr_operation_names

    names = ecr_operation_names()
    assert list(names) == sorted(names)
    assert "BatchGetImage" in names
    assert "GetAuthorizationToken" in names
