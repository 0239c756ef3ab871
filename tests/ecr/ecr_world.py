"""A small in-process crossdock for the ECR tests: SQLite in a temp dir, real services, a
real Authorizer over fake principal policies and a fake principal directory."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from crossdock.api.ecr.services import EcrServices, ecr_lookup, ecr_services, ecr_stores
from crossdock.auth.principal import Principal
from crossdock.policy.context import PrincipalKind
from crossdock.service.authz import (
    Authorizer,
    PolicyDocument,
    PrincipalPolicies,
    RequestInfo,
    StorePolicySource,
)
from crossdock.service.ecr.addressing import RegistryAddressing
from crossdock.service.ecr.common import Actor, RepositoryRef
from crossdock.service.ecr.stores import EcrStores
from crossdock.storage.sql.engine import create_sql_engine
from crossdock.storage.sql.schema import metadata

REGION = "us-east-1"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
_ids = itertools.count(1)


@dataclass
class FakeDirectory:
    """PrincipalDirectory over dicts."""

    accounts: set[str] = field(default_factory=set)
    entities: dict[str, str] = field(default_factory=dict)  # arn -> unique id

    def account_exists(self, account_id: str) -> bool:
        return account_id in self.accounts

    def unique_id(self, arn: str) -> str | None:
        return self.entities.get(arn)

    def arn_of(self, unique_id: str) -> str | None:
        return next((a for a, u in self.entities.items() if u == unique_id), None)


@dataclass
class FakeLoader:
    """Identity policies per principal ARN (root needs none)."""

    identity: dict[str, list[str]] = field(default_factory=dict)

    def principal_policies(self, principal: Principal) -> PrincipalPolicies:
        owner = principal.principal_arn
        texts = self.identity.get(owner, [])
        docs = tuple(PolicyDocument(f"{owner}#{i}", t) for i, t in enumerate(texts))
        return PrincipalPolicies(identity=docs)


@dataclass
class World:
    """Everything a test needs, built over one temporary data directory."""

    root_dir: Path
    engine: Engine
    stores: EcrStores
    directory: FakeDirectory
    loader: FakeLoader
    authorizer: Authorizer
    services: EcrServices
    addressing: RegistryAddressing
    now: datetime = NOW

    def info(self, source_ip: str = "127.0.0.1") -> RequestInfo:
        return RequestInfo(source_ip, False, "pytest", self.now, REGION)

    def account(self, account_id: str) -> Principal:
        """An account's root principal (the account is created)."""
        self.directory.accounts.add(account_id)
        return Principal(
            account_id=account_id,
            kind=PrincipalKind.ROOT,
            arn=f"arn:aws:iam::{account_id}:root",
            unique_id=account_id,
            access_key_id=f"AKIAROOT{account_id}",
        )

    def user(self, account_id: str, name: str, *policies: dict[str, Any] | str) -> Principal:
        """An IAM user with identity policies (the account is created)."""
        self.directory.accounts.add(account_id)
        arn = f"arn:aws:iam::{account_id}:user/{name}"
        unique_id = f"AIDA{next(_ids):016d}"
        self.directory.entities[arn] = unique_id
        self.loader.identity[arn] = [p if isinstance(p, str) else json.dumps(p) for p in policies]
        return Principal(
            account_id=account_id,
            kind=PrincipalKind.USER,
            arn=arn,
            unique_id=unique_id,
            access_key_id=f"AKIA{next(_ids):016d}",
            user_name=name,
        )

    def actor(self, principal: Principal) -> Actor:
        return Actor(principal, self.info())

    def ref(self, account_id: str, name: str) -> RepositoryRef:
        return RepositoryRef(account_id, REGION, name)


def allow(*actions: str, resource: str = "*") -> dict[str, Any]:
    """An identity policy allowing ``actions`` on ``resource``."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": resource}],
    }


def build_world(tmp_path: Path, addressing: RegistryAddressing | None = None) -> World:
    """A fresh world over ``tmp_path``."""
    engine = create_sql_engine(f"sqlite:///{tmp_path / 'crossdock.db'}")
    metadata.create_all(engine)
    stores = ecr_stores(engine, tmp_path / "blobs")
    directory = FakeDirectory()
    loader = FakeLoader()
    source = StorePolicySource(loader, {"ecr": ecr_lookup(stores)})
    authorizer = Authorizer(source)
    addressing = addressing or RegistryAddressing("127.0.0.1", 5000)
    services = ecr_services(stores, authorizer, directory, addressing)
    return World(tmp_path, engine, stores, directory, loader, authorizer, services, addressing)
