"""Where clients reach the registry: ``proxyEndpoint``, ``repositoryUri`` and blob URLs.

Path style (the default) needs no DNS: ``proxyEndpoint = http(s)://HOST:PORT`` and
``repositoryUri = HOST:PORT/<account>/<repo>``. Host style mirrors AWS:
``<account>.dkr.ecr.<region>.<domain>[:port]/<repo>``. The ``/v2/`` data plane maps both
back to ``arn:aws:ecr:<region>:<account>:repository/<repo>``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RegistryAddressing:
    """How this server's registry is addressed: ``host``/``port`` it is reachable on,
    and the ``domain`` that switches to host style when set."""

    host: str
    port: int | None = None
    scheme: str = "http"
    domain: str | None = None

    @property
    def host_style(self) -> bool:
        """True when repositories are addressed as ``<account>.dkr.ecr.<region>.<domain>``."""
        return self.domain is not None

    def _port(self) -> str:
        default = {"http": 80, "https": 443}.get(self.scheme)
        return "" if self.port is None or self.port == default else f":{self.port}"

    def registry_host(self, account_id: str, region: str) -> str:
        """The ``host[:port]`` docker logs in to for ``account_id``'s registry."""
        if self.domain is not None:
            return f"{account_id}.dkr.ecr.{region}.{self.domain}{self._port()}"
        return f"{self.host}{self._port()}"

    def proxy_endpoint(self, account_id: str, region: str) -> str:
        """GetAuthorizationToken's ``proxyEndpoint`` (no trailing slash)."""
        return f"{self.scheme}://{self.registry_host(account_id, region)}"

    def repository_path(self, account_id: str, name: str) -> str:
        """The repository's path below ``/v2/``: ``<account>/<repo>`` or ``<repo>``."""
        return name if self.domain is not None else f"{account_id}/{name}"

    def repository_uri(self, account_id: str, region: str, name: str) -> str:
        """The ``repositoryUri`` clients push to and pull from."""
        host = self.registry_host(account_id, region)
        return f"{host}/{self.repository_path(account_id, name)}"

    def blob_url(self, account_id: str, region: str, name: str, digest: str) -> str:
        """A URL that downloads the blob (GetDownloadUrlForLayer): the ``/v2/`` blob GET."""
        endpoint = self.proxy_endpoint(account_id, region)
        return f"{endpoint}/v2/{self.repository_path(account_id, name)}/blobs/{digest}"
