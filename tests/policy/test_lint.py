"""The policy linter: a table of documents and the finding codes each must produce.

Every row names the policy type, the document (decoded JSON, or text for the rows that
need the raw text) and the exact codes expected, in any order. Meta-tests check that
every code of the catalogue is exercised by some row and documented in
docs/policy-lint.md, and that every problem code parse.py can report is catalogued.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from crossdock.policy.findings import CATALOGUE, Finding, PolicyKind, Severity, severity_of
from crossdock.policy.lint import infer_policy_kind, lint_policy, lint_policy_text
from crossdock.policy.lint_redundancy import MAX_STATEMENTS, covers
from crossdock.policy.lint_rules import may_match_repository
from crossdock.policy.model import Effect, Statement

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "lint"
DOCS = ROOT / "docs" / "policy-lint.md"
PARSE = ROOT / "src" / "crossdock" / "policy" / "parse.py"

V12 = "2012-10-17"
REPO = "arn:aws:ecr:us-east-1:111111111111:repository/example"
OTHER = "arn:aws:iam::222222222222:root"
ID, RP, RG, TR, SC = (
    PolicyKind.IDENTITY,
    PolicyKind.REPOSITORY,
    PolicyKind.REGISTRY,
    PolicyKind.TRUST,
    PolicyKind.SCP,
)


def doc(*statements: dict[str, Any], version: str | None = V12) -> dict[str, Any]:
    """A policy document; ``version=None`` leaves Version out."""
    document: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        document["Version"] = version
    return document


def _with(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = {**base, **changes}
    return {key: value for key, value in merged.items() if value is not None}


def ident(**changes: Any) -> dict[str, Any]:
    """An identity-policy statement allowing a pull on REPO; ``X=None`` removes X."""
    base = {"Effect": "Allow", "Action": "ecr:BatchGetImage", "Resource": REPO}
    return _with(base, changes)


def repo(**changes: Any) -> dict[str, Any]:
    """A repository-policy statement allowing account 222222222222 to pull."""
    base = {"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "ecr:BatchGetImage"}
    return _with(base, changes)


def trust(**changes: Any) -> dict[str, Any]:
    """A trust-policy statement letting account 222222222222 assume the role."""
    base = {"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "sts:AssumeRole"}
    return _with(base, changes)


def registry(**changes: Any) -> dict[str, Any]:
    """A registry-policy statement allowing replication from account 222222222222."""
    base = {
        "Effect": "Allow",
        "Principal": {"AWS": OTHER},
        "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
        "Resource": "arn:aws:ecr:us-east-1:111111111111:repository/*",
    }
    return _with(base, changes)


def cond(operator: str, key: str, value: Any) -> dict[str, Any]:
    """A one-clause Condition block."""
    return {operator: {key: value}}


def _big_identity() -> dict[str, Any]:
    arns = [f"{REPO}-{n:04d}" for n in range(200)]
    return doc(ident(Resource=arns))


def _many_statements() -> dict[str, Any]:
    accounts = (f"{n:012d}" for n in range(MAX_STATEMENTS + 1))
    return doc(*(repo(Principal={"AWS": account}) for account in accounts))


PUBLIC = {"Principal": "*"}
WALKTHROUGH_REPOSITORY = json.loads((DATA / "walkthrough-repository-policy.json").read_text())
WALKTHROUGH_IDENTITY = json.loads((DATA / "walkthrough-identity-policy.json").read_text())

ROWS: list[tuple[str, PolicyKind, Any, list[str]]] = [
    # --- clean documents --------------------------------------------------------------------
    ("identity pull", ID, doc(ident()), []),
    ("repository pull", RP, doc(repo()), []),
    ("registry replication", RG, doc(registry()), []),
    (
        "trust with external id",
        TR,
        doc(trust(Condition=cond("StringEquals", "sts:ExternalId", "x"))),
        [],
    ),
    ("scp deny", SC, doc(ident(Effect="Deny", Action="ecr:DeleteRepository", Resource="*")), []),
    # --- the cross-account walkthrough --------------------------------------------------------
    ("walkthrough repository policy", RP, WALKTHROUGH_REPOSITORY, ["INVALID_ACCOUNT_ID"]),
    ("walkthrough identity policy", ID, WALKTHROUGH_IDENTITY, ["INVALID_ACCOUNT_ID"]),
    # --- structure (check_policy's codes) -----------------------------------------------------
    ("not json", ID, "{not json", ["INVALID_JSON"]),
    ("nested too deeply", ID, "[" * 100_000, ["INVALID_JSON", "POLICY_TOO_LARGE"]),
    ("number too long in text", ID, '{"Statement": ' + "1" * 5000 + "}", ["INVALID_JSON"]),
    (
        "number too long in a condition",
        ID,
        doc(
            ident(Condition=cond("NumericEquals", "aws:EpochTime", 10**5000)),
            ident(Action="ecr:Nope"),
        ),
        ["WRONG_TYPE", "UNKNOWN_ACTION"],
    ),
    ("document is an array", ID, [], ["WRONG_TYPE"]),
    ("document is null", RP, None, ["WRONG_TYPE"]),
    ("action is a number", ID, doc(ident(Action=5)), ["WRONG_TYPE"]),
    ("unknown element", ID, doc(ident(Foo="bar")), ["UNKNOWN_ELEMENT"]),
    ("Resources", ID, doc(ident(Resource=None, Resources=REPO)), ["MISSPELLED_ELEMENT"]),
    (
        "Actions",
        ID,
        doc(ident(Action=None, Actions="ecr:*")),
        ["MISSPELLED_ELEMENT", "MISSING_ACTION"],
    ),
    (
        "Principals",
        RP,
        doc(repo(Principal=None, Principals={"AWS": OTHER})),
        ["MISSPELLED_ELEMENT"],
    ),
    (
        "duplicate key",
        ID,
        '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Effect": "Deny",'
        ' "Action": "ecr:*", "Resource": "*"}}',
        ["DUPLICATE_KEY"],
    ),
    ("no statement", ID, {"Version": V12}, ["MISSING_STATEMENT"]),
    ("no effect", ID, doc(ident(Effect=None)), ["MISSING_EFFECT"]),
    ("effect in lower case", ID, doc(ident(Effect="allow")), ["INVALID_EFFECT"]),
    ("bad version", ID, doc(ident(), version="2012-10-18"), ["INVALID_VERSION"]),
    ("action and notaction", ID, doc(ident(NotAction="ecr:Put*")), ["CONFLICTING_ELEMENTS"]),
    ("no action", ID, doc(ident(Action=None)), ["MISSING_ACTION"]),
    ("empty action", ID, doc(ident(Action=[])), ["EMPTY_VALUE"]),
    ("principal is a name", RP, doc(repo(Principal="bob")), ["INVALID_PRINCIPAL"]),
    (
        "unknown operator",
        ID,
        doc(ident(Condition=cond("StringEqualz", "aws:PrincipalOrgID", "o-1"))),
        ["UNKNOWN_OPERATOR"],
    ),
    (
        "bad statement skipped, good one linted",
        ID,
        doc(ident(Effect="allow"), ident(Action="ecr:Nope")),
        ["INVALID_EFFECT", "UNKNOWN_ACTION"],
    ),
    (
        "bad version, statements still linted",
        ID,
        doc(ident(Action="ecr:Nope"), version="1"),
        ["INVALID_VERSION", "UNKNOWN_ACTION"],
    ),
    (
        "single statement object with a problem elsewhere",
        ID,
        {"Version": V12, "Id": 5, "Statement": ident(Action="ecr:Nope")},
        ["WRONG_TYPE", "UNKNOWN_ACTION"],
    ),
    # --- the document -------------------------------------------------------------------------
    ("identity too large", ID, _big_identity(), ["POLICY_TOO_LARGE"]),
    ("same size repository policy fits", RP, doc(repo(Action=["ecr:BatchGetImage"] * 400)), []),
    (
        "repository text counts whitespace",
        RP,
        json.dumps(doc(repo())) + " " * 10_240,
        ["POLICY_TOO_LARGE"],
    ),
    ("identity text ignores whitespace", ID, json.dumps(doc(ident())) + " " * 10_240, []),
    (
        "trust over 2048",
        TR,
        doc(trust(Condition=cond("StringEquals", "sts:ExternalId", "x" * 2100))),
        ["POLICY_TOO_LARGE"],
    ),
    ("no version", ID, doc(ident(), version=None), ["MISSING_VERSION"]),
    ("empty statement", RP, doc(), ["EMPTY_STATEMENT"]),
    (
        "variable under 2008",
        ID,
        doc(ident(Resource=REPO + "/${aws:username}"), version="2008-10-17"),
        ["LITERAL_VARIABLE"],
    ),
    (
        "variable without version",
        ID,
        doc(ident(Resource=REPO + "/${aws:username}"), version=None),
        ["LITERAL_VARIABLE", "MISSING_VERSION"],
    ),
    (
        "variable before the fifth colon",
        ID,
        doc(ident(Resource="arn:aws:ecr:${aws:RequestedRegion}:111111111111:repository/x")),
        # the literal `${aws` region and the extra colon also keep it from any repository
        ["LITERAL_VARIABLE", "ACTION_RESOURCE_MISMATCH"],
    ),
    (
        "variable in a bare resource",
        ID,
        doc(ident(Resource="${aws:username}")),
        ["LITERAL_VARIABLE", "INVALID_ARN"],
    ),
    ("variable in the repository name", ID, doc(ident(Resource=REPO + "-${aws:username}")), []),
    (
        "duplicate sid",
        ID,
        doc(ident(Sid="Pull"), ident(Sid="Pull", Action="ecr:ListImages")),
        ["DUPLICATE_SID"],
    ),
    ("sid with a space in identity", ID, doc(ident(Sid="my statement")), ["INVALID_SID"]),
    ("sid with a dash in trust", TR, doc(trust(Sid="allow-ci")), ["INVALID_SID"]),
    ("sid with a space in repository", RP, doc(repo(Sid="new statement")), []),
    (
        "covered by ecr:* on *",
        ID,
        doc(ident(Action="ecr:*", Resource="*"), ident()),
        ["REDUNDANT_STATEMENT"],
    ),
    ("identical statements", RP, doc(repo(), repo()), ["REDUNDANT_STATEMENT"]),
    (
        "covered by a prefix",
        ID,
        doc(
            ident(Action="ecr:Batch*", Resource="arn:aws:ecr:us-east-1:111111111111:repository/*"),
            ident(Action=["ecr:BatchGet*"], Resource=REPO + "/app*"),
        ),
        ["REDUNDANT_STATEMENT"],
    ),
    (
        "covered by star principal",
        RP,
        doc(repo(Principal={"AWS": "*"}, Condition=None), repo(Principal={"AWS": "222222222222"})),
        ["PUBLIC_ACCESS", "REDUNDANT_STATEMENT"],
    ),
    (
        "the wider statement has a condition",
        ID,
        doc(ident(Action="ecr:*", Condition=cond("Bool", "aws:SecureTransport", "true")), ident()),
        [],
    ),
    (
        "different effects",
        ID,
        doc(ident(Action="ecr:*", Effect="Deny"), ident()),
        [],
    ),
    (
        "narrower wildcard is not covered",
        ID,
        doc(ident(Action="ecr:B?tch*"), ident(Action="ecr:Batch*")),
        [],
    ),
    (
        "notaction covered by a smaller exclusion",
        ID,
        doc(
            ident(Action=None, NotAction="ecr:Delete*"),
            ident(Action=None, NotAction=["ecr:Delete*", "ecr:Put*"]),
        ),
        ["REDUNDANT_STATEMENT"],
    ),
    (
        "action versus notaction is not compared",
        ID,
        doc(ident(Action=None, NotAction="ecr:Delete*"), ident()),
        [],
    ),
    ("too many statements to compare", RP, _many_statements(), ["REDUNDANCY_CHECK_SKIPPED"]),
    # --- principals ---------------------------------------------------------------------------
    (
        "repository statement without principal",
        RP,
        doc(repo(Principal=None)),
        ["MISSING_PRINCIPAL"],
    ),
    ("trust statement without principal", TR, doc(trust(Principal=None)), ["MISSING_PRINCIPAL"]),
    (
        "identity with principal",
        ID,
        doc(ident(Principal={"AWS": OTHER})),
        ["PRINCIPAL_NOT_ALLOWED"],
    ),
    (
        "scp with notprincipal",
        SC,
        doc(ident(Effect="Deny", NotPrincipal={"AWS": OTHER})),
        ["PRINCIPAL_NOT_ALLOWED"],
    ),
    (
        "trust with notprincipal",
        TR,
        doc(trust(Principal=None, NotPrincipal={"AWS": OTHER})),
        ["NOT_PRINCIPAL_IN_TRUST"],
    ),
    (
        "notprincipal with allow",
        RP,
        doc(repo(Principal=None, NotPrincipal={"AWS": OTHER})),
        ["NOT_PRINCIPAL_WITH_ALLOW"],
    ),
    (
        "notprincipal deny without the account",
        RP,
        doc(
            repo(
                Effect="Deny",
                Principal=None,
                NotPrincipal={
                    "AWS": [
                        "arn:aws:iam::111111111111:role/admin",
                        "arn:aws:sts::111111111111:assumed-role/admin/me",
                        "arn:aws:iam::333333333333:root",
                    ]
                },
            )
        ),
        ["NOT_PRINCIPAL_MISSING_ACCOUNT", "NOT_PRINCIPAL_MISSING_ACCOUNT"],
    ),
    (
        "notprincipal deny with the account",
        RP,
        doc(
            repo(
                Effect="Deny",
                Principal=None,
                NotPrincipal={
                    "AWS": ["111111111111", "arn:aws:iam::111111111111:role/admin", "x"],
                    "Service": "ecr.amazonaws.com",
                },
            )
        ),
        ["INVALID_PRINCIPAL"],
    ),
    ("star principal", RP, doc(repo(**PUBLIC)), ["PUBLIC_ACCESS"]),
    ("AWS star principal", RP, doc(repo(Principal={"AWS": ["*"]})), ["PUBLIC_ACCESS"]),
    ("star principal on a registry", RG, doc(registry(**PUBLIC)), ["PUBLIC_ACCESS"]),
    ("star principal on a trust", TR, doc(trust(**PUBLIC)), ["PUBLIC_ACCESS"]),
    (
        "star principal within the organization",
        RP,
        doc(repo(**PUBLIC, Condition=cond("StringEquals", "aws:PrincipalOrgID", "o-a1b2c3d4e5"))),
        [],
    ),
    (
        "star principal limited by source vpce",
        RP,
        doc(repo(**PUBLIC, Condition=cond("StringEquals", "aws:SourceVpce", "vpce-1a2b3c4d"))),
        [],
    ),
    (
        "star principal with a negated condition",
        RP,
        doc(
            repo(
                **PUBLIC, Condition=cond("StringNotEquals", "aws:PrincipalAccount", "333333333333")
            )
        ),
        ["PUBLIC_ACCESS"],
    ),
    (
        "star principal with IfExists",
        RP,
        doc(repo(**PUBLIC, Condition=cond("StringEqualsIfExists", "aws:PrincipalOrgID", "o-1"))),
        ["PUBLIC_ACCESS"],
    ),
    (
        "star principal with ForAllValues",
        RP,
        doc(
            repo(
                **PUBLIC,
                Condition=cond("ForAllValues:StringLike", "aws:PrincipalOrgPaths", "o-1/*"),
            )
        ),
        ["PUBLIC_ACCESS"],
    ),
    (
        "star principal with a wildcard value",
        RP,
        doc(repo(**PUBLIC, Condition=cond("StringLike", "aws:PrincipalOrgID", "*"))),
        ["PUBLIC_ACCESS"],
    ),
    (
        "star principal with a tag condition",
        RP,
        doc(repo(**PUBLIC, Condition=cond("StringEquals", "aws:PrincipalTag/team", "a"))),
        ["PUBLIC_ACCESS"],
    ),
    (
        "star principal with a Null test",
        RP,
        doc(repo(**PUBLIC, Condition=cond("Null", "aws:PrincipalOrgID", "false"))),
        ["PUBLIC_ACCESS"],
    ),
    ("star principal denied", RP, doc(repo(**PUBLIC, Effect="Deny")), []),
    (
        "account wildcard principal",
        RP,
        doc(repo(Principal={"AWS": "arn:aws:iam::111111111111:*"})),
        ["PARTIAL_WILDCARD_PRINCIPAL"],
    ),
    (
        "role wildcard principal",
        TR,
        doc(trust(Principal={"AWS": "arn:aws:iam::111111111111:role/*"})),
        ["PARTIAL_WILDCARD_PRINCIPAL"],
    ),
    (
        "bare 10-digit principal",
        RP,
        doc(repo(Principal={"AWS": "2222222222"})),
        ["INVALID_ACCOUNT_ID"],
    ),
    ("bare 12-digit principal", RP, doc(repo(Principal={"AWS": "222222222222"})), []),
    ("user unique id principal", RP, doc(repo(Principal={"AWS": "AIDAJQABLZS4A3QDU576Q"})), []),
    ("service principal", RP, doc(repo(Principal={"Service": "codebuild.amazonaws.com"})), []),
    (
        "letters for an account",
        RP,
        doc(repo(Principal={"AWS": "arn:aws:iam::abc:root"})),
        ["INVALID_ACCOUNT_ID"],
    ),
    (
        "truncated principal arn",
        RP,
        doc(repo(Principal={"AWS": "arn:aws:iam::root"})),
        ["INVALID_ARN"],
    ),
    (
        "group principal",
        RP,
        doc(repo(Principal={"AWS": "arn:aws:iam::111111111111:group/devs"})),
        ["INVALID_PRINCIPAL"],
    ),
    ("name as principal", RP, doc(repo(Principal={"AWS": "bob"})), ["INVALID_PRINCIPAL"]),
    (
        "federated in repository",
        RP,
        doc(repo(Principal={"Federated": "cognito-identity.amazonaws.com"})),
        ["INVALID_PRINCIPAL"],
    ),
    (
        "federated in trust",
        TR,
        doc(
            trust(
                Principal={"Federated": "cognito-identity.amazonaws.com"},
                Action="sts:AssumeRoleWithWebIdentity",
            )
        ),
        [],
    ),
    # --- actions ------------------------------------------------------------------------------
    ("action without a service", ID, doc(ident(Action="BatchGetImage")), ["INVALID_ACTION"]),
    ("action with a space", ID, doc(ident(Action="ecr: BatchGetImage")), ["INVALID_ACTION"]),
    (
        "unknown ecr action",
        ID,
        doc(ident(Action="ecr:GetDownloadUrlForLayers")),
        ["UNKNOWN_ACTION"],
    ),
    ("unknown ecr wildcard", RP, doc(repo(Action="ecr:Frobnicate*")), ["UNKNOWN_ACTION"]),
    (
        "unknown ecr notaction",
        ID,
        doc(ident(Action=None, NotAction="ecr:Nope")),
        ["UNKNOWN_ACTION"],
    ),
    (
        "ecr actions in any case",
        ID,
        doc(ident(Action=["ECR:batchgetimage", "ecr:Batch*", "*"])),
        [],
    ),
    (
        "authorization token in repository",
        RP,
        doc(repo(Action="ecr:GetAuthorizationToken")),
        ["NON_REPOSITORY_ACTION"],
    ),
    (
        "registry action in repository",
        RP,
        doc(repo(Action="ecr:PutRegistryPolicy")),
        ["NON_REPOSITORY_ACTION"],
    ),
    ("ecr:* in repository", RP, doc(repo(Action="ecr:*")), []),
    (
        "s3 action in repository",
        RP,
        doc(repo(Action=["ecr:BatchGetImage", "s3:GetObject"])),
        ["NON_ECR_ACTION"],
    ),
    (
        "s3 action in registry",
        RG,
        doc(registry(Action="s3:GetObject", Resource="*")),
        ["NON_ECR_ACTION"],
    ),
    ("s3 notaction in repository", RP, doc(repo(Action=None, NotAction="s3:*", Effect="Deny")), []),
    # --- resources ----------------------------------------------------------------------------
    ("identity without resource", ID, doc(ident(Resource=None)), ["MISSING_RESOURCE"]),
    ("registry without resource", RG, doc(registry(Resource=None)), ["MISSING_RESOURCE"]),
    ("scp without resource", SC, doc(ident(Resource=None, Effect="Deny")), ["MISSING_RESOURCE"]),
    (
        "identity with notresource",
        ID,
        doc(ident(Resource=None, NotResource=REPO, Effect="Deny")),
        [],
    ),
    ("resource in repository", RP, doc(repo(Resource="*")), ["RESOURCE_IN_REPOSITORY_POLICY"]),
    (
        "notresource in repository",
        RP,
        doc(repo(NotResource=REPO)),
        ["RESOURCE_IN_REPOSITORY_POLICY"],
    ),
    ("resource in trust", TR, doc(trust(Resource="*")), ["RESOURCE_IN_TRUST_POLICY"]),
    (
        "resource not an arn",
        ID,
        doc(ident(Resource="example")),
        ["INVALID_ARN", "ACTION_RESOURCE_MISMATCH"],
    ),
    (
        "wildcard service segment",
        ID,
        doc(ident(Resource="arn:aws:*:us-east-1:111111111111:repository/x")),
        ["INVALID_ARN"],
    ),
    (
        "ecr arn without region",
        ID,
        doc(ident(Resource="arn:aws:ecr::111111111111:repository/x")),
        ["INVALID_ARN"],
    ),
    (
        "aws-managed policy arn",
        ID,
        doc(ident(Action="iam:GetPolicy", Resource="arn:aws:iam::aws:policy/ReadOnlyAccess")),
        [],
    ),
    (
        "ecr action on an s3 bucket",
        ID,
        doc(ident(Resource="arn:aws:s3:::bucket/*")),
        ["ACTION_RESOURCE_MISMATCH"],
    ),
    (
        "authorization token on a repository",
        ID,
        doc(ident(Action=["ecr:GetAuthorizationToken", "ecr:BatchGetImage"])),
        ["ACTION_RESOURCE_MISMATCH"],
    ),
    (
        "repository action on a non-repository ecr arn",
        ID,
        doc(ident(Resource="arn:aws:ecr:us-east-1:111111111111:registry/x")),
        ["ACTION_RESOURCE_MISMATCH"],
    ),
    (
        "ecr:* on an s3 bucket",
        ID,
        doc(ident(Action="ecr:*", Resource="arn:aws:s3:::bucket")),
        ["ACTION_RESOURCE_MISMATCH"],
    ),
    ("ecr:* on repositories", ID, doc(ident(Action="ecr:*", Resource=REPO[:-7] + "*")), []),
    ("wildcard repository prefix", ID, doc(ident(Resource="arn:aws:ecr:*:*:repo*")), []),
    (
        "wildcard service-less arn",
        ID,
        doc(ident(Resource="arn:aws:ecr:us-east-1:111111111111:*")),
        [],
    ),
    (
        "bare repository prefix",
        ID,
        doc(ident(Resource="arn:aws:ecr:us-east-1:111111111111:repository/")),
        ["ACTION_RESOURCE_MISMATCH"],
    ),
    # --- conditions ---------------------------------------------------------------------------
    (
        "misspelled global key",
        ID,
        doc(ident(Condition=cond("StringEquals", "aws:PrincipalOrgIds", "o-1"))),
        ["UNKNOWN_CONDITION_KEY"],
    ),
    (
        "not a key",
        ID,
        doc(ident(Condition=cond("StringEquals", "team", "a"))),
        ["UNKNOWN_CONDITION_KEY"],
    ),
    (
        "unknown ecr key",
        ID,
        doc(ident(Condition=cond("StringEquals", "ecr:Team", "a"))),
        ["UNKNOWN_CONDITION_KEY"],
    ),
    (
        "key of another service",
        ID,
        doc(ident(Condition=cond("StringLike", "s3:prefix", "a/*"))),
        [],
    ),
    (
        "key in any case, tag key",
        ID,
        doc(ident(Condition=cond("StringEquals", "AWS:principaltag/Team", "a"))),
        [],
    ),
    (
        "bad ip",
        ID,
        doc(ident(Condition=cond("IpAddress", "aws:SourceIp", "10.0.0.300/8"))),
        ["INVALID_CONDITION_VALUE"],
    ),
    (
        "bad number",
        ID,
        doc(ident(Condition=cond("NumericLessThan", "aws:MultiFactorAuthAge", "1h"))),
        ["INVALID_CONDITION_VALUE"],
    ),
    (
        "bad date",
        ID,
        doc(ident(Condition=cond("DateGreaterThan", "aws:CurrentTime", "yesterday"))),
        ["INVALID_CONDITION_VALUE"],
    ),
    (
        "bad bool",
        ID,
        doc(ident(Condition=cond("Bool", "aws:SecureTransport", ["true", "yes"]))),
        ["INVALID_CONDITION_VALUE"],
    ),
    (
        "bad base64",
        ID,
        doc(ident(Condition=cond("BinaryEquals", "s3:x", "!!"))),
        ["INVALID_CONDITION_VALUE"],
    ),
    (
        "bad null",
        ID,
        doc(ident(Condition=cond("Null", "aws:SourceIp", "maybe"))),
        ["INVALID_CONDITION_VALUE"],
    ),
    ("json boolean", ID, doc(ident(Condition=cond("Bool", "aws:SecureTransport", True))), []),
    (
        "bool variable",
        ID,
        doc(ident(Condition=cond("Bool", "aws:MultiFactorAuthPresent", "${aws:ViaAWSService}"))),
        [],
    ),
    (
        "bool variable under 2008",
        ID,
        doc(
            ident(Condition=cond("Bool", "aws:MultiFactorAuthPresent", "${aws:ViaAWSService}")),
            version="2008-10-17",
        ),
        ["INVALID_CONDITION_VALUE"],
    ),
    (
        "string operator on an ip key",
        ID,
        doc(ident(Condition=cond("StringEquals", "aws:SourceIp", "10.0.0.1"))),
        ["CONDITION_TYPE_MISMATCH"],
    ),
    (
        "numeric operator on a string key",
        ID,
        doc(ident(Condition=cond("NumericEquals", "aws:PrincipalAccount", "111111111111"))),
        ["CONDITION_TYPE_MISMATCH"],
    ),
    (
        "string operator on an arn key",
        ID,
        doc(
            ident(
                Condition=cond(
                    "StringLike", "aws:PrincipalArn", "arn:aws:iam::111111111111:role/ci-*"
                )
            )
        ),
        [],
    ),
    (
        "numeric epoch time",
        ID,
        doc(ident(Condition=cond("NumericLessThan", "aws:EpochTime", "1700000000"))),
        [],
    ),
    (
        "set operator on tag keys",
        ID,
        doc(ident(Condition=cond("ForAllValues:StringEquals", "aws:TagKeys", ["a", "b"]))),
        [],
    ),
    (
        "short account in a condition",
        RP,
        doc(repo(Condition=cond("StringEquals", "aws:PrincipalAccount", "2222222222"))),
        ["INVALID_ACCOUNT_ID"],
    ),
    (
        "account pattern in a condition",
        RP,
        doc(repo(Condition=cond("StringLike", "aws:SourceAccount", "2222*"))),
        [],
    ),
    (
        "short account in an arn condition",
        RP,
        doc(
            repo(
                Condition=cond(
                    "ArnLike", "aws:SourceArn", "arn:aws:codebuild:us-east-1:2222:project/*"
                )
            )
        ),
        ["INVALID_ACCOUNT_ID"],
    ),
    (
        "arn condition pattern",
        RP,
        doc(repo(Condition=cond("ArnLike", "aws:PrincipalArn", ["arn:aws:iam::*:role/ci", "ci"]))),
        [],
    ),
    (
        "resource account in an scp",
        SC,
        doc(
            ident(
                Effect="Deny",
                Resource="*",
                Condition=cond("StringNotEquals", "aws:ResourceAccount", ["111111111111", "12345"]),
            )
        ),
        ["INVALID_ACCOUNT_ID"],
    ),
    (
        "null true and string equals",
        ID,
        doc(
            ident(
                Condition={
                    "Null": {"aws:PrincipalOrgID": "true"},
                    "StringEquals": {"aws:PrincipalOrgID": "o-1"},
                }
            )
        ),
        ["UNSATISFIABLE_CONDITION"],
    ),
    (
        "null true and ForAnyValue negated",
        ID,
        doc(
            ident(
                Condition={
                    "Null": {"aws:TagKeys": "true"},
                    "ForAnyValue:StringNotLike": {"aws:TagKeys": "x*"},
                }
            )
        ),
        ["UNSATISFIABLE_CONDITION"],
    ),
    (
        "equals and not equals",
        ID,
        doc(
            ident(
                Condition={
                    "StringEquals": {"aws:PrincipalTag/team": "a"},
                    "StringNotEquals": {"aws:PrincipalTag/team": ["a", "b"]},
                }
            )
        ),
        ["UNSATISFIABLE_CONDITION"],
    ),
    (
        "equals and not equals ignoring case",
        ID,
        doc(
            ident(
                Condition={
                    "StringEqualsIgnoreCase": {"aws:PrincipalTag/team": "A"},
                    "StringNotEqualsIgnoreCase": {"aws:PrincipalTag/team": "a"},
                }
            )
        ),
        ["UNSATISFIABLE_CONDITION"],
    ),
    (
        "null true and IfExists",
        ID,
        doc(
            ident(
                Condition={
                    "Null": {"aws:PrincipalOrgID": "true"},
                    "StringEqualsIfExists": {"aws:PrincipalOrgID": "o-1"},
                    "StringNotEquals": {"aws:PrincipalOrgID": "o-2"},
                }
            )
        ),
        [],
    ),
    (
        "equals and not equals of other values",
        ID,
        doc(
            ident(
                Condition={
                    "StringEquals": {"aws:PrincipalTag/team": ["a", "c"]},
                    "StringNotEquals": {"aws:PrincipalTag/team": "a"},
                }
            )
        ),
        [],
    ),
    (
        "equals a variable and not equals it",
        ID,
        doc(
            ident(
                Condition={
                    "StringEquals": {"aws:PrincipalTag/team": "${aws:username}"},
                    "StringNotEquals": {"aws:PrincipalTag/team": "${aws:username}"},
                }
            )
        ),
        [],
    ),
]


def _codes(findings: list[Finding]) -> list[str]:
    return sorted(finding.code for finding in findings)


def _lint(kind: PolicyKind, document: Any) -> list[Finding]:
    if isinstance(document, str):
        return lint_policy_text(document, kind)
    return lint_policy(document, kind)


@pytest.mark.parametrize(("name", "kind", "document", "expected"), ROWS, ids=[r[0] for r in ROWS])
def test_row(name: str, kind: PolicyKind, document: Any, expected: list[str]) -> None:
    assert _codes(_lint(kind, document)) == sorted(expected)


def test_the_table_is_large() -> None:
    assert len(ROWS) >= 60
    assert len({row[0] for row in ROWS}) == len(ROWS), "row names must be unique"


def test_every_code_is_exercised() -> None:
    exercised = {code for row in ROWS for code in row[3]}
    assert sorted(set(CATALOGUE) - exercised) == []


def _documented_codes() -> set[str]:
    return set(re.findall(r"^### `([A-Z_]+)`", DOCS.read_text(encoding="utf-8"), re.MULTILINE))


def test_every_code_is_documented_and_every_documented_code_exists() -> None:
    assert _documented_codes() == set(CATALOGUE)


def test_the_docs_give_each_code_its_severity() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for code, info in CATALOGUE.items():
        section = text.split(f"### `{code}`", 1)[1].split("\n### ", 1)[0]
        assert f"Severity: **{info.severity.value}**" in section, code


def test_every_problem_parse_reports_is_catalogued() -> None:
    source = PARSE.read_text(encoding="utf-8")
    reported = set(re.findall(r'(?:problem|Problem)\(\s*"([A-Z_]+)"', source))
    assert "DUPLICATE_KEY" in reported
    assert reported <= set(CATALOGUE)


# --- findings, messages and locations ---------------------------------------------------------


def test_walkthrough_repository_policy_finding() -> None:
    [finding] = lint_policy_text((DATA / "walkthrough-repository-policy.json").read_text(), RP)
    assert finding.code == "INVALID_ACCOUNT_ID"
    assert finding.severity is Severity.ERROR
    assert finding.path == "/Statement/0/Principal/AWS"
    assert "`2222222222`" in finding.message
    assert "10 digits" in finding.message


def test_walkthrough_identity_policy_finding() -> None:
    [finding] = lint_policy_text((DATA / "walkthrough-identity-policy.json").read_text(), ID)
    assert finding.code == "INVALID_ACCOUNT_ID"
    assert finding.path == "/Statement/0/Resource"
    assert "`1111111111`" in finding.message


def test_unknown_action_suggests_the_right_one() -> None:
    [finding] = lint_policy(
        doc(ident(Action=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayers"])), ID
    )
    assert finding.path == "/Statement/0/Action/1"
    assert "did you mean `ecr:GetDownloadUrlForLayer`?" in finding.message


def test_a_long_unknown_action_gets_no_suggestion() -> None:
    [finding] = lint_policy(doc(ident(Action="ecr:" + "Get" * 100)), ID)
    assert "did you mean" not in finding.message


def test_unknown_condition_key_suggests_the_right_one() -> None:
    document = doc(ident(Condition=cond("StringEquals", "aws:PrincipalOrgIds", "o-1")))
    [finding] = lint_policy(document, ID)
    assert finding.path == "/Statement/0/Condition/StringEquals/aws:PrincipalOrgIds"
    assert "did you mean `aws:PrincipalOrgID`?" in finding.message


def test_public_access_message() -> None:
    [finding] = lint_policy(doc(repo(**PUBLIC)), RP)
    assert finding.severity is Severity.SECURITY_WARNING
    assert "opens the repository to every AWS account" in finding.message
    assert finding.path == "/Statement/0/Principal"


def test_pointers_escape_slashes_and_tildes() -> None:
    document = doc(ident(Condition=cond("IpAddress", "aws:SourceIp", ["10.0.0.0/8", "x~y/z"])))
    [finding] = lint_policy(document, ID)
    assert finding.path == "/Statement/0/Condition/IpAddress/aws:SourceIp/1"
    tagged = doc(ident(Condition=cond("Bool", "s3:a~b/c", "maybe")))
    [finding] = lint_policy(tagged, ID)
    assert finding.path == "/Statement/0/Condition/Bool/s3:a~0b~1c"


def test_size_message_names_the_limit() -> None:
    [finding] = lint_policy(_big_identity(), ID)
    assert "the limit is 6,144" in finding.message
    assert "not counting whitespace" in finding.message
    assert finding.path == ""


def test_redundant_names_the_covering_statement() -> None:
    findings = lint_policy(doc(ident(Sid="All", Action="ecr:*"), ident(Sid="Pull")), ID)
    [finding] = findings
    assert finding.path == "/Statement/1"
    assert "`All`" in finding.message
    unnamed = lint_policy(doc(ident(Action="ecr:*"), ident()), ID)
    assert "statement #0" in unnamed[0].message


def test_duplicate_sid_message() -> None:
    findings = lint_policy(doc(ident(Sid="A"), ident(Sid="B"), ident(Sid="A", Action="ecr:*")), ID)
    codes = _codes(findings)
    assert "DUPLICATE_SID" in codes
    [duplicate] = [f for f in findings if f.code == "DUPLICATE_SID"]
    assert duplicate.path == "/Statement/2/Sid"
    assert "statement #0" in duplicate.message


def test_invalid_json_text_still_reports_its_size() -> None:
    text = "{" + " " * 20 + "x" * 11_000
    assert _codes(lint_policy_text(text, RP)) == ["INVALID_JSON", "POLICY_TOO_LARGE"]


def test_values_json_cannot_encode_are_not_measured() -> None:
    assert _codes(lint_policy({1, 2}, ID)) == ["WRONG_TYPE"]


def test_to_json() -> None:
    finding = Finding.of("EMPTY_STATEMENT", "empty", "/Statement")
    assert finding.to_json() == {
        "code": "EMPTY_STATEMENT",
        "severity": "WARNING",
        "message": "empty",
        "path": "/Statement",
    }


def test_an_uncatalogued_code_is_an_error() -> None:
    assert severity_of("SOMETHING_NEW") is Severity.ERROR
    assert severity_of("MISSING_VERSION") is Severity.SUGGESTION


def test_policy_kinds() -> None:
    assert [kind.size_limit for kind in PolicyKind] == [6144, 10240, 10240, 2048, 5120]
    assert [kind.counts_whitespace for kind in PolicyKind] == [False, True, True, False, False]
    assert [kind.a_label for kind in PolicyKind] == [
        "an identity policy",
        "a repository policy",
        "a registry policy",
        "a trust policy",
        "an SCP",
    ]


# --- inference -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "kind"),
    [
        (doc(ident()), ID),
        (doc(repo()), RP),
        (doc(repo(Principal=None, NotPrincipal={"AWS": OTHER}, Effect="Deny")), RP),
        (doc(registry()), RG),
        (doc(repo(Resource="arn:aws:s3:::bucket", Action="s3:GetObject")), RP),
        (doc(trust()), TR),
        (doc(trust(Action=["sts:TagSession", "sts:AssumeRoleWithSAML"])), TR),
        ({"Statement": repo()}, RP),
        ({"Statement": [5, repo(Action=[1, "ecr:*"])]}, RP),
        ([], ID),
        ("text", ID),
        ({"Statement": "x"}, ID),
    ],
)
def test_infer_policy_kind(document: Any, kind: PolicyKind) -> None:
    assert infer_policy_kind(document) is kind


# --- the coverage relation and the repository matcher -------------------------------------------


def _statement(**fields: Any) -> Statement:
    return Statement(index=0, sid=None, effect=Effect.ALLOW, **fields)


def test_covers_requires_matching_shapes() -> None:
    wide = _statement(action=("ecr:*",), resource=("*",))
    assert covers(wide, _statement(action=("ecr:ListImages",), not_resource=(REPO,)))
    assert not covers(
        _statement(action=("ecr:*",), resource=(REPO,)), _statement(action=("ecr:*",))
    )
    narrow = _statement(action=("ecr:ListImages",), resource=(REPO + "/${aws:username}",))
    assert not covers(_statement(action=("ecr:*",), resource=(REPO + "/*",)), narrow)
    assert covers(narrow, narrow)


def test_covers_principals() -> None:
    from crossdock.policy.model import PrincipalSpec

    account = PrincipalSpec(star=False, entries=(("AWS", ("222222222222",)),))
    root = PrincipalSpec(star=False, entries=(("AWS", (OTHER,)),))
    service = PrincipalSpec(star=False, entries=(("Service", ("ECR.amazonaws.com",)),))
    star = PrincipalSpec(star=True)
    base = {"action": ("ecr:*",)}
    assert covers(_statement(principal=root, **base), _statement(principal=account, **base))
    assert not covers(_statement(principal=root, **base), _statement(principal=star, **base))
    assert not covers(_statement(principal=root, **base), _statement(principal=service, **base))
    assert not covers(_statement(principal=root, **base), _statement(**base))
    assert covers(_statement(not_principal=root, **base), _statement(not_principal=root, **base))
    assert not covers(_statement(principal=star, **base), _statement(not_principal=root, **base))


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("*", True),
        (REPO, True),
        ("arn:aws:ecr:us-east-1:111111111111:repository/", False),
        ("arn:aws:ecr:us-east-1:111111111111:registry/*", False),
        ("arn:aws:ecr:us-east-1:111111111111:repo*", True),
        ("arn:aws:ecr:us-east-1:111111111111:repository/${aws:username}", True),
        ("arn:aws:e?r:us-east-1:111111111111:repository/x", True),
        ("arn:aws:s3:::bucket", False),
        ("arn:*", True),
        ("example", False),
        ("", False),
    ],
)
def test_may_match_repository(pattern: str, expected: bool) -> None:
    assert may_match_repository(pattern) is expected
