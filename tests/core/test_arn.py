"""crossdock.core.arn and crossdock.core.errors: ARN parsing, account ids, the error tree."""

from __future__ import annotations

import pytest

from crossdock.core.arn import Arn, account_principal, is_account_id, require_account_id
from crossdock.core.errors import AccountIdError, ArnError, CrossdockError


@pytest.mark.parametrize("value", ["111111111111", "000000000000", "012345678901"])
def test_is_account_id_accepts_twelve_digits(value: str) -> None:
    assert is_account_id(value)
    assert require_account_id(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "11111111111",  # 11 digits
        "1111111111111",  # 13 digits
        "1111111111",  # the classic 10-digit seed mistake (spec §7)
        "11111111111a",
        " 111111111111",
        "111111111111\n",
        "１１１１１１１１１１１１",  # full-width digits are not ASCII digits
    ],
)
def test_is_account_id_rejects_anything_else(value: str) -> None:
    assert not is_account_id(value)
    with pytest.raises(AccountIdError) as caught:
        require_account_id(value)
    assert caught.value.value == value
    assert str(caught.value) == f"`{value}` is not a valid account id: use exactly 12 digits"


@pytest.mark.parametrize(
    ("value", "account"),
    [
        ("111111111111", "111111111111"),
        ("arn:aws:iam::111111111111:root", "111111111111"),
        ("arn:aws-cn:iam::222222222222:root", "222222222222"),
        ("arn:aws:iam::111111111111:user/root", None),
        ("arn:aws:sts::111111111111:root", None),
        ("arn:aws:iam::111111111111:root:x", None),
        ("nra:aws:iam::111111111111:root", None),
        ("11111111111", None),
        ("*", None),
    ],
)
def test_account_principal(value: str, account: str | None) -> None:
    # IAM UG, Principal, AWS account principals: the account id or its root ARN names the
    # whole account.
    assert account_principal(value) == account


def test_arn_parse_splits_six_parts_and_keeps_colons_in_the_resource() -> None:
    arn = Arn.parse("arn:aws:ecr:us-east-1:111111111111:repository/a:b/c")
    assert arn == Arn("aws", "ecr", "us-east-1", "111111111111", "repository/a:b/c")
    assert arn.partition == "aws"
    assert arn.service == "ecr"
    assert arn.region == "us-east-1"
    assert arn.account == "111111111111"
    assert arn.resource == "repository/a:b/c"


def test_arn_allows_empty_region_and_account() -> None:
    arn = Arn.parse("arn:aws:s3:::bucket/key")
    assert (arn.region, arn.account, arn.resource) == ("", "", "bucket/key")


@pytest.mark.parametrize(
    "value",
    [
        "arn:aws:ecr:us-east-1:111111111111:repository/x",
        "arn:aws:iam::111111111111:root",
        "arn:aws-cn:s3:::bucket",
        "arn:aws:sts::111111111111:assumed-role/r/s",
    ],
)
def test_arn_str_round_trips(value: str) -> None:
    assert str(Arn.parse(value)) == value


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "expected 6 colon-separated parts"),
        ("arn:aws:ecr:us-east-1:111111111111", "expected 6 colon-separated parts"),
        ("nra:aws:ecr:us-east-1:111111111111:repository/x", "must start with `arn:`"),
        ("ARN:aws:ecr:us-east-1:111111111111:repository/x", "must start with `arn:`"),
        ("arn::ecr:us-east-1:111111111111:repository/x", "the partition is empty"),
        ("arn:aws::us-east-1:111111111111:repository/x", "the service is empty"),
        ("arn:aws:ecr:us-east-1:111111111111:", "the resource is empty"),
    ],
)
def test_arn_parse_rejects_malformed_values(value: str, reason: str) -> None:
    with pytest.raises(ArnError) as caught:
        Arn.parse(value)
    error = caught.value
    assert error.value == value
    assert error.reason == reason
    assert str(error) == f"`{value}` is not a valid ARN: {reason}"


def test_arn_is_frozen() -> None:
    arn = Arn.parse("arn:aws:iam::111111111111:root")
    with pytest.raises(AttributeError):
        arn.account = "222222222222"  # type: ignore[misc]


def test_error_tree() -> None:
    assert issubclass(ArnError, CrossdockError)
    assert issubclass(ArnError, ValueError)
    assert issubclass(AccountIdError, CrossdockError)
    assert issubclass(AccountIdError, ValueError)
    assert not issubclass(CrossdockError, ValueError)
