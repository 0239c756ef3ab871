"""ECR, IAM and STS behaviour, with no HTTP: every operation authorizes through ``authz``."""
