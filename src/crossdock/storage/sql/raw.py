"""Prebuilt statements run straight on a pooled DBAPI connection, for the hottest queries.

SQLAlchemy Core's execution and result machinery costs about 100 µs per statement, three
times what SQLite itself takes for an indexed lookup; on the ECR API's hot paths (the
repository lookup of every repository-scoped call, DescribeRepositories, the token row
of GetAuthorizationToken) that was a tenth of a call's CPU. A :class:`RawStatement`
keeps what is portable (the SQL text comes from SQLAlchemy's compiler for the engine's own
dialect and paramstyle) and skips only the per-call machinery.

It is for simple statements whose parameters and columns need no type processing
(strings, integers, floats, booleans stored as 0/1); every other statement goes through
SQLAlchemy as usual.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.sql.expression import Executable

from crossdock.storage.sql.engine import raw_errors


@lru_cache(maxsize=64)
def _row_type(names: tuple[str, ...]) -> Any:
    """A named tuple class with these column names (rows read by attribute, as Row)."""
    return namedtuple("RawRow", names)


@dataclass(frozen=True, slots=True)
class RawStatement:
    """One compiled statement: its SQL text and how to order its parameters."""

    sql: str
    positions: tuple[str, ...] | None
    """Parameter names in order for a positional paramstyle; None for a named one."""
    defaults: Mapping[str, Any]
    """Parameters the compiler added itself (``LIMIT ? OFFSET ?`` gets an offset of 0)."""

    @classmethod
    def compile(cls, engine: Engine, statement: Executable) -> RawStatement:
        """Compile ``statement`` once for ``engine``'s dialect."""
        compiled = statement.compile(dialect=engine.dialect)  # type: ignore[attr-defined]
        positions = tuple(compiled.positiontup) if compiled.positional else None
        defaults = {
            name: bind.effective_value
            for bind, name in compiled.bind_names.items()
            if not bind.required
        }
        return cls(compiled.string, positions, defaults)

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        """The DBAPI parameters for ``values`` (they win over the compiler's defaults)."""
        merged = {**self.defaults, **values}
        if self.positions is None:
            return merged
        return tuple(merged[name] for name in self.positions)

    def rows(self, engine: Engine, values: Mapping[str, Any]) -> list[Any]:
        """Run a query; its rows, read by column name as attributes."""
        with raw_errors(engine):
            connection = engine.raw_connection()
            try:
                cursor = connection.cursor()
                try:
                    cursor.execute(self.sql, self.parameters(values))
                    found = cursor.fetchall()
                    names = tuple(column[0] for column in cursor.description or ())
                finally:
                    cursor.close()
            finally:
                connection.close()  # back to the pool, which rolls the read back
        row_type = _row_type(names)
        return [row_type._make(row) for row in found]

    def commit(self, engine: Engine, values: Mapping[str, Any]) -> None:
        """Run a write in a transaction of its own and commit it."""
        with raw_errors(engine):
            connection = engine.raw_connection()
            try:
                cursor = connection.cursor()
                try:
                    cursor.execute(self.sql, self.parameters(values))
                finally:
                    cursor.close()
                connection.commit()
            finally:
                connection.close()  # on an error the pool rolls the transaction back
