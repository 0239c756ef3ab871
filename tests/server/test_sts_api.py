"""STS over HTTP with real boto3 clients: AssumeRole in one account and across accounts,
ExternalId, durations, session policies; session credentials work and then expire."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from live_server import LiveServer, OffsetClock

from crossdock.service.accounts import RootKey


def _allow(action: str, resource: str = "*") -> str:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _trust(principal: str, condition: dict[str, Any] | None = None) -> str:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": "sts:AssumeRole",
    }
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _error(call: Callable[[], Any]) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def _role(live: LiveServer, owner: RootKey, name: str, trust: str, **kw: Any) -> str:
    iam = live.client("iam", owner)
    arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust, **kw)["Role"]["Arn"]
    return arn


def _user(live: LiveServer, owner: RootKey, name: str, *policies: str) -> tuple[str, str]:
    iam = live.client("iam", owner)
    iam.create_user(UserName=name)
    for index, document in enumerate(policies):
        iam.put_user_policy(UserName=name, PolicyName=f"p{index}", PolicyDocument=document)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def _session(creds: dict[str, Any]) -> tuple[str, str, str]:
    return creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]


def test_assume_role_in_the_same_account(live: LiveServer) -> None:
    owner = live.new_account()
    account = owner.account_id
    key = _user(live, owner, "dev")
    arn = _role(live, owner, "builder", _trust(f"arn:aws:iam::{account}:user/dev"))
    result = live.client("sts", key).assume_role(RoleArn=arn, RoleSessionName="build-42")
    creds, user = result["Credentials"], result["AssumedRoleUser"]
    assert creds["AccessKeyId"].startswith("ASIA")
    assert len(creds["AccessKeyId"]) == 20
    assert len(creds["SecretAccessKey"]) == 40
    assert creds["SessionToken"]
    role_id = live.client("iam", owner).get_role(RoleName="builder")["Role"]["RoleId"]
    assert user == {
        "AssumedRoleId": f"{role_id}:build-42",
        "Arn": f"arn:aws:sts::{account}:assumed-role/builder/build-42",
    }
    identity = live.client("sts", _session(creds)).get_caller_identity()
    assert (identity["UserId"], identity["Account"], identity["Arn"]) == (
        f"{role_id}:build-42",
        account,
        user["Arn"],
    )


def test_a_trust_naming_the_account_needs_an_identity_allow(live: LiveServer) -> None:
    owner = live.new_account()
    account = owner.account_id
    arn = _role(live, owner, "r", _trust(account))
    plain = _user(live, owner, "plain")
    assert _error(
        lambda: live.client("sts", plain).assume_role(RoleArn=arn, RoleSessionName="s1")
    ) == (
        "AccessDenied",
        403,
        f"User: arn:aws:iam::{account}:user/plain is not authorized to perform: sts:AssumeRole"
        f" on resource: {arn} because no identity-based policy allows the sts:AssumeRole action",
    )
    allowed = _user(live, owner, "allowed", _allow("sts:AssumeRole", arn))
    live.client("sts", allowed).assume_role(RoleArn=arn, RoleSessionName="s1")


def test_assume_role_across_accounts(live: LiveServer) -> None:
    owner, caller = live.new_account(), live.new_account()
    arn = _role(live, owner, "shared", _trust(caller.account_id))
    without = _user(live, caller, "without")
    code, status, message = _error(
        lambda: live.client("sts", without).assume_role(RoleArn=arn, RoleSessionName="x1")
    )
    assert (code, status) == ("AccessDenied", 403)
    assert message.endswith("because no identity-based policy allows the sts:AssumeRole action")
    with_allow = _user(live, caller, "with", _allow("sts:AssumeRole", arn))
    result = live.client("sts", with_allow).assume_role(RoleArn=arn, RoleSessionName="x1")
    assert (
        result["AssumedRoleUser"]["Arn"]
        == f"arn:aws:sts::{owner.account_id}:assumed-role/shared/x1"
    )
    # the caller's root needs no identity policy, but the trust must name its account
    live.client("sts", caller).assume_role(RoleArn=arn, RoleSessionName="root1")
    stranger = live.new_account()
    code, _, message = _error(
        lambda: live.client("sts", stranger).assume_role(RoleArn=arn, RoleSessionName="x2")
    )
    assert code == "AccessDenied"
    assert message.endswith("because no resource-based policy allows the sts:AssumeRole action")


def test_a_role_that_does_not_exist_is_access_denied(live: LiveServer) -> None:
    caller = live.new_account()
    arn = f"arn:aws:iam::{caller.account_id}:role/missing"
    code, status, _ = _error(
        lambda: live.client("sts", caller).assume_role(RoleArn=arn, RoleSessionName="s1")
    )
    assert (code, status) == ("AccessDenied", 403)


def test_external_id(live: LiveServer) -> None:
    owner, vendor = live.new_account(), live.new_account()
    condition = {"StringEquals": {"sts:ExternalId": "Unique-ID-1234"}}
    arn = _role(live, owner, "vendor", _trust(vendor.account_id, condition))
    sts = live.client("sts", vendor)
    assert _error(lambda: sts.assume_role(RoleArn=arn, RoleSessionName="v1"))[0] == "AccessDenied"
    wrong = sts.assume_role
    assert _error(lambda: wrong(RoleArn=arn, RoleSessionName="v1", ExternalId="other-id"))[0] == (
        "AccessDenied"
    )
    sts.assume_role(RoleArn=arn, RoleSessionName="v1", ExternalId="Unique-ID-1234")


def test_durations_and_session_names(live: LiveServer) -> None:
    owner = live.new_account()
    arn = _role(live, owner, "r", _trust(owner.account_id))
    sts = live.client("sts", owner)
    assert _error(
        lambda: sts.assume_role(RoleArn=arn, RoleSessionName="s1", DurationSeconds=3601)
    ) == (
        "ValidationError",
        400,
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    )
    assert _error(
        lambda: sts.assume_role(RoleArn=arn, RoleSessionName="s1", DurationSeconds=43201)
    ) == (
        "ValidationError",
        400,
        "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy"
        " constraint: Member must have value less than or equal to 43200",
    )
    assert _error(lambda: sts.assume_role(RoleArn=arn, RoleSessionName="no spaces")) == (
        "ValidationError",
        400,
        "1 validation error detected: Value 'no spaces' at 'roleSessionName' failed to satisfy"
        " constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    )
    assert _error(lambda: sts.assume_role(RoleArn=arn, RoleSessionName="x" * 65))[0] == (
        "ValidationError"
    )
    result = sts.assume_role(RoleArn=arn, RoleSessionName="s1", DurationSeconds=900)
    issued = result["Credentials"]["Expiration"] - timedelta(seconds=900)
    assert abs((issued - live.clock()).total_seconds()) < 5


def test_session_policies_narrow_the_session(live: LiveServer) -> None:
    owner = live.new_account()
    arn = _role(live, owner, "admin", _trust(owner.account_id))
    live.client("iam", owner).put_role_policy(
        RoleName="admin", PolicyName="all", PolicyDocument=_allow("iam:*")
    )
    sts = live.client("sts", owner)
    creds = sts.assume_role(RoleArn=arn, RoleSessionName="narrow", Policy=_allow("iam:GetRole"))[
        "Credentials"
    ]
    session = live.client("iam", _session(creds))
    session.get_role(RoleName="admin")
    code, status, message = _error(lambda: session.create_user(UserName="nope"))
    assert (code, status) == ("AccessDenied", 403)
    assert message == (
        f"User: arn:aws:sts::{owner.account_id}:assumed-role/admin/narrow is not authorized to"
        f" perform: iam:CreateUser on resource: arn:aws:iam::{owner.account_id}:user/nope"
        " because no session policy allows the iam:CreateUser action"
    )
    bad = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:*"}]}
    )
    code, status, _ = _error(
        lambda: sts.assume_role(RoleArn=arn, RoleSessionName="bad", Policy=bad)
    )
    assert (code, status) == ("MalformedPolicyDocument", 400)


def test_session_credentials_expire(live: LiveServer, clock_reset: OffsetClock) -> None:
    owner = live.new_account()
    arn = _role(live, owner, "r", _trust(owner.account_id))
    creds = live.client("sts", owner).assume_role(
        RoleArn=arn, RoleSessionName="short", DurationSeconds=900
    )["Credentials"]
    session = live.client("sts", _session(creds))
    session.get_caller_identity()
    clock_reset.advance(901)
    assert _error(session.get_caller_identity) == (
        "ExpiredToken",
        403,
        "The security token included in the request is expired",
    )
    wrong_token = live.client("sts", (creds["AccessKeyId"], creds["SecretAccessKey"], "forged"))
    assert _error(wrong_token.get_caller_identity)[0] == "InvalidClientTokenId"


def test_role_chaining_is_limited_to_one_hour(live: LiveServer) -> None:
    owner = live.new_account()
    arn = _role(live, owner, "r", _trust(owner.account_id), MaxSessionDuration=7200)
    live.client("iam", owner).put_role_policy(
        RoleName="r", PolicyName="sts", PolicyDocument=_allow("sts:AssumeRole")
    )
    creds = live.client("sts", owner).assume_role(RoleArn=arn, RoleSessionName="first")[
        "Credentials"
    ]
    chained = live.client("sts", _session(creds))
    assert _error(
        lambda: chained.assume_role(RoleArn=arn, RoleSessionName="second", DurationSeconds=3601)
    ) == (
        "ValidationError",
        400,
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by"
        " role chaining.",
    )
    chained.assume_role(RoleArn=arn, RoleSessionName="second")


def test_a_recreated_user_no_longer_matches_the_trust_policy(live: LiveServer) -> None:
    owner = live.new_account()
    account = owner.account_id
    iam = live.client("iam", owner)
    first = _user(live, owner, "dev")
    user_id = iam.get_user(UserName="dev")["User"]["UserId"]
    arn = _role(live, owner, "r", _trust(f"arn:aws:iam::{account}:user/dev"))
    live.client("sts", first).assume_role(RoleArn=arn, RoleSessionName="s1")
    iam.delete_access_key(UserName="dev", AccessKeyId=first[0])
    iam.delete_user(UserName="dev")
    trust = iam.get_role(RoleName="r")["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"AWS": user_id}
    second = _user(live, owner, "dev")
    code, _, _ = _error(
        lambda: live.client("sts", second).assume_role(RoleArn=arn, RoleSessionName="s2")
    )
    assert code == "AccessDenied"
    iam.update_assume_role_policy(
        RoleName="r", PolicyDocument=_trust(f"arn:aws:iam::{account}:user/dev")
    )
    live.client("sts", second).assume_role(RoleArn=arn, RoleSessionName="s3")


def test_managed_session_policies_are_refused_rather_than_ignored(live: LiveServer) -> None:
    owner = live.new_account()
    arn = _role(live, owner, "r", _trust(owner.account_id))
    policy_arns = [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]
    sts = live.client("sts", owner)
    assert _error(
        lambda: sts.assume_role(RoleArn=arn, RoleSessionName="s1", PolicyArns=policy_arns)
    ) == (
        "ValidationError",
        400,
        "PolicyArns (managed session policies) are not supported yet: pass the policy"
        " document as Policy",
    )
