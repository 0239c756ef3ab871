"""IAM and STS over the AWS Query protocol (form body in, XML out)."""

from __future__ import annotations

from crossdock.api.query.protocol import QueryProtocol

__all__ = ("QueryProtocol",)
