"""The Query protocol on the wire: authentication failures in AWS's XML, malformed forms,
unknown actions, missing parameters; the server keeps serving after each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import botocore.auth
import httpx
import pytest
from botocore.exceptions import ClientError
from live_server import LiveServer, signed_post, xml_error

from crossdock.service.accounts import RootKey

SIGNATURE_TEXT = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)


@pytest.fixture
def root(live: LiveServer) -> RootKey:
    return live.new_account()


def _client_error(call: object) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call()  # type: ignore[operator]
    response = caught.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


# --- authentication failures (boto3 and raw) ---------------------------------------------


def test_an_unknown_key_is_invalid_client_token_id(live: LiveServer) -> None:
    sts = live.client("sts", ("AKIAUNKNOWN000000000", "x" * 40))
    assert _client_error(sts.get_caller_identity) == (
        "InvalidClientTokenId",
        403,
        "The security token included in the request is invalid.",
    )


def test_a_wrong_secret_is_signature_does_not_match(live: LiveServer, root: RootKey) -> None:
    iam = live.client("iam", (root.access_key_id, "y" * 40))
    assert _client_error(iam.list_users) == ("SignatureDoesNotMatch", 403, SIGNATURE_TEXT)


@pytest.fixture
def skewed_signer(monkeypatch: pytest.MonkeyPatch) -> datetime:
    signed_at = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)
    monkeypatch.setattr(
        botocore.auth, "get_current_datetime", lambda: signed_at.replace(tzinfo=None)
    )
    return signed_at


def test_a_skewed_clock_is_a_signature_expired(
    live: LiveServer, root: RootKey, skewed_signer: datetime
) -> None:
    code, status, message = _client_error(live.client("sts", root).get_caller_identity)
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    stamp = skewed_signer.strftime("%Y%m%dT%H%M%SZ")
    assert message.startswith(f"Signature expired: {stamp} is now earlier than ")
    assert message.endswith(" - 5 min.)")


def test_a_request_without_authentication(live: LiveServer) -> None:
    response = httpx.post(
        live.url + "/",
        content=b"Action=GetCallerIdentity&Version=2011-06-15",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert xml_error(response) == (
        403,
        "Sender",
        "MissingAuthenticationToken",
        "Request is missing Authentication Token",
    )
    assert response.headers["content-type"].startswith("text/xml")
    assert response.headers["x-amzn-requestid"]


def test_an_incomplete_authorization_header(live: LiveServer) -> None:
    response = httpx.post(
        live.url + "/",
        content=b"Action=GetCallerIdentity&Version=2011-06-15",
        headers={"Authorization": "AWS4-HMAC-SHA256 Credential=AKIA/20240101/us-east-1/sts"},
    )
    status, kind, code, message = xml_error(response)
    assert (status, kind, code) == (400, "Sender", "IncompleteSignature")
    assert message.startswith(
        "Authorization header requires 'Signature' parameter. Authorization header requires"
        " 'SignedHeaders' parameter."
    )


def test_a_tampered_body_is_rejected(live: LiveServer, root: RootKey) -> None:
    response = signed_post(live, "iam", b"Action=ListUsers&Version=2010-05-08", root)
    assert response.status_code == 200
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="POST", url=live.url + "/", data=b"Action=ListUsers")
    SigV4Auth(Credentials(root.access_key_id, root.secret_access_key), "iam", "us-east-1").add_auth(
        request
    )
    headers = {k: v for k, v in request.prepare().headers.items() if k.lower() != "content-length"}
    tampered = httpx.post(live.url + "/", content=b"Action=CreateUser&UserName=x", headers=headers)
    assert xml_error(tampered) == (403, "Sender", "SignatureDoesNotMatch", SIGNATURE_TEXT)


# --- the Query protocol itself -----------------------------------------------------------


def test_a_successful_reply_is_the_query_xml_botocore_reads(
    live: LiveServer, root: RootKey
) -> None:
    response = signed_post(live, "sts", b"Action=GetCallerIdentity&Version=2011-06-15", root)
    assert response.status_code == 200
    document = ElementTree.fromstring(response.content)
    namespace = "{https://sts.amazonaws.com/doc/2011-06-15/}"
    assert document.tag == f"{namespace}GetCallerIdentityResponse"
    result = document.find(f"{namespace}GetCallerIdentityResult")
    assert result is not None
    assert result.findtext(f"{namespace}Account") == root.account_id
    request_id = document.findtext(f"{namespace}ResponseMetadata/{namespace}RequestId")
    assert request_id == response.headers["x-amzn-requestid"]


@pytest.mark.parametrize(
    ("service", "body", "expected"),
    [
        (
            "iam",
            b"Action=FlyToTheMoon&Version=2010-05-08",
            (
                400,
                "Sender",
                "InvalidAction",
                "Could not find operation FlyToTheMoon for version 2010-05-08",
            ),
        ),
        (
            "iam",
            b"Action=ListUsers&Version=2011-06-15",
            (
                400,
                "Sender",
                "InvalidAction",
                "Could not find operation ListUsers for version 2011-06-15",
            ),
        ),
        (
            "sts",
            b"Version=2011-06-15",
            (
                400,
                "Sender",
                "MissingAction",
                "The request is missing an action or a required parameter.",
            ),
        ),
        (
            "iam",
            b"Action=GetUser&Action=ListUsers",
            (400, "Sender", "MalformedQueryString", "The parameter Action appears more than once."),
        ),
        (
            "iam",
            b"\xff\xfe",
            (
                400,
                "Sender",
                "MalformedQueryString",
                "The request body is not a valid application/x-www-form-urlencoded form.",
            ),
        ),
        (
            "iam",
            b"Action=CreateUser&Version=2010-05-08",
            (
                400,
                "Sender",
                "ValidationError",
                "1 validation error detected: Value null at 'userName' failed to satisfy"
                " constraint: Member must not be null",
            ),
        ),
        (
            "iam",
            b"Action=ListUsers&Version=2010-05-08&MaxItems=lots",
            (
                400,
                "Sender",
                "ValidationError",
                "1 validation error detected: Value 'lots' at 'maxItems' failed to satisfy"
                " constraint: Member must be an integer",
            ),
        ),
        (
            "iam",
            b"Action=CreateRole&Version=2010-05-08&RoleName=a%20b",
            (
                400,
                "Sender",
                "ValidationError",
                "2 validation errors detected: Value 'a b' at 'roleName' failed to satisfy"
                " constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+;"
                " Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: Member"
                " must not be null",
            ),
        ),
        (
            "ecr",
            b"Action=ListUsers",
            (400, "Sender", "InvalidAction", "Could not find operation ListUsers for service ecr"),
        ),
    ],
)
def test_malformed_requests_get_clear_errors(
    live: LiveServer, root: RootKey, service: str, body: bytes, expected: tuple[int, str, str, str]
) -> None:
    assert xml_error(signed_post(live, service, body, root)) == expected
    again = signed_post(live, "sts", b"Action=GetCallerIdentity&Version=2011-06-15", root)
    assert again.status_code == 200


def test_tags_are_read_from_member_lists(live: LiveServer, root: RootKey) -> None:
    body = (
        b"Action=CreateUser&Version=2010-05-08&UserName=tagged"
        b"&Tags.member.1.Key=team&Tags.member.1.Value=red"
        b"&Tags.member.2.Key=tier&Tags.member.2.Value="
    )
    assert signed_post(live, "iam", body, root).status_code == 200
    tags = live.client("iam", root).get_user(UserName="tagged")["User"]["Tags"]
    assert tags == [{"Key": "team", "Value": "red"}, {"Key": "tier", "Value": ""}]


def test_an_oversized_body_is_refused(live: LiveServer, root: RootKey) -> None:
    response = httpx.post(live.url + "/", content=b"x" * (32 * 1024 * 1024 + 1))
    status, _, code, _ = xml_error(response)
    assert (status, code) == (400, "ValidationError")
