"""The walkthrough with real accounts, users, keys and policies from the identity store
(the IAM side's AccountAdmin, UserOperations, credential resolver, directory and loader),
through boto3 and the real server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from ecr_server import free_socket, serving
from test_ecr_api_walkthrough import push_image

from crossdock.api.ecr.protocol import EcrProtocol
from crossdock.api.ecr.services import ecr_lookup, ecr_services, ecr_stores
from crossdock.service.accounts import AccountAdmin
from crossdock.service.authz import Authorizer, RequestInfo, StorePolicySource
from crossdock.service.credentials import StoreCredentialResolver, root_principal
from crossdock.service.ecr.addressing import RegistryAddressing
from crossdock.service.iam_common import IamContext
from crossdock.service.iam_users import UserOperations
from crossdock.service.principal_policies import (
    IamResourceLookup,
    IdentityDirectory,
    IdentityPolicyLoader,
)
from crossdock.storage.identity_store import IdentityStores
from crossdock.storage.secrets import SecretBox
from crossdock.storage.sql.engine import create_sql_engine
from crossdock.storage.sql.identity_stores import sql_identity_stores
from crossdock.storage.sql.schema import metadata

OWNER, PULLER_ACCOUNT, OTHER = "111111111111", "222222222222", "333333333333"
PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Realm:
    url: str
    admin: AccountAdmin
    users: UserOperations
    identity: IdentityStores

    def client(self, key: str, secret: str) -> Any:
        return boto3.session.Session().client(
            "ecr",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=Config(retries={"max_attempts": 1}),
        )

    def root(self, account: str) -> Any:
        key = self.admin.create_account(account, exist_ok=True)
        return self.client(key.access_key_id, key.secret_access_key)

    def user(self, account: str, name: str, policy: dict[str, Any] | None) -> Any:
        key = self.admin.create_account(account, exist_ok=True)
        root = root_principal(account, key.access_key_id)
        info = RequestInfo("127.0.0.1", False, "pytest", _now(), "us-east-1")
        self.users.create_user(root, info, name)
        if policy is not None:
            self.users.put_user_policy(root, info, name, "ecr", json.dumps(policy))
        new = self.users.create_access_key(root, info, name)
        return self.client(new.record.access_key_id, new.secret_access_key)


@pytest.fixture(scope="module")
def realm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Realm]:
    tmp = tmp_path_factory.mktemp("ecr-identity")
    engine = create_sql_engine(f"sqlite:///{tmp / 'crossdock.db'}")
    identity = sql_identity_stores(engine)
    metadata.create_all(engine)
    box = SecretBox.generate()
    directory = IdentityDirectory(identity)
    stores = ecr_stores(engine, tmp / "blobs")
    source = StorePolicySource(
        IdentityPolicyLoader(identity),
        {"ecr": ecr_lookup(stores), "iam": IamResourceLookup(identity)},
    )
    authorizer = Authorizer(source)
    sock = free_socket()
    addressing = RegistryAddressing("127.0.0.1", sock.getsockname()[1])
    protocol = EcrProtocol(ecr_services(stores, authorizer, directory, addressing))
    resolver = StoreCredentialResolver(identity, box)
    users = UserOperations(IamContext(identity, authorizer, _now, directory), box)
    try:
        with serving(protocol, resolver, sock) as url:
            yield Realm(url, AccountAdmin(identity, box, _now), users, identity)
    finally:
        engine.dispose()


def _allow(*actions: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}],
    }


def _error(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_walkthrough_with_real_identities(realm: Realm) -> None:
    owner = realm.root(OWNER)
    realm.root(PULLER_ACCOUNT)
    owner.create_repository(repositoryName="example")
    push_image(owner, "example", "identity-walk", "latest")
    policy = {
        "Version": "2008-10-17",
        "Statement": [
            {
                "Sid": "AllowPull",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{PULLER_ACCOUNT}:root"},
                "Action": PULL,
            }
        ],
    }
    owner.set_repository_policy(repositoryName="example", policyText=json.dumps(policy))
    puller = realm.user(PULLER_ACCOUNT, "puller", _allow(*PULL, "ecr:GetAuthorizationToken"))
    image_ids = [{"imageTag": "latest"}]
    found = puller.batch_get_image(registryId=OWNER, repositoryName="example", imageIds=image_ids)
    assert found["failures"] == []
    assert puller.get_authorization_token(registryIds=[OWNER])["authorizationData"]

    nobody = realm.user(PULLER_ACCOUNT, "nobody", None)
    code, message = _error(nobody.get_authorization_token)
    assert code == "AccessDeniedException"
    assert message.endswith(
        "because no identity-based policy allows the ecr:GetAuthorizationToken action"
    )

    mallory = realm.user(OTHER, "mallory", _allow("ecr:*"))
    code, message = _error(
        mallory.batch_get_image, registryId=OWNER, repositoryName="example", imageIds=image_ids
    )
    assert code == "AccessDeniedException"
    assert message.endswith("because no resource-based policy allows the ecr:BatchGetImage action")

    code, _ = _error(
        puller.put_image, registryId=OWNER, repositoryName="example", imageManifest="{}"
    )
    assert code == "AccessDeniedException"
    owner.delete_repository_policy(repositoryName="example")
    code, message = _error(
        puller.batch_get_image, registryId=OWNER, repositoryName="example", imageIds=image_ids
    )
    assert message.endswith("because no resource-based policy allows the ecr:BatchGetImage action")


def test_user_principal_binding_with_real_users(realm: Realm) -> None:
    owner = realm.root("444444444444")
    realm.user("555555555555", "alice", _allow("ecr:ListImages"))
    owner.create_repository(repositoryName="bound")
    alice_arn = "arn:aws:iam::555555555555:user/alice"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": alice_arn}, "Action": "ecr:ListImages"}
        ],
    }
    owner.set_repository_policy(repositoryName="bound", policyText=json.dumps(policy))
    code, message = _error(
        owner.set_repository_policy,
        repositoryName="bound",
        policyText=json.dumps(policy).replace("alice", "ghost"),
    )
    assert (code, message) == (
        "InvalidParameterException",
        "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Principal not found'",
    )
