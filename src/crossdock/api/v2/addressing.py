"""Which repository a ``/v2/`` URL names: path style or host style (spec §3.1).

* Path style: ``/v2/<account>/<repo...>/...``; the first segment is the 12-digit account,
  the region is the server's.
* Host style (with ``--registry-domain D``): ``Host: <account>.dkr.ecr.<region>.D[:port]``
  and ``/v2/<repo...>/...``; account and region come from the host.

Both give ``arn:aws:ecr:<region>:<account>:repository/<repo>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crossdock.api.v2.errors import V2Error
from crossdock.core.arn import is_account_id
from crossdock.service.ecr.addressing import RegistryAddressing
from crossdock.service.ecr.common import RepositoryRef, validate_repository_name
from crossdock.service.errors import InvalidParameterError


@dataclass(frozen=True, slots=True)
class Registry:
    """The registry a request's host names: its account (None in path style) and region."""

    account_id: str | None
    region: str


class Addresser:
    """Maps hosts and repository paths to registries and repositories."""

    def __init__(self, addressing: RegistryAddressing, region: str) -> None:
        self._region = region
        self._host: re.Pattern[str] | None = None
        if addressing.domain is not None:
            domain = re.escape(addressing.domain.lower())
            self._host = re.compile(
                rf"([0-9]{{12}})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]{{1,32}})\.{domain}(?::[0-9]{{1,5}})?"
            )

    def registry(self, host: str) -> Registry:
        """The registry of the ``Host`` header: host style when it matches, else path style."""
        if self._host is not None:
            match = self._host.fullmatch(host.lower())
            if match is not None:
                return Registry(match.group(1), match.group(2))
        return Registry(None, self._region)

    def repository(self, registry: Registry, name: str) -> RepositoryRef:
        """The repository ``name`` (as the URL spells it) denotes in ``registry``.

        Raises 404 ``NAME_UNKNOWN`` when a path-style name does not start with an account
        and 400 ``NAME_INVALID`` when the repository name breaks ECR's rules.
        """
        account = registry.account_id
        repo = name
        if account is None:
            account, _, repo = name.partition("/")
            if not is_account_id(account) or not repo:
                raise V2Error(
                    404,
                    "NAME_UNKNOWN",
                    f"repository name `{name[:300]}` must start with a 12-digit account id "
                    "(HOST:PORT/<account>/<repository>)",
                )
        try:
            validate_repository_name(repo)
        except InvalidParameterError as error:
            raise V2Error(400, "NAME_INVALID", error.message) from None
        return RepositoryRef(account, registry.region, repo)
