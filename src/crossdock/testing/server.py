"""A crossdock server for a test: start it from a scenario, act as any of its principals,
and assert who may do what.

:func:`start_server` runs ``crossdock serve`` in a subprocess on a free 127.0.0.1 port with
a private data dir and yields a :class:`CrossdockServer`. Its helpers return boto3
sessions and registry credentials for any principal of the scenario, and
:meth:`CrossdockServer.assert_access` / :meth:`CrossdockServer.assert_access_matrix` check
decisions with the server's own Authorizer; a failure quotes the ``explain`` trace.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from crossdock.testing.access import AccessResult, DataDirAccess
from crossdock.testing.principals import Credentials, PrincipalName, ScenarioPrincipals
from crossdock.testing.process import ServeProcess, start_serve

ScenarioSource = str | Path | Mapping[str, Any] | None
"""A scenario YAML file, a scenario document (e.g. Terraform outputs shaped as one), or
None for an empty server."""

VERBS = ("pull", "push")
_ALLOW = {"allow", "allowed", True}
_DENY = {"deny", "denied", False}
_ACCOUNT = re.compile(r"[0-9]{12}")
_EXACT = {
    "conditional": "Conditional",
    "implicitdeny": "ImplicitlyDenied",
    "implicitlydenied": "ImplicitlyDenied",
    "explicitdeny": "ExplicitlyDenied",
    "explicitlydenied": "ExplicitlyDenied",
}
_ARN = re.compile(r"arn:aws[a-z-]*:ecr:([a-z0-9-]+):([0-9]{12}):repository/(.+)")


@dataclass(frozen=True, slots=True)
class RegistryCredentials:
    """A ``docker login`` credential from GetAuthorizationToken."""

    registry: str
    """``host:port`` to log in to (path style: ``registry/<account>/<repo>``)."""
    username: str
    password: str
    expires_at: datetime

    @property
    def auth(self) -> str:
        """``base64(username:password)``: the ``auth`` value of a Docker config file."""
        return base64.b64encode(f"{self.username}:{self.password}".encode()).decode()


def _session_class(endpoint_url: str) -> Any:
    import boto3

    class CrossdockSession(boto3.session.Session):  # type: ignore[misc]
        """A boto3 session whose clients and resources talk to the test server."""

        def client(self, *args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("endpoint_url", endpoint_url)
            return super().client(*args, **kwargs)

        def resource(self, *args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("endpoint_url", endpoint_url)
            return super().resource(*args, **kwargs)

    return CrossdockSession


class CrossdockServer:
    """A running crossdock server and helpers to act as, and check, its principals."""

    def __init__(
        self, process: ServeProcess, scenario: Any, region: str, scenario_file: Path | None
    ) -> None:
        self.process = process
        self.url = process.url
        """``http://127.0.0.1:PORT``: the ECR, IAM and STS endpoint and the registry."""
        self.port = process.port
        self.registry = f"127.0.0.1:{process.port}"
        """``host:port`` of the registry (path style: ``registry/<account>/<repo>``)."""
        self.data_dir = process.data_dir
        self.region = region
        self.scenario_file = scenario_file
        self._scenario = scenario
        self._access = DataDirAccess(process.data_dir)
        self._session = _session_class(self.url)
        self._principals = ScenarioPrincipals(scenario, self._root_key, self._client)

    # -- acting as a principal -------------------------------------------------------

    def credentials(self, principal: str, *, via: str | None = None) -> Credentials:
        """AWS credentials of ``principal`` (an account id or a root, user, role or
        assumed-role ARN); roles are assumed as ``via`` or a principal their trust allows."""
        return self._principals.credentials(principal, via)

    def session(self, principal: str, *, via: str | None = None) -> Any:
        """A ``boto3.session.Session`` of ``principal`` whose clients use this server."""
        found = self.credentials(principal, via=via)
        return self._session(
            aws_access_key_id=found.access_key_id,
            aws_secret_access_key=found.secret_access_key,
            aws_session_token=found.session_token,
            region_name=self.region,
        )

    def client(self, service: str, principal: str, *, via: str | None = None) -> Any:
        """A boto3 client of ``service`` (``ecr``, ``iam``, ``sts``) as ``principal``."""
        return self.session(principal, via=via).client(service)

    def registry_credentials(
        self, principal: str, *, via: str | None = None
    ) -> RegistryCredentials:
        """``AWS`` and a password from GetAuthorizationToken, called as ``principal``."""
        data = self.client("ecr", principal, via=via).get_authorization_token()
        entry = data["authorizationData"][0]
        decoded = base64.b64decode(entry["authorizationToken"]).decode()
        username, _, password = decoded.partition(":")
        return RegistryCredentials(self.registry, username, password, entry["expiresAt"])

    def image(self, repository: str, reference: str = "latest") -> str:
        """The image reference clients pull: ``127.0.0.1:PORT/<account>/<repo>:<tag>``."""
        _, account, name = self._repository(repository)
        separator = "@" if reference.startswith("sha256:") else ":"
        return f"{self.registry}/{account}/{name}{separator}{reference}"

    # -- checking access -------------------------------------------------------------

    def repository_arn(self, repository: str) -> str:
        """The ARN of ``repository``: an ARN, ``<account>/<name>``, an image reference
        on this server, or a name that exactly one scenario account has."""
        region, account, name = self._repository(repository)
        return f"arn:aws:ecr:{region}:{account}:repository/{name}"

    def check_access(self, principal: str, action: str, repository: str) -> AccessResult:
        """What ``crossdock explain`` says about ``principal`` (an account id or a root,
        user, role or assumed-role ARN; a role means any session of it) doing ``action``
        (``pull``, ``push`` or an ECR action such as ``ecr:PutImage``) on ``repository``."""
        from crossdock.service.ecr.common import RepositoryRef

        region, account, name = self._repository(repository)
        arn = PrincipalName.parse(principal).arn if _ACCOUNT.fullmatch(principal) else principal
        return self._access.check(arn, action, RepositoryRef(account, region, name))

    def assert_access(
        self,
        principal: str,
        action: str,
        repository: str,
        expected: bool | str,
    ) -> AccessResult:
        """Fail unless the answer is ``expected``: True/``"allow"``, False/``"deny"``, or
        exactly ``"Conditional"``, ``"ImplicitlyDenied"`` or ``"ExplicitlyDenied"``. The
        failure message is the ``crossdock explain`` output for the request."""
        __tracebackhide__ = True
        want = _expected(expected)
        result = self.check_access(principal, action, repository)
        got = result.outcome
        if _matches(want, got):
            return result
        wanted = {"allow": "allowed", "deny": "denied"}.get(want, want)
        raise AssertionError(
            f"expected {principal} {action} {result.repository_arn}: {wanted}, "
            f"but crossdock explains: {got}\n{result.explanation()}"
        )

    def assert_access_matrix(
        self, expected_table: Mapping[str, Mapping[str, str | Iterable[str] | None]]
    ) -> None:
        """Check ``{repository: {principal: access}}`` cell by cell, where ``access`` is
        what the principal may do: ``"pull"``, ``"push"``, ``"pull,push"``, ``"none"``
        (or None, or a set such as ``{"pull", "ecr:ListImages"}``). Every ``pull`` and
        ``push`` is checked, plus any ECR action a cell names. One failure lists every
        cell that differs, each with its trace."""
        __tracebackhide__ = True
        problems: list[str] = []
        cells = 0
        for repository, row in expected_table.items():
            for principal, access in row.items():
                wanted = _access_set(access)
                for action in sorted(set(VERBS) | wanted):
                    cells += 1
                    result = self.check_access(principal, action, repository)
                    if result.allowed == (action in wanted):
                        continue
                    want = "allowed" if action in wanted else "denied"
                    problems.append(
                        f"{repository} / {principal} / {action}: expected {want}, "
                        f"but crossdock explains: {result.outcome}\n{result.explanation()}"
                    )
        if problems:
            header = f"{len(problems)} of {cells} access checks differ from the expected table"
            raise AssertionError("\n\n".join([header, *problems]))

    # -- lifecycle -------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the server process and release the data dir."""
        self._access.close()
        self.process.stop()

    def _root_key(self, account_id: str) -> Credentials:
        key_id, secret = self._access.root_key(account_id)
        return Credentials(key_id, secret)

    def _client(self, service: str, credentials: Credentials) -> Any:
        return self._session(
            aws_access_key_id=credentials.access_key_id,
            aws_secret_access_key=credentials.secret_access_key,
            aws_session_token=credentials.session_token,
            region_name=self.region,
        ).client(service)

    def _repository(self, value: str) -> tuple[str, str, str]:
        match = _ARN.fullmatch(value)
        if match is not None:
            return match[1], match[2], match[3]
        path = value.removeprefix(self.registry + "/")
        path = re.sub(r"(@sha256:[0-9a-f]{64}|:[\w][\w.-]{0,127})$", "", path)
        first, _, rest = path.partition("/")
        if re.fullmatch(r"[0-9]{12}", first) and rest:
            return self._repository_region(first, rest), first, rest
        owners = [
            account.account_id
            for account in self._scenario.accounts
            for spec in account.repositories
            if spec.name == path
        ]
        if len(owners) != 1:
            problem = "no scenario account has" if not owners else "several accounts have"
            raise LookupError(
                f"{problem} a repository `{path}`: name it as <account>/{path} or by its ARN"
            )
        return self._repository_region(owners[0], path), owners[0], path

    def _repository_region(self, account_id: str, name: str) -> str:
        for account in self._scenario.accounts:
            if account.account_id == account_id:
                for spec in account.repositories:
                    if spec.name == name and spec.region:
                        return str(spec.region)
        return self.region


def _expected(expected: bool | str) -> str:
    folded = expected.lower() if isinstance(expected, str) else expected
    if folded in _ALLOW:
        return "allow"
    if folded in _DENY:
        return "deny"
    if isinstance(folded, str) and folded in _EXACT:
        return _EXACT[folded]
    raise ValueError(
        "expected must be True, False, 'allow', 'deny', 'Conditional', 'ImplicitlyDenied' "
        f"or 'ExplicitlyDenied', not {expected!r}"
    )


def _matches(want: str, got: str) -> bool:
    if want == "allow":
        return got == "Allowed"
    if want == "deny":
        return got in ("ImplicitlyDenied", "ExplicitlyDenied")
    return got == want


def _access_set(access: str | Iterable[str] | None) -> set[str]:
    if access is None:
        return set()
    if isinstance(access, str):
        parts = re.split(r"[\s,+]+", access.strip())
    else:
        parts = [str(part) for part in access]
    found = {p if p.startswith("ecr:") else p.lower() for p in parts if p}
    found.discard("none")
    return found


def _load_scenario(source: ScenarioSource, directory: Path) -> tuple[Any, Path | None]:
    import yaml

    from crossdock.service.scenario_model import Scenario, load_scenario

    if source is None:
        return Scenario(accounts=()), None
    if isinstance(source, Mapping):
        path = directory / "scenario.yaml"
        path.write_text(yaml.safe_dump(dict(source), sort_keys=False), encoding="utf-8")
        return load_scenario(dict(source)), path
    path = Path(source)
    return load_scenario(yaml.safe_load(path.read_text(encoding="utf-8"))), path


@contextmanager
def start_server(
    scenario: ScenarioSource,
    directory: Path,
    *,
    region: str = "us-east-1",
    token_ttl: int | None = None,
    registry_domain: str | None = None,
) -> Iterator[CrossdockServer]:
    """Run ``crossdock serve`` for ``scenario`` with its state under ``directory``; stop it
    (by its PID) on exit. ``token_ttl`` and ``registry_domain`` are ``serve``'s
    ``--token-ttl`` and ``--registry-domain``."""
    directory.mkdir(parents=True, exist_ok=True)
    model, path = _load_scenario(scenario, directory)
    args = ["--region", region]
    if path is not None:
        args += ["--scenario", str(path)]
    if token_ttl is not None:
        args += ["--token-ttl", str(token_ttl)]
    if registry_domain is not None:
        args += ["--registry-domain", registry_domain]
    server = CrossdockServer(start_serve(directory, args), model, region, path)
    try:
        yield server
    finally:
        server.stop()
