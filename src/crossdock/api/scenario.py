"""Applying a scenario file: the operator's path, idempotent, in dependency order.

Accounts and their fixed keys come first, then (per account) managed policies, groups,
users, roles and repositories, and the organization's SCPs last, so that an SCP never
blocks the scenario that declares it. The services run as each account's root user with
an :class:`~crossdock.service.authz.OperatorAuthorizer`: the operator configures the
server; no network caller ever gets that authorizer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from crossdock.api.compose import Server
from crossdock.api.ecr.services import EcrServices, ecr_services
from crossdock.auth.principal import Principal
from crossdock.policy.context import PrincipalKind
from crossdock.service.authz import OperatorAuthorizer, RequestInfo
from crossdock.service.ecr.common import Actor
from crossdock.service.errors import NotFoundError, ServiceError
from crossdock.service.iam_common import IamContext
from crossdock.service.iam_policies import AttachTarget
from crossdock.service.identities import IdentityService
from crossdock.service.scenario_model import (
    AccountSpec,
    GroupSpec,
    NamedDocument,
    OrganizationSpec,
    RepositorySpec,
    RoleSpec,
    Scenario,
    ScenarioError,
    UnitSpec,
    UserSpec,
    load_scenario,
)
from crossdock.storage.registry_store import RepositorySettings

_T = TypeVar("_T")


def read_scenario_file(path: Path) -> Scenario:
    """Read and check a scenario YAML file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ScenarioError(f"cannot read the scenario: {error}", str(path)) from error
    return load_scenario(data)


@dataclass(frozen=True, slots=True)
class _Operator:
    """Services that authorize everything, over the server's own stores."""

    iam: IdentityService
    ecr: EcrServices
    server: Server
    region: str

    def root(self, account_id: str) -> Principal:
        return Principal(
            account_id=account_id,
            kind=PrincipalKind.ROOT,
            arn=f"arn:aws:iam::{account_id}:root",
            unique_id=account_id,
            access_key_id="scenario",
        )

    def info(self, region: str | None = None) -> RequestInfo:
        return RequestInfo(
            "127.0.0.1", False, "crossdock-scenario", self.server.clock(), region or self.region
        )


def _operator(server: Server, region: str) -> _Operator:
    authorizer = OperatorAuthorizer()
    ctx = IamContext(server.identity_stores, authorizer, server.clock, server.identity.directory)
    iam = IdentityService.create(ctx, server.box)
    ecr = ecr_services(
        server.registry_stores, authorizer, server.identity.directory, server.addressing
    )
    return _Operator(iam, ecr, server, region)


def _step(where: str, action: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """Run one service call; a service error becomes a ScenarioError at ``where``."""
    try:
        return action(*args, **kwargs)
    except ServiceError as error:
        raise ScenarioError(error.message, where) from error


def _exists(action: Callable[[], object]) -> bool:
    try:
        action()
    except NotFoundError:
        return False
    return True


def _policy_arn(account_id: str, name_or_arn: str) -> str:
    if name_or_arn.startswith("arn:"):
        return name_or_arn
    return f"arn:aws:iam::{account_id}:policy/{name_or_arn}"


def _placements(organization: OrganizationSpec | None) -> dict[str, str]:
    """Each account's OU path (``r-xxxx/ou-.../``) from the organization tree."""
    if organization is None:
        return {}
    found = dict.fromkeys(organization.accounts, f"{organization.root_id}/")

    def walk(units: tuple[UnitSpec, ...], prefix: str) -> None:
        for unit in units:
            path = f"{prefix}{unit.ou_id}/"
            found.update(dict.fromkeys(unit.accounts, path))
            walk(unit.units, path)

    walk(organization.units, f"{organization.root_id}/")
    return found


def _scp_targets(organization: OrganizationSpec) -> Iterator[tuple[NamedDocument, str, str]]:
    for scp in organization.scps:
        yield scp, organization.root_id, "organization.scps"

    def walk(units: tuple[UnitSpec, ...], path: str) -> Iterator[tuple[NamedDocument, str, str]]:
        for index, unit in enumerate(units):
            here = f"{path}[{index}]"
            for scp in unit.scps:
                yield scp, unit.ou_id, f"{here}.scps"
            yield from walk(unit.units, f"{here}.units")

    yield from walk(organization.units, "organization.units")


def _scp_id(org_id: str, name: str) -> str:
    return "p-" + hashlib.sha256(f"{org_id}/{name}".encode()).hexdigest()[:12]


class _AccountApplier:
    """Applies one account's contents as its root user."""

    def __init__(self, operator: _Operator, spec: AccountSpec, path: str) -> None:
        self.op = operator
        self.spec = spec
        self.path = path
        self.root = operator.root(spec.account_id)
        self.info = operator.info()

    def apply(self) -> None:
        for index, policy in enumerate(self.spec.managed_policies):
            self.managed_policy(policy, f"{self.path}.managed_policies[{index}]")
        for index, group in enumerate(self.spec.groups):
            self.group(group, f"{self.path}.groups[{index}]")
        for index, user in enumerate(self.spec.users):
            self.user(user, f"{self.path}.users[{index}]")
        for index, role in enumerate(self.spec.roles):
            self.role(role, f"{self.path}.roles[{index}]")
        for index, repository in enumerate(self.spec.repositories):
            self.repository(repository, f"{self.path}.repositories[{index}]")

    def arn(self, name_or_arn: str) -> str:
        return _policy_arn(self.spec.account_id, name_or_arn)

    def managed_policy(self, spec: NamedDocument, path: str) -> None:
        policies, arn = self.op.iam.policies, self.arn(spec.name)
        stored = self.op.server.identity_stores.policies.get_managed(arn)
        if stored is None:
            _step(path, policies.create_policy, self.root, self.info, spec.name, spec.document)
            return
        current = policies.get_policy_version(self.root, self.info, arn, stored.default_version_id)
        if current.document != spec.document:
            raise ScenarioError(
                "this managed policy exists with another document: changing it is not"
                " supported yet; delete it (or the data dir) first",
                path,
            )

    def attach(self, target: AttachTarget, name: str, arns: tuple[str, ...], path: str) -> None:
        attach = self.op.iam.policies.attach
        for index, value in enumerate(arns):
            _step(f"{path}[{index}]", attach, self.root, self.info, target, name, self.arn(value))

    def inline(
        self, put: Callable[..., None], owner: str, policies: tuple[NamedDocument, ...], path: str
    ) -> None:
        for index, policy in enumerate(policies):
            _step(
                f"{path}[{index}]", put, self.root, self.info, owner, policy.name, policy.document
            )

    def group(self, spec: GroupSpec, path: str) -> None:
        groups = self.op.iam.groups
        if self.op.server.identity_stores.groups.get_group(self.spec.account_id, spec.name) is None:
            _step(path, groups.create_group, self.root, self.info, spec.name, spec.path)
        self.inline(groups.put_group_policy, spec.name, spec.policies, f"{path}.policies")
        self.attach(
            AttachTarget.GROUP, spec.name, spec.managed_policies, f"{path}.managed_policies"
        )

    def user(self, spec: UserSpec, path: str) -> None:
        users = self.op.iam.users
        store = self.op.server.identity_stores.users
        if store.get_user(self.spec.account_id, spec.name) is None:
            _step(path, users.create_user, self.root, self.info, spec.name, spec.path)
        if spec.tags:
            _step(f"{path}.tags", users.tag_user, self.root, self.info, spec.name, spec.tags)
        for index, group in enumerate(spec.groups):
            _step(
                f"{path}.groups[{index}]",
                self.op.iam.groups.add_user,
                self.root,
                self.info,
                group,
                spec.name,
            )
        self.inline(users.put_user_policy, spec.name, spec.policies, f"{path}.policies")
        self.attach(AttachTarget.USER, spec.name, spec.managed_policies, f"{path}.managed_policies")
        if spec.permissions_boundary is not None:
            _step(
                f"{path}.permissions_boundary",
                users.put_boundary,
                self.root,
                self.info,
                spec.name,
                self.arn(spec.permissions_boundary),
            )
        user = store.get_user(self.spec.account_id, spec.name)
        assert user is not None  # created above
        admin = self.op.server.identity.accounts
        for index, key in enumerate(spec.access_keys):
            _step(
                f"{path}.access_keys[{index}]",
                admin.import_access_key,
                self.spec.account_id,
                user.user_id,
                key.access_key_id,
                key.secret_access_key,
            )

    def role(self, spec: RoleSpec, path: str) -> None:
        roles = self.op.iam.roles
        if self.op.server.identity_stores.roles.get_role(self.spec.account_id, spec.name):
            _step(
                f"{path}.trust_policy",
                roles.update_trust_policy,
                self.root,
                self.info,
                spec.name,
                spec.trust_policy,
            )
        else:
            _step(
                path,
                roles.create_role,
                self.root,
                self.info,
                spec.name,
                spec.trust_policy,
                path=spec.path,
                description=spec.description or None,
                max_session_duration=spec.max_session_duration,
            )
        if spec.tags:
            _step(f"{path}.tags", roles.tag_role, self.root, self.info, spec.name, spec.tags)
        self.inline(roles.put_role_policy, spec.name, spec.policies, f"{path}.policies")
        self.attach(AttachTarget.ROLE, spec.name, spec.managed_policies, f"{path}.managed_policies")
        if spec.permissions_boundary is not None:
            _step(
                f"{path}.permissions_boundary",
                roles.put_boundary,
                self.root,
                self.info,
                spec.name,
                self.arn(spec.permissions_boundary),
            )

    def repository(self, spec: RepositorySpec, path: str) -> None:
        actor = Actor(self.root, self.op.info(spec.region))
        repositories = self.op.ecr.repositories
        account = self.spec.account_id
        if not _exists(lambda: repositories.describe(actor, account, [spec.name], None, None)):
            settings = RepositorySettings(tag_mutability=spec.tag_mutability)
            _step(path, repositories.create, actor, account, spec.name, settings, spec.tags)
        if spec.policy is not None:
            _step(
                f"{path}.policy",
                self.op.ecr.policies.set_policy,
                actor,
                account,
                spec.name,
                spec.policy,
            )


def apply_scenario(server: Server, scenario: Scenario, region: str) -> None:
    """Apply ``scenario`` to the server's stores; running it again changes nothing."""
    operator = _operator(server, region)
    admin = server.identity.accounts
    organization = scenario.organization
    placements = _placements(organization)
    if organization is not None:
        _step("organization", admin.ensure_organization, organization.org_id, organization.root_id)
    for index, account in enumerate(scenario.accounts):
        path = f"accounts[{index}]"
        ou_path = placements.get(account.account_id)
        org_id = organization.org_id if organization is not None and ou_path else None
        _step(path, admin.create_account, account.account_id, org_id, ou_path, exist_ok=True)
        for key_index, key in enumerate(account.root_access_keys):
            _step(
                f"{path}.root_access_keys[{key_index}]",
                admin.import_access_key,
                account.account_id,
                None,
                key.access_key_id,
                key.secret_access_key,
            )
    for index, account in enumerate(scenario.accounts):
        _AccountApplier(operator, account, f"accounts[{index}]").apply()
    if organization is None:
        return
    org_id = organization.org_id
    for scp, target, path in _scp_targets(organization):
        _step(
            path, admin.put_scp, org_id, _scp_id(org_id, scp.name), scp.name, scp.document, [target]
        )
    for index, account in enumerate(scenario.accounts):
        for scp in account.scps:
            _step(
                f"accounts[{index}].scps",
                admin.put_scp,
                org_id,
                _scp_id(org_id, scp.name),
                scp.name,
                scp.document,
                [account.account_id],
            )


def apply_scenario_file(server: Server, path: Path, region: str) -> None:
    """Read and apply a scenario YAML file."""
    apply_scenario(server, read_scenario_file(path), region)
