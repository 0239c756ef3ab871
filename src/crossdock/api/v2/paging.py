"""``n``/``last`` paging of ``tags/list`` and ``_catalog``, with the ``Link`` header."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

from starlette.datastructures import QueryParams

from crossdock.api.v2.errors import V2Error

MAX_PAGE = 10_000


@dataclass(frozen=True, slots=True)
class Paging:
    """The requested page: at most ``n`` entries (None: all) after ``last``."""

    n: int | None
    last: str | None

    @classmethod
    def from_query(cls, query: QueryParams) -> Paging:
        """Read ``n`` and ``last``; 400 ``PAGINATION_NUMBER_INVALID`` for a bad ``n``."""
        text = query.get("n")
        n = None
        if text is not None:
            if not text.isdigit() or len(text) > 9:
                message = f"invalid number of results: {text[:20]}"
                raise V2Error(400, "PAGINATION_NUMBER_INVALID", message)
            n = min(int(text), MAX_PAGE)
        return cls(n, query.get("last") or None)

    def page(self, names: Iterable[str]) -> tuple[list[str], bool]:
        """The sorted entries of this page, and whether more follow."""
        ordered = sorted(set(names))
        if self.last is not None:
            ordered = [name for name in ordered if name > self.last]
        if self.n is None:
            return ordered, False
        if self.n == 0:
            return [], False
        return ordered[: self.n], len(ordered) > self.n

    def link(self, base: str, page: list[str]) -> str:
        """The ``Link`` header pointing at the next page."""
        return f'<{base}?n={self.n}&last={quote(page[-1], safe="")}>; rel="next"'
