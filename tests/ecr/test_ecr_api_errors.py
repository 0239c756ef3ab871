"""Every ECR error of spec §1.4 (and the other modeled ones crossdock raises), pinned:
exact code, HTTP status and message, through boto3 and the real server."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from ecr_server import EcrServer
from ecr_world import allow
from image_data import make_image
from test_ecr_api_walkthrough import push_image, push_layer

from crossdock.oci.digest import Digest

ACCOUNT = "888888888888"
FRIEND = "999999999999"
REPO_PATTERN = r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*"


@pytest.fixture(scope="module")
def ecr(server: EcrServer) -> Any:
    server.world.account(FRIEND)
    client = server.client(server.world.account(ACCOUNT))
    client.create_repository(repositoryName="errors")
    return client


def _error(call: Any, **kwargs: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def test_repository_not_found(ecr: Any) -> None:
    assert _error(ecr.describe_repositories, repositoryNames=["errors", "missing"]) == (
        "RepositoryNotFoundException",
        400,
        f"The repository with name 'missing' does not exist in the registry with id '{ACCOUNT}'",
    )


def test_repository_already_exists(ecr: Any) -> None:
    assert _error(ecr.create_repository, repositoryName="errors") == (
        "RepositoryAlreadyExistsException",
        400,
        f"The repository with name 'errors' already exists in the registry with id '{ACCOUNT}'",
    )


def test_repository_not_empty(ecr: Any) -> None:
    ecr.create_repository(repositoryName="full")
    push_image(ecr, "full", "full", "v1")
    assert _error(ecr.delete_repository, repositoryName="full") == (
        "RepositoryNotEmptyException",
        400,
        f"The repository with name 'full' in registry with id '{ACCOUNT}' cannot be deleted "
        "because it still contains images",
    )
    assert (
        ecr.delete_repository(repositoryName="full", force=True)["repository"]["repositoryName"]
        == "full"
    )


def test_repository_policy_not_found(ecr: Any) -> None:
    expected = (
        "RepositoryPolicyNotFoundException",
        400,
        "Repository policy does not exist for the repository with name 'errors' in the "
        f"registry with id '{ACCOUNT}'",
    )
    assert _error(ecr.get_repository_policy, repositoryName="errors") == expected
    assert _error(ecr.delete_repository_policy, repositoryName="errors") == expected


def test_image_not_found(ecr: Any) -> None:
    assert _error(ecr.describe_images, repositoryName="errors", imageIds=[{"imageTag": "v9"}]) == (
        "ImageNotFoundException",
        400,
        "The image with imageId {imageDigest:'null', imageTag:'v9'} does not exist within the "
        f"repository with name 'errors' in the registry with id '{ACCOUNT}'",
    )


def test_image_tag_already_exists_with_exclusions(ecr: Any) -> None:
    ecr.create_repository(
        repositoryName="immutable",
        imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "latest"}],
    )
    push_image(ecr, "immutable", "a", "v1")
    push_image(ecr, "immutable", "a2", "latest")
    push_image(ecr, "immutable", "b", "latest")  # excluded: it moves
    assert _error(push_image, ecr=ecr, repo="immutable", seed="c", tag="v1") == (
        "ImageTagAlreadyExistsException",
        400,
        "The image tag 'v1' already exists in the 'immutable' repository and cannot be "
        "overwritten because the repository is immutable.",
    )


def test_image_already_exists(ecr: Any) -> None:
    result = push_image(ecr, "errors", "same", "same")
    digest = result["image"]["imageId"]["imageDigest"]
    again = make_image("same").manifest.decode()
    assert _error(ecr.put_image, repositoryName="errors", imageManifest=again, imageTag="same") == (
        "ImageAlreadyExistsException",
        400,
        f"Image with digest '{digest}' and tag 'same' already exists in the repository with "
        f"name 'errors' in registry with id '{ACCOUNT}'",
    )


def test_image_digest_does_not_match(ecr: Any) -> None:
    image = make_image("digest")
    for data in image.blobs.values():
        push_layer(ecr, "errors", data)
    wrong = "sha256:" + "0" * 64
    assert _error(
        ecr.put_image,
        repositoryName="errors",
        imageManifest=image.manifest.decode(),
        imageDigest=wrong,
    ) == (
        "ImageDigestDoesNotMatchException",
        400,
        f"The provided image digest '{wrong}' does not match the digest of the image "
        f"manifest '{image.digest}'",
    )


def test_layers_not_found(ecr: Any) -> None:
    image = make_image("missing-layers")
    missing = list(image.blobs)
    assert _error(
        ecr.put_image, repositoryName="errors", imageManifest=image.manifest.decode()
    ) == (
        "LayersNotFoundException",
        400,
        f"Layers with digests '[{', '.join(missing)}]' required for pushing image into "
        f"repository with name 'errors' in the registry with id '{ACCOUNT}' do not exist",
    )
    absent = "sha256:" + "1" * 64
    assert _error(ecr.get_download_url_for_layer, repositoryName="errors", layerDigest=absent) == (
        "LayersNotFoundException",
        400,
        f"The layer with digest '{absent}' does not exist within the repository with name "
        f"'errors' in the registry with id '{ACCOUNT}'",
    )


def test_referenced_images_not_found(ecr: Any) -> None:
    from image_data import make_index

    child = make_image("orphan-child")
    index = make_index(child)
    assert _error(
        ecr.put_image, repositoryName="errors", imageManifest=index.manifest.decode()
    ) == (
        "ReferencedImagesNotFoundException",
        400,
        f"Manifests with digests '[{child.digest}]' required for pushing image into repository "
        f"with name 'errors' in the registry with id '{ACCOUNT}' do not exist",
    )


def test_layer_inaccessible(ecr: Any) -> None:
    digest = push_layer(ecr, "errors", b"uploaded but never referenced")
    assert _error(ecr.get_download_url_for_layer, repositoryName="errors", layerDigest=digest) == (
        "LayerInaccessibleException",
        400,
        f"The layer with digest '{digest}' is not accessible because no image in the "
        f"repository with name 'errors' in registry with id '{ACCOUNT}' references it",
    )


def test_upload_errors(ecr: Any) -> None:
    upload_id = ecr.initiate_layer_upload(repositoryName="errors")["uploadId"]
    assert _error(
        ecr.complete_layer_upload,
        repositoryName="errors",
        uploadId=upload_id,
        layerDigests=["sha256:" + "2" * 64],
    ) == (
        "EmptyUploadException",
        400,
        f"The upload with id '{upload_id}' in the repository with name 'errors' in registry "
        f"with id '{ACCOUNT}' cannot be completed because it does not have any parts",
    )
    ecr.upload_layer_part(
        repositoryName="errors",
        uploadId=upload_id,
        partFirstByte=0,
        partLastByte=2,
        layerPartBlob=b"abc",
    )
    with pytest.raises(ClientError) as caught:
        ecr.upload_layer_part(
            repositoryName="errors",
            uploadId=upload_id,
            partFirstByte=5,
            partLastByte=6,
            layerPartBlob=b"de",
        )
    error = caught.value.response
    assert error["Error"]["Code"] == "InvalidLayerPartException"
    assert error["Error"]["Message"] == (
        f"The layer part for the upload with id '{upload_id}' in the repository with name "
        f"'errors' in registry with id '{ACCOUNT}' is not valid: the part starts at byte 5, "
        "not at byte 3. The last valid byte received is 2"
    )
    assert error["lastValidByteReceived"] == 2
    assert error["uploadId"] == upload_id
    actual = str(Digest.of(b"abc"))
    wrong = "sha256:" + "3" * 64
    assert _error(
        ecr.complete_layer_upload, repositoryName="errors", uploadId=upload_id, layerDigests=[wrong]
    ) == (
        "InvalidLayerException",
        400,
        "None of the provided layer digests match the calculated layer digest "
        f"'{actual}' of the upload with id '{upload_id}'",
    )
    ecr.complete_layer_upload(
        repositoryName="errors", uploadId=upload_id, layerDigests=[wrong, actual]
    )
    missing = "0c9c8d0e-0000-4000-8000-000000000000"
    assert _error(
        ecr.complete_layer_upload,
        repositoryName="errors",
        uploadId=upload_id,
        layerDigests=[actual],
    ) == (
        "UploadNotFoundException",
        400,
        f"The upload with id '{upload_id}' does not exist in the repository with name "
        f"'errors' in registry with id '{ACCOUNT}'",
    )
    assert (
        _error(
            ecr.upload_layer_part,
            repositoryName="errors",
            uploadId=missing,
            partFirstByte=0,
            partLastByte=0,
            layerPartBlob=b"x",
        )[0]
        == "UploadNotFoundException"
    )


def test_layer_already_exists(ecr: Any) -> None:
    digest = push_layer(ecr, "errors", b"twice")
    upload_id = ecr.initiate_layer_upload(repositoryName="errors")["uploadId"]
    ecr.upload_layer_part(
        repositoryName="errors",
        uploadId=upload_id,
        partFirstByte=0,
        partLastByte=4,
        layerPartBlob=b"twice",
    )
    assert _error(
        ecr.complete_layer_upload,
        repositoryName="errors",
        uploadId=upload_id,
        layerDigests=[digest],
    ) == (
        "LayerAlreadyExistsException",
        400,
        f"The layer with digest '{digest}' already exists in the repository with name "
        f"'errors' in registry with id '{ACCOUNT}'",
    )


def test_layer_part_too_small(ecr: Any) -> None:
    upload_id = ecr.initiate_layer_upload(repositoryName="errors")["uploadId"]
    for first, part in ((0, b"small"), (5, b"tail")):
        ecr.upload_layer_part(
            repositoryName="errors",
            uploadId=upload_id,
            partFirstByte=first,
            partLastByte=first + len(part) - 1,
            layerPartBlob=part,
        )
    code, status, message = _error(
        ecr.complete_layer_upload,
        repositoryName="errors",
        uploadId=upload_id,
        layerDigests=[str(Digest.of(b"smalltail"))],
    )
    assert (code, status) == ("LayerPartTooSmallException", 400)
    assert message == (
        f"The upload with id '{upload_id}' has a layer part of 5 bytes; every part but the "
        "last must be at least 5242880 bytes"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"repositoryName": "Bad_Name"},
            "Invalid parameter at 'repositoryName' failed to satisfy constraint: "
            f"'must satisfy regular expression '{REPO_PATTERN}''",
        ),
        (
            {"repositoryName": "../etc"},
            "Invalid parameter at 'repositoryName' failed to satisfy constraint: "
            f"'must satisfy regular expression '{REPO_PATTERN}''",
        ),
        (
            {"repositoryName": "a" * 257},
            "Invalid parameter at 'repositoryName' failed to satisfy constraint: "
            "'must have length less than or equal to 256'",
        ),
        (
            {"repositoryName": "ok", "registryId": "1111111111"},
            "Invalid parameter at 'registryId' failed to satisfy constraint: "
            "'must satisfy regular expression '[0-9]{12}''",
        ),
        (
            {"repositoryName": "ok", "imageTagMutability": "SOMETIMES"},
            "Invalid parameter at 'imageTagMutability' failed to satisfy constraint: "
            "'must satisfy enum value set: [MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, "
            "MUTABLE_WITH_EXCLUSION]'",
        ),
    ],
)
def test_invalid_parameters(ecr: Any, kwargs: dict[str, Any], message: str) -> None:
    assert _error(ecr.create_repository, **kwargs) == ("InvalidParameterException", 400, message)


def test_registry_ids_list_form(ecr: Any) -> None:
    assert _error(ecr.get_authorization_token, registryIds=["12345"]) == (
        "InvalidParameterException",
        400,
        "Invalid parameter at 'registryIds' failed to satisfy constraint: 'Member must "
        "satisfy constraint: [Member must satisfy regular expression pattern: [0-9]{12}]'",
    )


def test_tag_errors(ecr: Any) -> None:
    assert _error(
        ecr.create_repository,
        repositoryName="too-many-tags",
        tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)],
    ) == ("TooManyTagsException", 400, "A repository can have at most 50 tags")
    code, status, _ = _error(
        ecr.create_repository, repositoryName="bad-tag", tags=[{"Key": "k" * 129, "Value": "v"}]
    )
    assert (code, status) == ("InvalidTagParameterException", 400)
    code, _, _ = _error(
        ecr.create_repository, repositoryName="aws-tag", tags=[{"Key": "aws:x", "Value": "v"}]
    )
    assert code == "InvalidTagParameterException"
    assert _error(ecr.describe_repositories, repositoryNames=["too-many-tags"])[0] == (
        "RepositoryNotFoundException"
    )


def _set(ecr: Any, policy: Any) -> tuple[str, int, str]:
    text = policy if isinstance(policy, str) else json.dumps(policy)
    return _error(ecr.set_repository_policy, repositoryName="errors", policyText=text)


def _statement(principal: Any, actions: Any = "ecr:BatchGetImage") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": principal, "Action": actions}],
    }


INVALID = (
    "InvalidParameterException",
    400,
    "Invalid parameter at 'PolicyText' failed to satisfy constraint: "
    "'Invalid repository policy provided'",
)
NOT_FOUND = (
    "InvalidParameterException",
    400,
    "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Principal not found'",
)


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("not json", INVALID),
        ("[]", INVALID),
        ({"Version": "2012-10-17"}, INVALID),
        ({"Version": "2012-10-17", "Statement": []}, INVALID),
        (_statement({"AWS": "arn:aws:iam::999999999999:*"}), INVALID),
        (_statement({"AWS": "1111111111"}), INVALID),
        (_statement("*", "ecr:GetAuthorizationToken"), INVALID),
        (_statement({"AWS": "arn:aws:iam::999999999999:user/ghost"}), NOT_FOUND),
        (_statement({"AWS": "123412341234"}), NOT_FOUND),
    ],
)
def test_set_repository_policy_validation(ecr: Any, policy: Any, expected: Any) -> None:
    assert _set(ecr, policy) == expected


def test_policy_too_long_is_rejected_and_keeps_the_old_one(ecr: Any) -> None:
    good = _statement({"AWS": f"arn:aws:iam::{FRIEND}:root"})
    stored = ecr.set_repository_policy(repositoryName="errors", policyText=json.dumps(good))
    long_policy = json.dumps(good) + " " * 10_300
    code, status, message = _set(ecr, long_policy)
    assert (code, status) == ("InvalidParameterException", 400)
    assert message == (
        "Invalid parameter at 'policyText' failed to satisfy constraint: "
        "'must have length less than or equal to 10240'"
    )
    assert _set(ecr, "not json") == INVALID
    assert ecr.get_repository_policy(repositoryName="errors")["policyText"] == stored["policyText"]
    ecr.delete_repository_policy(repositoryName="errors")


def test_access_denied_is_http_400(server: EcrServer) -> None:
    nobody = server.client(server.world.user(ACCOUNT, "nobody"))
    assert _error(nobody.get_authorization_token) == (
        "AccessDeniedException",
        400,
        f"User: arn:aws:iam::{ACCOUNT}:user/nobody is not authorized to perform: "
        "ecr:GetAuthorizationToken on resource: * because no identity-based policy allows "
        "the ecr:GetAuthorizationToken action",
    )
    lister = server.client(server.world.user(ACCOUNT, "lister", allow("ecr:ListImages")))
    assert _error(lister.describe_repositories)[2] == (
        f"User: arn:aws:iam::{ACCOUNT}:user/lister is not authorized to perform: "
        f"ecr:DescribeRepositories on resource: arn:aws:ecr:us-east-1:{ACCOUNT}:repository/* "
        "because no identity-based policy allows the ecr:DescribeRepositories action"
    )


def _raw(server: EcrServer, target: str, body: bytes) -> httpx.Response:
    """A signed request with an arbitrary target and body (botocore's signer)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    principal = server.world.account(ACCOUNT)
    server.client(principal)
    secret = server.credentials.keys[principal.access_key_id].secret_access_key
    request = AWSRequest(
        method="POST",
        url=server.url + "/",
        data=body,
        headers={
            "X-Amz-Target": target,
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    SigV4Auth(Credentials(principal.access_key_id, secret), "ecr", "us-east-1").add_auth(request)
    return httpx.post(server.url + "/", content=body, headers=dict(request.headers.items()))


PREFIX = "AmazonEC2ContainerRegistry_V20150921."


def test_bad_requests_get_aws_errors(server: EcrServer) -> None:
    unknown = _raw(server, PREFIX + "FlyToTheMoon", b"{}")
    assert unknown.status_code == 400
    assert unknown.headers["content-type"] == "application/x-amz-json-1.1"
    assert unknown.json()["__type"] == "UnknownOperationException"
    unsupported = _raw(server, PREFIX + "PutRegistryPolicy", b"{}")
    assert unsupported.json()["__type"] == "UnsupportedOperationException"
    assert "PutRegistryPolicy" in unsupported.json()["message"]
    malformed = _raw(server, PREFIX + "DescribeRepositories", b"{not json")
    assert (malformed.status_code, malformed.json()["__type"]) == (400, "SerializationException")
    wrong_type = _raw(server, PREFIX + "DescribeRepositories", b'{"maxResults": "ten"}')
    assert wrong_type.json()["__type"] == "SerializationException"
    missing = _raw(server, PREFIX + "CreateRepository", b"{}")
    assert missing.json() == {
        "__type": "InvalidParameterException",
        "message": "Invalid parameter at 'repositoryName' failed to satisfy constraint: "
        "'Member must not be null'",
    }
    assert missing.headers["x-amzn-requestid"]
    ok = _raw(server, PREFIX + "DescribeRepositories", b"")
    assert ok.status_code == 200
    assert "repositories" in ok.json()


def test_authentication_errors_use_the_json_table(server: EcrServer) -> None:
    import boto3

    principal = server.world.user(ACCOUNT, "signer", allow("ecr:*"))
    server.client(principal)
    wrong_secret = boto3.session.Session().client(
        "ecr",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=principal.access_key_id,
        aws_secret_access_key="not-the-secret",
    )
    code, status, _ = _error(wrong_secret.describe_repositories)
    assert (code, status) == ("InvalidSignatureException", 400)
    unknown = boto3.session.Session().client(
        "ecr",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="AKIANOBODYKNOWS00000",
        aws_secret_access_key="x",
    )
    assert _error(unknown.describe_repositories) == (
        "UnrecognizedClientException",
        400,
        "The security token included in the request is invalid.",
    )
