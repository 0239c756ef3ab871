"""SigV4 verification: requests signed by botocore's own signer, then verified or tampered.

Header form and presigned query form; session keys with their token; clock skew; the
payload hash (signed digest, UNSIGNED-PAYLOAD); every generic error code with its text.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from crossdock.auth.credentials import Credential
from crossdock.auth.principal import Principal
from crossdock.auth.sigv4 import SignedRequest, SigV4Verifier
from crossdock.policy.context import PrincipalKind
from crossdock.service.errors import AuthenticationError

NOW = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
KEY, SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION_KEY, SESSION_SECRET, TOKEN = (
    "ASIAIOSFODNN7EXAMPLE",
    "s3cr3t/+session+key/0123456789abcdefghij",
    "tok+en/==",
)
HOST = "127.0.0.1:5000"
FORM = b"Action=GetCallerIdentity&Version=2011-06-15"
SIGNATURE_TEXT = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)


def _principal(key: str) -> Principal:
    return Principal(
        "111111111111", PrincipalKind.ROOT, "arn:aws:iam::111111111111:root", "111111111111", key
    )


@dataclass
class Resolver:
    """An in-memory CredentialResolver."""

    session_expires: datetime = NOW + timedelta(hours=1)
    hashed: bool = True

    def credential(self, access_key_id: str) -> Credential | None:
        if access_key_id == KEY:
            return Credential(KEY, SECRET, _principal(KEY))
        if access_key_id == SESSION_KEY:
            if self.hashed:
                digest = hashlib.sha256(TOKEN.encode()).hexdigest()
                return Credential(
                    SESSION_KEY,
                    SESSION_SECRET,
                    _principal(SESSION_KEY),
                    expires_at=self.session_expires,
                    session_token_sha256=digest,
                )
            return Credential(
                SESSION_KEY,
                SESSION_SECRET,
                _principal(SESSION_KEY),
                session_token=TOKEN,
                expires_at=self.session_expires,
            )
        return None


def _verifier(resolver: Resolver | None = None, now: datetime = NOW) -> SigV4Verifier:
    return SigV4Verifier(resolver or Resolver(), lambda: now)


@pytest.fixture(autouse=True)
def _signing_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore.auth

    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: NOW.replace(tzinfo=None))


def _signed(
    *,
    method: str = "POST",
    url: str = f"http://{HOST}/",
    body: bytes = FORM,
    headers: dict[str, str] | None = None,
    key: str = KEY,
    secret: str = SECRET,
    token: str | None = None,
    service: str = "sts",
) -> SignedRequest:
    request = AWSRequest(
        method=method,
        url=url,
        data=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            **(headers or {}),
        },
    )
    SigV4Auth(Credentials(key, secret, token), service, "us-east-1").add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    sent = (*prepared.headers.items(), ("Host", HOST))
    return SignedRequest(method, parts.path, parts.query, sent, prepared.body or b"")


def _presigned(
    *, url: str, expires: int = 60, token: str | None = None, key: str = KEY, secret: str = SECRET
) -> SignedRequest:
    request = AWSRequest(method="GET", url=url)
    SigV4QueryAuth(Credentials(key, secret, token), "sts", "us-east-1", expires=expires).add_auth(
        request
    )
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    return SignedRequest("GET", parts.path, parts.query, (("Host", HOST),), b"")


def _error(signed: SignedRequest, verifier: SigV4Verifier | None = None) -> AuthenticationError:
    with pytest.raises(AuthenticationError) as caught:
        (verifier or _verifier()).verify(signed)
    return caught.value


def _with_header(signed: SignedRequest, name: str, value: str) -> SignedRequest:
    headers = tuple((k, value if k.lower() == name else v) for k, v in signed.headers)
    return replace(signed, headers=headers)


def _without_header(signed: SignedRequest, name: str) -> SignedRequest:
    return replace(signed, headers=tuple((k, v) for k, v in signed.headers if k.lower() != name))


# --- the header form ---------------------------------------------------------------------


def test_header_form_verifies_and_names_the_scope() -> None:
    verified = _verifier().verify(_signed(service="iam"))
    assert (verified.service, verified.region, verified.access_key_id) == ("iam", "us-east-1", KEY)
    assert verified.principal.arn == "arn:aws:iam::111111111111:root"


def test_a_query_string_and_an_encoded_path_are_canonicalized_by_botocore() -> None:
    url = f"http://{HOST}/some%20path/x?b=2&a=1&c=%2F"
    assert _verifier().verify(_signed(method="GET", url=url, body=b"")).service == "sts"


def test_a_json_protocol_request_verifies() -> None:
    headers = {
        "X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories",
        "Content-Type": "application/x-amz-json-1.1",
    }
    assert _verifier().verify(_signed(body=b"{}", headers=headers, service="ecr")).service == "ecr"


def test_a_tampered_body_does_not_match() -> None:
    signed = replace(_signed(), body=FORM + b"&UserName=mallory")
    error = _error(signed)
    assert (error.code, error.message) == ("SignatureDoesNotMatch", SIGNATURE_TEXT)


def test_a_tampered_signed_header_does_not_match() -> None:
    signed = _with_header(_signed(), "content-type", "text/plain")
    assert _error(signed).code == "SignatureDoesNotMatch"


def test_a_tampered_path_or_method_does_not_match() -> None:
    assert _error(replace(_signed(), path="/other")).code == "SignatureDoesNotMatch"
    assert _error(replace(_signed(), method="PUT")).code == "SignatureDoesNotMatch"


def test_a_tampered_date_does_not_match() -> None:
    signed = _with_header(_signed(), "x-amz-date", "20240506T070810Z")
    assert _error(signed).code == "SignatureDoesNotMatch"


def test_a_wrong_secret_does_not_match_and_no_secret_is_shown() -> None:
    error = _error(_signed(secret="not-the-secret-at-all-0000000000000000000"))
    assert error.code == "SignatureDoesNotMatch"
    assert SECRET not in str(error)
    assert "not-the-secret" not in str(error)


def test_an_unknown_key_is_an_invalid_client_token() -> None:
    error = _error(_signed(key="AKIANOTKNOWN00000000"))
    assert (error.code, error.message) == (
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    )


def test_no_authentication_at_all() -> None:
    signed = _without_header(_signed(), "authorization")
    error = _error(signed)
    assert (error.code, error.message) == (
        "MissingAuthenticationToken",
        "Request is missing Authentication Token",
    )


@pytest.mark.parametrize(
    ("authorization", "expected"),
    [
        (
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240506/us-east-1/sts/aws4_request",
            "Authorization header requires 'Signature' parameter. Authorization header requires"
            " 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 Credential=",
        ),
        (
            "AWS4-HMAC-SHA256 Credential",
            "'Credential' not a valid key=value pair (missing equal-sign)",
        ),
        ("Basic dXNlcjpwYXNz", "Authorization header requires 'Credential' parameter."),
        (
            "AWS4-HMAC-SHA256 Credential=AKIA/20240506/us-east-1/sts, SignedHeaders=host,"
            " Signature=ab",
            "Credential must have exactly 5 slash-delimited elements, e.g."
            " keyid/date/region/service/term, got 'AKIA/20240506/us-east-1/sts'",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIA/20240506/us-east-1/sts/aws5, SignedHeaders=host,"
            " Signature=ab",
            "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5'.",
        ),
    ],
)
def test_incomplete_signatures(authorization: str, expected: str) -> None:
    error = _error(_with_header(_signed(), "authorization", authorization))
    assert error.code == "IncompleteSignature"
    assert expected in error.message


def test_the_signature_value_is_never_echoed() -> None:
    authorization = (
        "AWS4-HMAC-SHA256 Credential=AKIA/20240506/us-east-1/sts, SignedHeaders=host,"
        " Signature=abcdef"
    )
    error = _error(_with_header(_signed(), "authorization", authorization))
    assert "abcdef" not in error.message


def test_a_date_outside_iso_basic_format_is_incomplete() -> None:
    error = _error(_with_header(_signed(), "x-amz-date", "2024-05-06T07:08:09Z"))
    assert error.code == "IncompleteSignature"
    assert error.message.startswith(
        "Date must be in ISO-8601 'basic format'. Got '2024-05-06T07:08:09Z'."
    )


def test_the_scope_date_must_match_the_request_date() -> None:
    signed = _signed()
    authorization = dict(signed.headers)["Authorization"].replace("/20240506/", "/20240507/")
    error = _error(_with_header(signed, "authorization", authorization))
    assert error.code == "SignatureDoesNotMatch"
    assert error.message == (
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from"
        " HTTP: '20240507' != '20240506', from '20240506T070809Z'."
    )


def test_a_date_header_can_replace_x_amz_date() -> None:
    signed = _signed(headers={"Date": "placeholder"})  # botocore then signs Date, not X-Amz-Date
    assert "x-amz-date" not in {name.lower() for name, _ in signed.headers}
    assert _verifier().verify(signed).access_key_id == KEY


def test_an_unreadable_date_header_is_incomplete() -> None:
    signed = _without_header(_signed(), "x-amz-date")
    error = _error(replace(signed, headers=(*signed.headers, ("Date", "yesterday"))))
    assert (error.code, error.message) == (
        "IncompleteSignature",
        "Date must be in RFC 1123 format. Got 'yesterday'.",
    )


# --- clock skew ---------------------------------------------------------------------------


def test_five_minutes_of_skew_are_accepted() -> None:
    for offset in (-300, 300):
        assert _verifier(now=NOW + timedelta(seconds=offset)).verify(_signed())


def test_an_old_request_has_an_expired_signature() -> None:
    error = _error(_signed(), _verifier(now=NOW + timedelta(seconds=301)))
    assert error.code == "RequestTimeTooSkewed"
    assert error.message == (
        "Signature expired: 20240506T070809Z is now earlier than 20240506T070810Z"
        " (20240506T071310Z - 5 min.)"
    )


def test_a_future_request_is_not_yet_current() -> None:
    error = _error(_signed(), _verifier(now=NOW - timedelta(seconds=301)))
    assert error.code == "RequestTimeTooSkewed"
    assert error.message == (
        "Signature not yet current: 20240506T070809Z is still later than 20240506T070808Z"
        " (20240506T070308Z + 5 min.)"
    )


# --- session keys -------------------------------------------------------------------------


@pytest.mark.parametrize("hashed", [True, False])
def test_a_session_key_with_its_token_verifies(hashed: bool) -> None:
    signed = _signed(key=SESSION_KEY, secret=SESSION_SECRET, token=TOKEN)
    assert _verifier(Resolver(hashed=hashed)).verify(signed).access_key_id == SESSION_KEY


def test_a_session_key_without_or_with_a_wrong_token_is_invalid() -> None:
    missing = _signed(key=SESSION_KEY, secret=SESSION_SECRET)
    wrong = _signed(key=SESSION_KEY, secret=SESSION_SECRET, token="another-token")
    for signed in (missing, wrong):
        error = _error(signed)
        assert error.code == "InvalidClientTokenId"
        assert TOKEN not in error.message


def test_a_long_term_key_with_a_token_is_invalid() -> None:
    assert _error(_signed(token=TOKEN)).code == "InvalidClientTokenId"


def test_an_expired_session_is_an_expired_token() -> None:
    resolver = Resolver(session_expires=NOW - timedelta(seconds=1))
    error = _error(
        _signed(key=SESSION_KEY, secret=SESSION_SECRET, token=TOKEN), _verifier(resolver)
    )
    assert (error.code, error.message) == (
        "ExpiredToken",
        "The security token included in the request is expired",
    )


# --- payload hash -------------------------------------------------------------------------


def test_unsigned_payload_leaves_the_body_unchecked() -> None:
    signed = _signed(headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    assert _verifier().verify(replace(signed, body=b"anything")).access_key_id == KEY


def test_a_signed_payload_digest_must_match_the_body() -> None:
    digest = hashlib.sha256(FORM).hexdigest()
    signed = _signed(headers={"X-Amz-Content-SHA256": digest})
    assert _verifier().verify(signed)
    assert _error(replace(signed, body=b"tampered")).code == "SignatureDoesNotMatch"


def test_a_streaming_payload_marker_is_refused() -> None:
    signed = _signed(headers={"X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"})
    assert _error(signed).code == "IncompleteSignature"


def test_an_unsigned_content_sha_header_does_not_replace_the_body_hash() -> None:
    signed = _signed()
    headers = (*signed.headers, ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"))
    assert (
        _error(replace(signed, headers=headers, body=b"tampered")).code == "SignatureDoesNotMatch"
    )


# --- the presigned form -------------------------------------------------------------------

PRESIGN_URL = f"http://{HOST}/?Action=GetCallerIdentity&Version=2011-06-15"


def test_a_presigned_request_verifies() -> None:
    assert _verifier().verify(_presigned(url=PRESIGN_URL)).service == "sts"


def test_a_presigned_session_request_carries_its_token() -> None:
    signed = _presigned(url=PRESIGN_URL, key=SESSION_KEY, secret=SESSION_SECRET, token=TOKEN)
    assert _verifier().verify(signed).access_key_id == SESSION_KEY


def test_a_presigned_request_expires() -> None:
    signed = _presigned(url=PRESIGN_URL, expires=60)
    assert _verifier(now=NOW + timedelta(seconds=60)).verify(signed)
    error = _error(signed, _verifier(now=NOW + timedelta(seconds=61)))
    assert error.code == "RequestTimeTooSkewed"
    assert error.message == (
        "Signature expired: 20240506T070809Z is now earlier than 20240506T070810Z"
        " (20240506T070910Z - 60 sec.)"
    )


def test_a_tampered_presigned_parameter_does_not_match() -> None:
    signed = _presigned(url=PRESIGN_URL)
    tampered = replace(
        signed, query_string=signed.query_string.replace("GetCallerIdentity", "GetUser")
    )
    assert _error(tampered).code == "SignatureDoesNotMatch"


def test_a_presigned_request_needs_every_parameter() -> None:
    signed = _presigned(url=PRESIGN_URL)
    query = "&".join(
        p for p in signed.query_string.split("&") if not p.startswith("X-Amz-SignedHeaders")
    )
    error = _error(replace(signed, query_string=query))
    assert error.code == "IncompleteSignature"
    assert error.message.startswith("AWS query-string parameters must include 'X-Amz-Algorithm'")


@pytest.mark.parametrize("expires", ["0", "604801", "soon"])
def test_a_presigned_expiry_out_of_range_is_incomplete(expires: str) -> None:
    signed = _presigned(url=PRESIGN_URL)
    query = signed.query_string.replace("X-Amz-Expires=60", f"X-Amz-Expires={expires}")
    assert _error(replace(signed, query_string=query)).code == "IncompleteSignature"


def test_a_presigned_request_with_an_authorization_header_is_refused() -> None:
    signed = _presigned(url=PRESIGN_URL)
    with_header = replace(
        signed, headers=(*signed.headers, ("Authorization", "AWS4-HMAC-SHA256 x"))
    )
    assert _error(with_header).message.startswith("Only one auth mechanism allowed")


def test_a_presigned_algorithm_must_be_sigv4() -> None:
    signed = _presigned(url=PRESIGN_URL)
    query = signed.query_string.replace("X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS3")
    assert _error(replace(signed, query_string=query)).code == "IncompleteSignature"
