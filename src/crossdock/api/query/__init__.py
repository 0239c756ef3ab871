"""IAM and STS over the AWS Query protocol (form body in, XML out)."""
