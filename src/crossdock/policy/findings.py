"""The policy linter's vocabulary: severities, policy kinds, finding codes, findings.

Every code the linter can report is a row of :data:`CATALOGUE` (code, severity, one-line
summary); ``docs/policy-lint.md`` explains each one with an example and a fix. The
structural codes are the ones :func:`crossdock.policy.parse.check_policy` reports: the
linter turns its problems into findings unchanged, so there is one catalogue, not two.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType


class Severity(Enum):
    """How bad a finding is; only ``ERROR`` makes ``crossdock policy lint`` exit 1."""

    ERROR = "ERROR"
    """AWS rejects the document, or a part of it can never work."""
    SECURITY_WARNING = "SECURITY_WARNING"
    """The document works, and grants more than was probably meant."""
    WARNING = "WARNING"
    """The document works, not the way it reads."""
    SUGGESTION = "SUGGESTION"
    """The document works; it could be clearer or shorter."""


class PolicyKind(Enum):
    """The kinds of policy document the linter knows, each with its own rules."""

    IDENTITY = "identity"
    REPOSITORY = "repository"
    REGISTRY = "registry"
    TRUST = "trust"
    SCP = "scp"

    @property
    def size_limit(self) -> int:
        """The documented size limit, in characters (see :attr:`counts_whitespace`).

        identity: 6,144 (a customer managed policy; inline policies share an aggregate
        per entity of 2,048 for a user, 5,120 for a group, 10,240 for a role);
        repository and registry: 10,240; trust: 2,048 (the default quota, raisable to
        4,096); SCP: 5,120.
        """
        return _SIZE_LIMITS[self]

    @property
    def counts_whitespace(self) -> bool:
        """True when whitespace counts toward the limit (ECR's ``policyText``); IAM,
        STS and Organizations do not count it."""
        return self in (PolicyKind.REPOSITORY, PolicyKind.REGISTRY)

    @property
    def has_principal(self) -> bool:
        """True for resource-based policies, whose statements must name a principal."""
        return self in (PolicyKind.REPOSITORY, PolicyKind.REGISTRY, PolicyKind.TRUST)

    @property
    def label(self) -> str:
        """How messages name the kind: ``repository policy``, ``SCP``..."""
        return "SCP" if self is PolicyKind.SCP else f"{self.value} policy"

    @property
    def a_label(self) -> str:
        """The label with its article: ``an identity policy``, ``a trust policy``, ``an SCP``."""
        article = "an" if self in (PolicyKind.IDENTITY, PolicyKind.SCP) else "a"
        return f"{article} {self.label}"


_SIZE_LIMITS = MappingProxyType(
    {
        PolicyKind.IDENTITY: 6_144,
        PolicyKind.REPOSITORY: 10_240,
        PolicyKind.REGISTRY: 10_240,
        PolicyKind.TRUST: 2_048,
        PolicyKind.SCP: 5_120,
    }
)


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """One row of the catalogue."""

    code: str
    severity: Severity
    summary: str


_E, _S, _W, _G = Severity.ERROR, Severity.SECURITY_WARNING, Severity.WARNING, Severity.SUGGESTION

_ROWS: tuple[tuple[str, Severity, str], ...] = (
    # --- structure (reported by crossdock.policy.parse.check_policy) ------------------------
    ("INVALID_JSON", _E, "the document is not JSON text"),
    ("WRONG_TYPE", _E, "an element has the wrong JSON type"),
    ("UNKNOWN_ELEMENT", _E, "an element the policy language does not define"),
    ("MISSPELLED_ELEMENT", _E, "an unknown element close to a known one (`Resources`)"),
    ("DUPLICATE_KEY", _E, "a JSON object repeats a key"),
    ("MISSING_STATEMENT", _E, "the policy has no `Statement`"),
    ("MISSING_EFFECT", _E, "a statement has no `Effect`"),
    ("INVALID_EFFECT", _E, "`Effect` is not exactly `Allow` or `Deny`"),
    ("INVALID_VERSION", _E, "`Version` is neither `2012-10-17` nor `2008-10-17`"),
    ("CONFLICTING_ELEMENTS", _E, "a statement has both `X` and `NotX`"),
    ("MISSING_ACTION", _E, "a statement has no `Action` or `NotAction`"),
    ("EMPTY_VALUE", _E, "an element is an empty array or object"),
    ("INVALID_PRINCIPAL", _E, "a principal that cannot name anyone here"),
    ("UNKNOWN_OPERATOR", _E, "a condition operator IAM does not define"),
    # --- the document ----------------------------------------------------------------------
    ("POLICY_TOO_LARGE", _E, "the document exceeds the size limit of its policy type"),
    ("MISSING_VERSION", _G, "no `Version`: policy variables are literal text"),
    ("EMPTY_STATEMENT", _W, "`Statement` is an empty array"),
    ("LITERAL_VARIABLE", _W, "a `${...}` policy variable that is compared as literal text"),
    ("DUPLICATE_SID", _E, "two statements share a `Sid`"),
    ("INVALID_SID", _E, "a `Sid` with characters IAM does not accept"),
    ("REDUNDANT_STATEMENT", _G, "a statement another statement already covers"),
    ("REDUNDANCY_CHECK_SKIPPED", _G, "too many statements to look for redundant ones"),
    # --- principals ------------------------------------------------------------------------
    ("MISSING_PRINCIPAL", _E, "a resource-based policy statement names no principal"),
    ("PRINCIPAL_NOT_ALLOWED", _E, "`Principal` in an identity policy or an SCP"),
    ("NOT_PRINCIPAL_IN_TRUST", _E, "`NotPrincipal` in a role trust policy"),
    ("NOT_PRINCIPAL_WITH_ALLOW", _S, "`NotPrincipal` with `Allow`: everyone else is allowed"),
    ("NOT_PRINCIPAL_MISSING_ACCOUNT", _W, "`NotPrincipal` exempts an ARN but not its account"),
    ("PUBLIC_ACCESS", _S, "`Principal` `*` on an `Allow` with no restricting condition"),
    ("PARTIAL_WILDCARD_PRINCIPAL", _E, "a wildcard inside a principal ARN"),
    ("INVALID_ACCOUNT_ID", _E, "an account id that is not exactly 12 digits"),
    ("INVALID_ARN", _E, "a string that is not a well-formed ARN"),
    # --- actions and resources -------------------------------------------------------------
    ("INVALID_ACTION", _E, "an action that is not `service:name` or `*`"),
    ("UNKNOWN_ACTION", _E, "an `ecr:` action ECR does not define"),
    ("NON_REPOSITORY_ACTION", _E, "a registry-level `ecr:` action in a repository policy"),
    ("NON_ECR_ACTION", _W, "an action of another service in an ECR policy"),
    ("MISSING_RESOURCE", _E, "a statement with no `Resource` or `NotResource`"),
    ("RESOURCE_IN_REPOSITORY_POLICY", _W, "`Resource` in a repository policy"),
    ("RESOURCE_IN_TRUST_POLICY", _E, "`Resource` in a role trust policy"),
    ("ACTION_RESOURCE_MISMATCH", _W, "an action none of the statement's resources can match"),
    # --- conditions ------------------------------------------------------------------------
    ("UNKNOWN_CONDITION_KEY", _W, "a condition key AWS does not define"),
    ("INVALID_CONDITION_VALUE", _E, "a condition value its operator cannot read"),
    ("CONDITION_TYPE_MISMATCH", _W, "an operator of the wrong type for its condition key"),
    ("UNSATISFIABLE_CONDITION", _W, "conditions that can never all be true"),
)

CATALOGUE: MappingProxyType[str, CodeInfo] = MappingProxyType(
    {code: CodeInfo(code, severity, summary) for code, severity, summary in _ROWS}
)
"""Every finding code, keyed by code, in the order the docs present them."""


def severity_of(code: str) -> Severity:
    """The severity of ``code``; an uncatalogued code (a new parse problem) is an ERROR."""
    info = CATALOGUE.get(code)
    return Severity.ERROR if info is None else info.severity


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the linter found: ``path`` is an RFC 6901 pointer (``""``: whole document)."""

    code: str
    severity: Severity
    message: str
    path: str

    @classmethod
    def of(cls, code: str, message: str, path: str) -> Finding:
        """A finding whose severity comes from the catalogue."""
        return cls(code, severity_of(code), message, path)

    def to_json(self) -> dict[str, str]:
        """The finding as a JSON object: ``code``, ``severity``, ``message``, ``path``."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "path": self.path,
        }
