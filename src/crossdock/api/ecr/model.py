"""botocore's ECR service model, read from the installed botocore's data files.

The model is the single source of the wire shapes: the request validator walks its input
shapes and the tests check every response against its output shapes. It is loaded when
an :class:`EcrModel` is built (never at import time).
"""

from __future__ import annotations

import gzip
import json
from importlib import resources
from typing import Any

API_VERSION = "2015-09-21"


class EcrModel:
    """Operations and shapes of the ECR API (``service-2.json``)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.operations: dict[str, Any] = document["operations"]
        self.shapes: dict[str, Any] = document["shapes"]
        self.target_prefix: str = document["metadata"]["targetPrefix"]

    @classmethod
    def load(cls) -> EcrModel:
        """The model shipped with the installed botocore."""
        base = resources.files("botocore").joinpath("data", "ecr", API_VERSION)
        plain = base.joinpath("service-2.json")
        if plain.is_file():
            return cls(json.loads(plain.read_text(encoding="utf-8")))
        packed = base.joinpath("service-2.json.gz").read_bytes()
        return cls(json.loads(gzip.decompress(packed)))

    def shape(self, name: str) -> dict[str, Any]:
        """One shape by name."""
        shape: dict[str, Any] = self.shapes[name]
        return shape

    def input_shape(self, operation: str) -> str | None:
        """The name of an operation's input shape."""
        found = self.operations[operation].get("input")
        return None if found is None else str(found["shape"])

    def output_shape(self, operation: str) -> str | None:
        """The name of an operation's output shape."""
        found = self.operations[operation].get("output")
        return None if found is None else str(found["shape"])
