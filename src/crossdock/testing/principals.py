"""AWS credentials for any principal of a running scenario.

``arn:aws:iam::A:root`` (or just ``A``) is the account root: its key from the scenario,
else the account's first root key in the data dir. A user is ``arn:aws:iam::A:user/NAME``
(any path): its key from the scenario, else a key created for it through the IAM API as the
account root. A role is ``arn:aws:iam::A:role/NAME``: a session from
``sts:AssumeRole``, called as the first principal its trust policy lets in (``via``
names one); ``arn:aws:sts::A:assumed-role/NAME/SESSION`` picks the session name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from crossdock.service.scenario_model import Scenario

_ARN = re.compile(
    r"arn:aws:(?P<service>iam|sts)::(?P<account>[0-9]{12}):"
    r"(?P<kind>root|user|role|assumed-role)(?:/(?P<rest>.+))?"
)
SESSION_NAME = "crossdock-testing"


class PrincipalLookupError(LookupError):
    """A principal that is not in the scenario, or that no known principal can become."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """An access key, with a session token for role sessions."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


@dataclass(frozen=True, slots=True)
class PrincipalName:
    """A principal as people name it: its account, kind and name."""

    account_id: str
    kind: str
    """``root``, ``user``, ``role`` or ``assumed-role``."""
    name: str = ""
    session_name: str = SESSION_NAME

    @classmethod
    def parse(cls, value: str) -> PrincipalName:
        """Read an account id, a root, user or role ARN, or an assumed-role ARN."""
        if re.fullmatch(r"[0-9]{12}", value):
            return cls(value, "root")
        match = _ARN.fullmatch(value)
        if match is None or (match["kind"] == "root") != (match["rest"] is None):
            raise PrincipalLookupError(
                f"`{value}` is not a principal: use an account id, or an ARN such as "
                "arn:aws:iam::111111111111:root, ...:user/NAME, ...:role/NAME"
            )
        kind, rest = match["kind"], match["rest"] or ""
        if kind == "assumed-role":
            role, _, session = rest.partition("/")
            if not session:
                raise PrincipalLookupError(f"`{value}` has no session name")
            return cls(match["account"], kind, role, session)
        return cls(match["account"], kind, rest.rsplit("/", 1)[-1])

    @property
    def arn(self) -> str:
        """The canonical ARN (without the IAM path)."""
        if self.kind == "root":
            return f"arn:aws:iam::{self.account_id}:root"
        if self.kind == "assumed-role":
            return f"arn:aws:sts::{self.account_id}:assumed-role/{self.name}/{self.session_name}"
        return f"arn:aws:iam::{self.account_id}:{self.kind}/{self.name}"


class ScenarioPrincipals:
    """Finds or makes credentials for the principals of one scenario on one server.

    ``root_key`` reads an account's root key from the data dir; ``client`` makes a boto3
    client for ``(service, credentials)`` against the server.
    """

    def __init__(
        self,
        scenario: Scenario,
        root_key: Callable[[str], Credentials],
        client: Callable[[str, Credentials], Any],
    ) -> None:
        self._scenario = scenario
        self._root_key = root_key
        self._client = client
        self._made: dict[str, Credentials] = {}

    def credentials(self, principal: str, via: str | None = None) -> Credentials:
        """Credentials of ``principal`` (see the module docstring)."""
        name = PrincipalName.parse(principal)
        key = f"{name.arn}|{via or ''}"
        found = self._made.get(key)
        if found is None:
            found = self._credentials(name, via)
            self._made[key] = found
        return found

    def _credentials(self, name: PrincipalName, via: str | None) -> Credentials:
        if name.kind == "root":
            return self._root(name.account_id)
        if name.kind == "user":
            return self._user(name)
        return self._session(name, via)

    def _account(self, account_id: str) -> Any:
        for account in self._scenario.accounts:
            if account.account_id == account_id:
                return account
        return None

    def _root(self, account_id: str) -> Credentials:
        account = self._account(account_id)
        if account is not None and account.root_access_keys:
            key = account.root_access_keys[0]
            return Credentials(key.access_key_id, key.secret_access_key)
        return self._root_key(account_id)

    def _user(self, name: PrincipalName) -> Credentials:
        account = self._account(name.account_id)
        spec = (
            None
            if account is None
            else next((u for u in account.users if u.name == name.name), None)
        )
        if spec is not None and spec.access_keys:
            key = spec.access_keys[0]
            return Credentials(key.access_key_id, key.secret_access_key)
        iam = self._client("iam", self._root(name.account_id))
        try:
            created = iam.create_access_key(UserName=name.name)["AccessKey"]
        except Exception as error:  # botocore's ClientError: NoSuchEntity and friends
            raise PrincipalLookupError(f"cannot get a key for {name.arn}: {error}") from None
        return Credentials(created["AccessKeyId"], created["SecretAccessKey"])

    def _role_arn(self, name: PrincipalName) -> tuple[str, str]:
        """The role's full ARN (with its path) and its trust policy text."""
        account = self._account(name.account_id)
        for role in () if account is None else account.roles:
            if role.name == name.name:
                arn = f"arn:aws:iam::{name.account_id}:role{role.path}{role.name}"
                return arn, role.trust_policy
        iam = self._client("iam", self._root(name.account_id))
        try:
            found = iam.get_role(RoleName=name.name)["Role"]
        except Exception as error:  # NoSuchEntity
            raise PrincipalLookupError(f"no role {name.arn}: {error}") from None
        document = found.get("AssumeRolePolicyDocument", {})
        text = document if isinstance(document, str) else json.dumps(document)
        return str(found["Arn"]), text

    def _session(self, name: PrincipalName, via: str | None) -> Credentials:
        role_arn, trust = self._role_arn(name)
        candidates = [via] if via is not None else list(_trusted(trust, self._scenario))
        tried: list[str] = []
        for candidate in candidates:
            try:
                caller = self.credentials(candidate)
            except PrincipalLookupError:
                continue
            sts = self._client("sts", caller)
            try:
                issued = sts.assume_role(RoleArn=role_arn, RoleSessionName=name.session_name)
            except Exception as error:  # AccessDenied: try the next candidate
                tried.append(f"{candidate} ({_code(error)})")
                continue
            found = issued["Credentials"]
            return Credentials(
                found["AccessKeyId"], found["SecretAccessKey"], found["SessionToken"]
            )
        detail = "; tried " + ", ".join(tried) if tried else ": its trust policy names nobody"
        raise PrincipalLookupError(
            f"no principal of the scenario may assume {role_arn}{detail}: "
            "pass via= a principal its trust policy allows"
        )


def _code(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", error))
    return str(error)


def _trusted(trust_policy: str, scenario: Scenario) -> Iterator[str]:
    """Principals to try for ``sts:AssumeRole``: those the trust policy names, then the
    users and root of each account it names."""
    try:
        document = json.loads(trust_policy)
    except ValueError:
        return
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    named: list[str] = []
    for statement in statements:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal", {})
        values = principal.get("AWS", []) if isinstance(principal, dict) else []
        named += [values] if isinstance(values, str) else [str(v) for v in values]
    seen: set[str] = set()
    for value in named:
        account = value if re.fullmatch(r"[0-9]{12}", value) else None
        match = _ARN.fullmatch(value)
        if match is not None and match["kind"] == "root":
            account = match["account"]
        if account is None:
            if value not in seen:
                seen.add(value)
                yield value
            continue
        for spec in scenario.accounts:
            if spec.account_id != account:
                continue
            for user in spec.users:
                arn = f"arn:aws:iam::{account}:user/{user.name}"
                if arn not in seen:
                    seen.add(arn)
                    yield arn
        root = f"arn:aws:iam::{account}:root"
        if root not in seen:
            seen.add(root)
            yield root
