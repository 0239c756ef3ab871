"""The ASGI wire layer: AWS JSON 1.1 (ECR), AWS Query (IAM, STS) and, later, /v2/."""
