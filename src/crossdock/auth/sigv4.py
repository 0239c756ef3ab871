"""SigV4 verification, built on botocore's own canonicalization.

The server never re-implements the canonical request: it rebuilds the request the client
signed (an ``AWSRequest`` holding exactly the signed headers, the raw path and query, the
body) and asks botocore's :class:`~botocore.auth.SigV4Auth` (header form) or
:class:`~botocore.auth.SigV4QueryAuth` (presigned form) for the canonical request, the
string to sign and the signature, with the request's own ``X-Amz-Date`` as timestamp.

Checks, in order: the authentication data is present and well formed; the date is in
ISO-8601 basic format and matches the credential scope; the clock skew is at most five
minutes (and a presigned request has not expired); the access key is known and active;
a session key presents its session token and is not expired; the signature matches
(compared in constant time); a signed SHA-256 payload hash matches the body.

Every failure raises :class:`~crossdock.service.errors.AuthenticationError` with a
generic code that each protocol renames. Secrets never reach a message or a log.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import parse_qsl

from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from crossdock.auth.credentials import Credential, CredentialResolver
from crossdock.auth.principal import Principal
from crossdock.service.errors import AuthenticationError

ALGORITHM = "AWS4-HMAC-SHA256"
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
MAX_PRESIGN_EXPIRES = 604_800
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
_BASIC_DATE = re.compile(r"[0-9]{8}T[0-9]{6}Z")
_PRESIGN_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
)

# The generic codes of AuthenticationError (each protocol renames them).
MISSING = "MissingAuthenticationToken"
INCOMPLETE = "IncompleteSignature"
INVALID_KEY = "InvalidClientTokenId"
MISMATCH = "SignatureDoesNotMatch"
EXPIRED_TOKEN = "ExpiredToken"
SKEWED = "RequestTimeTooSkewed"

MISSING_MESSAGE = "Request is missing Authentication Token"
INVALID_KEY_MESSAGE = "The security token included in the request is invalid."
MISMATCH_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
EXPIRED_TOKEN_MESSAGE = "The security token included in the request is expired"


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """An HTTP request as received: ``path`` still percent-encoded, headers unchanged."""

    method: str
    path: str
    query_string: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True, slots=True)
class VerifiedRequest:
    """Who signed the request, and for which service and region (the credential scope)."""

    principal: Principal
    service: str
    region: str
    access_key_id: str


@dataclass(frozen=True, slots=True)
class _Claim:
    """What the request says about its own signature."""

    access_key_id: str
    scope_date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    timestamp: str
    moment: datetime
    session_token: str | None
    presigned: bool
    expires: int | None
    raw_query: str


class SigV4Verifier:
    """Verifies SigV4 signatures (header and presigned forms) against known credentials."""

    def __init__(
        self,
        resolver: CredentialResolver,
        clock: Callable[[], datetime],
        max_skew: timedelta = timedelta(minutes=5),
    ) -> None:
        self._resolver = resolver
        self._clock = clock
        self._max_skew = max_skew

    def verify(self, signed: SignedRequest) -> VerifiedRequest:
        """The verified caller of ``signed``; AuthenticationError when it does not verify."""
        headers = _header_map(signed.headers)
        claim = _read_claim(signed, headers)
        self._check_time(claim)
        credential = self._resolver.credential(claim.access_key_id)
        if credential is None:
            raise AuthenticationError(INVALID_KEY_MESSAGE, code=INVALID_KEY)
        self._check_session(credential, claim)
        expected = _expected_signature(signed, headers, claim, credential.secret_access_key)
        if not hmac.compare_digest(expected.encode(), claim.signature.encode()):
            raise AuthenticationError(MISMATCH_MESSAGE, code=MISMATCH)
        _check_payload(signed, headers, claim)
        return VerifiedRequest(
            credential.principal, claim.service, claim.region, credential.access_key_id
        )

    def _check_time(self, claim: _Claim) -> None:
        now = self._clock().astimezone(UTC)
        skew = self._max_skew
        minutes = int(skew.total_seconds() // 60)
        if claim.moment < now - skew and not claim.presigned:
            raise AuthenticationError(
                f"Signature expired: {claim.timestamp} is now earlier than {_fmt(now - skew)}"
                f" ({_fmt(now)} - {minutes} min.)",
                code=SKEWED,
            )
        if claim.moment > now + skew:
            raise AuthenticationError(
                f"Signature not yet current: {claim.timestamp} is still later than"
                f" {_fmt(now + skew)} ({_fmt(now)} + {minutes} min.)",
                code=SKEWED,
            )
        if claim.presigned and claim.expires is not None:
            window = timedelta(seconds=claim.expires)
            if claim.moment + window < now:
                raise AuthenticationError(
                    f"Signature expired: {claim.timestamp} is now earlier than"
                    f" {_fmt(now - window)} ({_fmt(now)} - {claim.expires} sec.)",
                    code=SKEWED,
                )

    def _check_session(self, credential: Credential, claim: _Claim) -> None:
        presented = claim.session_token
        temporary = credential.session_token is not None or credential.session_token_sha256
        if not temporary:
            if presented:
                raise AuthenticationError(INVALID_KEY_MESSAGE, code=INVALID_KEY)
            return
        if not presented or not _token_matches(credential, presented):
            raise AuthenticationError(INVALID_KEY_MESSAGE, code=INVALID_KEY)
        expires = credential.expires_at
        if expires is not None and self._clock().astimezone(UTC) >= expires:
            raise AuthenticationError(EXPIRED_TOKEN_MESSAGE, code=EXPIRED_TOKEN)


def _token_matches(credential: Credential, presented: str) -> bool:
    if credential.session_token is not None:
        return hmac.compare_digest(
            credential.session_token.encode("utf-8"), presented.encode("utf-8")
        )
    digest = hashlib.sha256(presented.encode("utf-8")).hexdigest()
    return hmac.compare_digest(credential.session_token_sha256 or "", digest)


def _fmt(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def _header_map(headers: tuple[tuple[str, str], ...]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in headers:
        found.setdefault(name.lower(), []).append(value)
    return found


def _first(headers: Mapping[str, list[str]], name: str) -> str | None:
    values = headers.get(name)
    return values[0] if values else None


# --- reading the request's claim ---------------------------------------------------------


def _read_claim(signed: SignedRequest, headers: Mapping[str, list[str]]) -> _Claim:
    authorization = _first(headers, "authorization")
    query = dict(parse_qsl(signed.query_string, keep_blank_values=True))
    if authorization is not None and "X-Amz-Algorithm" in query:
        raise AuthenticationError(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or"
            " the Authorization header should be specified",
            code=INCOMPLETE,
        )
    if "X-Amz-Algorithm" in query:
        return _presigned_claim(signed, query)
    if authorization is None:
        raise AuthenticationError(MISSING_MESSAGE, code=MISSING)
    return _header_claim(signed, headers, authorization)


def _header_claim(
    signed: SignedRequest, headers: Mapping[str, list[str]], authorization: str
) -> _Claim:
    algorithm, _, rest = authorization.strip().partition(" ")
    fields: dict[str, str] = {}
    if algorithm == ALGORITHM:
        for part in (p.strip() for p in rest.split(",")):
            if not part:
                continue
            key, equal, value = part.partition("=")
            if not equal:
                raise AuthenticationError(
                    f"'{part}' not a valid key=value pair (missing equal-sign) in"
                    f" Authorization header: '{_redacted(authorization)}'.",
                    code=INCOMPLETE,
                )
            fields[key.strip()] = value.strip()
    amz_date = _first(headers, "x-amz-date")
    http_date = _first(headers, "date")
    problems = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if not fields.get(name)
    ]
    if amz_date is None and http_date is None:
        problems.append(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    if problems:
        detail = " ".join(problems)
        raise AuthenticationError(
            f"{detail} Authorization={_redacted(authorization)}", code=INCOMPLETE
        )
    timestamp, moment = _timestamp(amz_date, http_date)
    return _claim(
        fields["Credential"],
        fields["SignedHeaders"],
        fields["Signature"],
        timestamp,
        moment,
        session_token=_first(headers, "x-amz-security-token"),
        presigned=False,
        expires=None,
        raw_query=signed.query_string,
    )


def _presigned_claim(signed: SignedRequest, query: Mapping[str, str]) -> _Claim:
    if any(not query.get(name) for name in _PRESIGN_PARAMS):
        raise AuthenticationError(
            "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential',"
            " 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', and 'X-Amz-Expires'."
            " Re-examine the query-string parameters.",
            code=INCOMPLETE,
        )
    if query["X-Amz-Algorithm"] != ALGORITHM:
        raise AuthenticationError(f'X-Amz-Algorithm only supports "{ALGORITHM}"', code=INCOMPLETE)
    expires = _expires(query.get("X-Amz-Expires"))
    timestamp, moment = _timestamp(query["X-Amz-Date"], None)
    raw_query = "&".join(
        pair
        for pair in signed.query_string.split("&")
        if pair and pair.partition("=")[0] != "X-Amz-Signature"
    )
    return _claim(
        query["X-Amz-Credential"],
        query["X-Amz-SignedHeaders"],
        query["X-Amz-Signature"],
        timestamp,
        moment,
        session_token=query.get("X-Amz-Security-Token"),
        presigned=True,
        expires=expires,
        raw_query=raw_query,
    )


def _expires(value: str | None) -> int:
    if value is None:
        raise AuthenticationError(
            "AWS query-string parameters must include 'X-Amz-Expires'.", code=INCOMPLETE
        )
    if not value.isdigit() or not 1 <= int(value) <= MAX_PRESIGN_EXPIRES:
        raise AuthenticationError(
            f"X-Amz-Expires must be between 1 and {MAX_PRESIGN_EXPIRES} seconds, got '{value}'",
            code=INCOMPLETE,
        )
    return int(value)


def _claim(
    credential: str,
    signed_headers: str,
    signature: str,
    timestamp: str,
    moment: datetime,
    *,
    session_token: str | None,
    presigned: bool,
    expires: int | None,
    raw_query: str,
) -> _Claim:
    parts = credential.split("/")
    if len(parts) != 5 or not all(parts):
        raise AuthenticationError(
            "Credential must have exactly 5 slash-delimited elements, e.g."
            f" keyid/date/region/service/term, got '{credential}'",
            code=INCOMPLETE,
        )
    access_key_id, scope_date, region, service, terminator = parts
    if terminator != "aws4_request":
        raise AuthenticationError(
            f"Credential should be scoped with a valid terminator: 'aws4_request', not"
            f" '{terminator}'.",
            code=INCOMPLETE,
        )
    if scope_date != timestamp[:8]:
        raise AuthenticationError(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date"
            f" from HTTP: '{scope_date}' != '{timestamp[:8]}', from '{timestamp}'.",
            code=MISMATCH,
        )
    names = tuple(name.strip().lower() for name in signed_headers.split(";") if name.strip())
    return _Claim(
        access_key_id=access_key_id,
        scope_date=scope_date,
        region=region,
        service=service,
        signed_headers=names,
        signature=signature,
        timestamp=timestamp,
        moment=moment,
        session_token=session_token,
        presigned=presigned,
        expires=expires,
        raw_query=raw_query,
    )


@lru_cache(maxsize=1024)
def _basic_date(amz_date: str) -> datetime | None:
    """``X-Amz-Date`` as an aware datetime, or None when it is not ISO-8601 basic format.

    Cached: every request signed in the same second carries the same value, and
    ``strptime`` is a tenth of a verification.
    """
    if _BASIC_DATE.fullmatch(amz_date):
        try:
            return datetime.strptime(amz_date, TIMESTAMP_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            return None
    return None


def _timestamp(amz_date: str | None, http_date: str | None) -> tuple[str, datetime]:
    if amz_date is not None:
        moment = _basic_date(amz_date)
        if moment is not None:
            return amz_date, moment
        raise AuthenticationError(
            f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'."
            " See http://en.wikipedia.org/wiki/ISO_8601",
            code=INCOMPLETE,
        )
    try:
        moment = parsedate_to_datetime(http_date or "")
    except (TypeError, ValueError, IndexError):
        raise AuthenticationError(
            f"Date must be in RFC 1123 format. Got '{http_date}'.", code=INCOMPLETE
        ) from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return _fmt(moment), moment


def _redacted(authorization: str) -> str:
    """The Authorization header without its signature value."""
    return re.sub(r"(Signature=)[0-9A-Za-z]+", r"\1<redacted>", authorization)


# --- recomputing the signature with botocore --------------------------------------------


class _ReceivedRequest(AWSRequest):  # type: ignore[misc]
    """An ``AWSRequest`` whose ``body`` is the received bytes as they are.

    botocore's ``AWSRequest.body`` prepares the whole request again (URL, headers, body) on
    every read only to hand back bytes it was given; the signer reads it once per
    canonical request, which made it a fifth of a verification. The canonicalization is
    still botocore's own.
    """

    @property
    def body(self) -> bytes:
        """The request body, unchanged."""
        return bytes(self.data)


def _expected_signature(
    signed: SignedRequest,
    headers: Mapping[str, list[str]],
    claim: _Claim,
    secret: str,
) -> str:
    url = "http://sigv4.invalid" + (signed.path or "/")
    if claim.raw_query:
        url += "?" + claim.raw_query
    request = _ReceivedRequest(method=signed.method, url=url, data=signed.body)
    for name in claim.signed_headers:
        for value in headers.get(name, ()):
            request.headers[name] = value
    request.context["timestamp"] = claim.timestamp
    credentials = ReadOnlyCredentials(claim.access_key_id, secret, claim.session_token)
    signer_class = SigV4QueryAuth if claim.presigned else SigV4Auth
    signer = signer_class(credentials, claim.service, claim.region)
    canonical = signer.canonical_request(request)
    string_to_sign = signer.string_to_sign(request, canonical)
    key = _signing_key(secret, claim.scope_date, claim.region, claim.service)
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


@lru_cache(maxsize=1024)
def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """The SigV4 signing key: ``botocore.auth.SigV4Auth.signature``'s four-HMAC chain.

    It depends only on its arguments (the secret included, so a rotated key never hits an
    old entry), and it is the same for every request of a day: derive it once.
    """
    key = hmac.new(f"AWS4{secret}".encode(), date.encode("utf-8"), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def _check_payload(signed: SignedRequest, headers: Mapping[str, list[str]], claim: _Claim) -> None:
    """A signed ``x-amz-content-sha256`` must be UNSIGNED-PAYLOAD or the body's digest."""
    if "x-amz-content-sha256" not in claim.signed_headers:
        return
    declared = _first(headers, "x-amz-content-sha256") or ""
    if declared == UNSIGNED_PAYLOAD:
        return
    if not _HEX_DIGEST.fullmatch(declared):
        raise AuthenticationError(
            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a SHA-256 hex digest",
            code=INCOMPLETE,
        )
    if not hmac.compare_digest(hashlib.sha256(signed.body).hexdigest(), declared):
        raise AuthenticationError(MISMATCH_MESSAGE, code=MISMATCH)
