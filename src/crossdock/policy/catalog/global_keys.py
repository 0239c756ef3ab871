# Maintained by hand (not generated). Sources, read on 2026-11-28:
#   * AWS global condition context keys (IAM User Guide):
#     https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
#   * The condition-key tables of the Service Authorization Reference pages for AWS STS
#     (list_awssecuritytokenservice) and IAM (list_awsidentityandaccessmanagementiam).
# See docs/catalog.md for how to check these lists against AWS again.
"""AWS global condition keys, plus the ``sts:`` and ``iam:`` keys, with their data types.

Data types use the Service Authorization Reference spelling: ``String``, ``ArrayOfString``,
``ARN``, ``ArrayOfARN``, ``Date``, ``Bool``, ``Numeric``, ``IPAddress``. An ``ArrayOf…`` type
is a multivalued key (the IAM guide's "Value type – Multivalued"), meant for the
``ForAnyValue:`` / ``ForAllValues:`` set operators. A name holding ``${…}`` is a template:
``aws:PrincipalTag/${TagKey}`` stands for ``aws:PrincipalTag/team`` and every other tag key.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ConditionKey:
    """One condition key: its name as AWS spells it and the data types AWS documents.

    ``types`` lists the types AWS names for the key, the primary one first
    (``aws:EpochTime`` is a ``Date`` that also takes numeric operators).
    """

    name: str
    types: tuple[str, ...]

    @property
    def data_type(self) -> str:
        """The primary data type, e.g. ``String`` or ``ArrayOfString``."""
        return self.types[0]

    @property
    def multivalued(self) -> bool:
        """True when the request context may carry several values for the key."""
        return self.data_type.startswith("ArrayOf")

    @property
    def service(self) -> str:
        """The lower-case prefix before the first colon, e.g. ``aws`` or ``ecr``."""
        return self.name.split(":", 1)[0].lower()

    @property
    def template_prefix(self) -> str | None:
        """For a templated key, the text before ``${`` (``aws:PrincipalTag/``); else None."""
        start = self.name.find("${")
        return None if start < 0 else self.name[:start]


# --- AWS global condition keys, grouped as the IAM User Guide groups them -----------------------

PRINCIPAL_KEYS: tuple[ConditionKey, ...] = (
    ConditionKey("aws:PrincipalArn", ("ARN",)),
    ConditionKey("aws:PrincipalAccount", ("String",)),
    ConditionKey("aws:PrincipalOrgPaths", ("ArrayOfString",)),
    ConditionKey("aws:PrincipalOrgID", ("String",)),
    ConditionKey("aws:PrincipalTag/${TagKey}", ("String",)),
    ConditionKey("aws:PrincipalIsAWSService", ("Bool",)),
    ConditionKey("aws:PrincipalServiceName", ("String",)),
    ConditionKey("aws:PrincipalServiceNamesList", ("ArrayOfString",)),
    ConditionKey("aws:PrincipalType", ("String",)),
    ConditionKey("aws:userid", ("String",)),
    ConditionKey("aws:username", ("String",)),
)

ROLE_SESSION_KEYS: tuple[ConditionKey, ...] = (
    ConditionKey("aws:AssumedRoot", ("Bool",)),
    # String for AWS's built-in identity providers, an ARN for the others (IAM User Guide).
    ConditionKey("aws:FederatedProvider", ("String", "ARN")),
    ConditionKey("aws:TokenIssueTime", ("Date",)),
    ConditionKey("aws:SignInSessionArn", ("ARN",)),
    ConditionKey("aws:MultiFactorAuthAge", ("Numeric",)),
    ConditionKey("aws:MultiFactorAuthPresent", ("Bool",)),
    ConditionKey("aws:ChatbotSourceArn", ("ARN",)),
    ConditionKey("aws:Ec2InstanceSourceVpc", ("String",)),
    ConditionKey("aws:Ec2InstanceSourcePrivateIPv4", ("IPAddress",)),
    ConditionKey("aws:SourceIdentity", ("String",)),
)

NETWORK_KEYS: tuple[ConditionKey, ...] = (
    ConditionKey("aws:SourceIp", ("IPAddress",)),
    ConditionKey("aws:SourceVpc", ("String",)),
    ConditionKey("aws:SourceVpcArn", ("ARN",)),
    ConditionKey("aws:SourceVpce", ("String",)),
    ConditionKey("aws:VpceAccount", ("String",)),
    ConditionKey("aws:VpceOrgID", ("String",)),
    ConditionKey("aws:VpceOrgPaths", ("ArrayOfString",)),
    ConditionKey("aws:VpcSourceIp", ("IPAddress",)),
)

RESOURCE_KEYS: tuple[ConditionKey, ...] = (
    ConditionKey("aws:ResourceAccount", ("String",)),
    ConditionKey("aws:ResourceOrgID", ("String",)),
    ConditionKey("aws:ResourceOrgPaths", ("ArrayOfString",)),
    ConditionKey("aws:ResourceTag/${TagKey}", ("String",)),
)

REQUEST_KEYS: tuple[ConditionKey, ...] = (
    ConditionKey("aws:CalledVia", ("ArrayOfString",)),
    ConditionKey("aws:CalledViaFirst", ("String",)),
    ConditionKey("aws:CalledViaLast", ("String",)),
    ConditionKey("aws:CalledViaAWSMCP", ("String",)),
    ConditionKey("aws:ViaAWSService", ("Bool",)),
    ConditionKey("aws:ViaAWSMCPService", ("Bool",)),
    ConditionKey("aws:CurrentTime", ("Date",)),
    ConditionKey("aws:EpochTime", ("Date", "Numeric")),
    ConditionKey("aws:referer", ("String",)),
    ConditionKey("aws:RequestedRegion", ("String",)),
    ConditionKey("aws:RequestTag/${TagKey}", ("String",)),
    ConditionKey("aws:TagKeys", ("ArrayOfString",)),
    ConditionKey("aws:SecureTransport", ("Bool",)),
    ConditionKey("aws:SourceAccount", ("String",)),
    ConditionKey("aws:SourceArn", ("ARN",)),
    ConditionKey("aws:SourceOrgID", ("String",)),
    ConditionKey("aws:SourceOrgPaths", ("ArrayOfString",)),
    ConditionKey("aws:UserAgent", ("String",)),
    ConditionKey("aws:IsMcpServiceAction", ("Bool",)),
)

GLOBAL_CONDITION_KEYS: tuple[ConditionKey, ...] = (
    PRINCIPAL_KEYS + ROLE_SESSION_KEYS + NETWORK_KEYS + RESOURCE_KEYS + REQUEST_KEYS
)
"""Every ``aws:`` key of the IAM User Guide's global condition keys page."""

CROSS_SERVICE_CONDITION_KEYS: tuple[ConditionKey, ...] = (
    ConditionKey("ec2:RoleDelivery", ("Numeric",)),
    ConditionKey("ec2:SourceInstanceArn", ("ARN",)),
    ConditionKey("glue:RoleAssumedBy", ("String",)),
    ConditionKey("glue:CredentialIssuingService", ("String",)),
    ConditionKey("codebuild:BuildArn", ("ARN",)),
    ConditionKey("codebuild:ProjectArn", ("ARN",)),
    ConditionKey("lambda:SourceFunctionArn", ("ARN",)),
    ConditionKey("ssm:SourceInstanceArn", ("ARN",)),
    ConditionKey("identitystore:UserId", ("String",)),
)
"""Role-session keys that other services put in every request context (same AWS page)."""

SENSITIVE_GLOBAL_KEYS: frozenset[str] = frozenset(
    {
        "aws:PrincipalAccount",
        "aws:PrincipalOrgID",
        "aws:ResourceAccount",
        "aws:ResourceOrgID",
        "aws:SourceAccount",
        "aws:SourceOrgID",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:VpceAccount",
        "aws:VpceOrgID",
    }
)
"""Keys AWS calls sensitive: a wildcard in their values has no valid use (IAM User Guide)."""

# --- AWS STS (trust policies) and IAM service keys ---------------------------------------------
# The identity-provider keys that STS also lists (saml:, accounts.google.com:, token.actions…:)
# carry their own prefixes and are not catalogued here.

STS_CONDITION_KEYS: tuple[ConditionKey, ...] = (
    ConditionKey("sts:AWSServiceName", ("String",)),
    ConditionKey("sts:DurationSeconds", ("Numeric",)),
    ConditionKey("sts:ExternalId", ("String",)),
    ConditionKey("sts:IdentityTokenAudience", ("ArrayOfString",)),
    ConditionKey("sts:RequestContext/${ContextKey}", ("String",)),
    ConditionKey("sts:RequestContextProviders", ("ArrayOfARN",)),
    ConditionKey("sts:RoleAuthorizedByIdp", ("Bool",)),
    ConditionKey("sts:RoleSessionName", ("String",)),
    ConditionKey("sts:SigningAlgorithm", ("String",)),
    ConditionKey("sts:SourceIdentity", ("String",)),
    ConditionKey("sts:TaskPolicyArn", ("ARN",)),
    ConditionKey("sts:TransitiveTagKeys", ("ArrayOfString",)),
)

IAM_CONDITION_KEYS: tuple[ConditionKey, ...] = (
    ConditionKey("iam:AWSServiceName", ("String",)),
    ConditionKey("iam:AccountPropertyNamespaces", ("ArrayOfString",)),
    ConditionKey("iam:AssociatedResourceArn", ("ARN",)),
    ConditionKey("iam:DelegationDuration", ("String",)),
    ConditionKey("iam:DelegationRequestOwner", ("ARN",)),
    ConditionKey("iam:FIDO-FIPS-140-2-certification", ("String",)),
    ConditionKey("iam:FIDO-FIPS-140-3-certification", ("String",)),
    ConditionKey("iam:FIDO-certification", ("String",)),
    ConditionKey("iam:NotificationChannel", ("String",)),
    ConditionKey("iam:OrganizationsPolicyId", ("String",)),
    ConditionKey("iam:PassedToService", ("String",)),
    ConditionKey("iam:PermissionsBoundary", ("ARN",)),
    ConditionKey("iam:PolicyARN", ("ARN",)),
    ConditionKey("iam:RegisterSecurityKey", ("String",)),
    ConditionKey("iam:ResourceTag/${TagKey}", ("String",)),
    ConditionKey("iam:RoleTemplateARN", ("ARN",)),
    ConditionKey("iam:ServiceSpecificCredentialAgeDays", ("Numeric",)),
    ConditionKey("iam:ServiceSpecificCredentialServiceName", ("String",)),
    ConditionKey("iam:TemplateArn", ("ARN",)),
)
