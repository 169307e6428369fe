"""Statements on the queue's hot path, compiled once and run on the driver's cursor.

Every job is claimed and finished by one statement each. Through SQLAlchemy's execution
machinery those cost about four times what the database spends on them (measured on
PostgreSQL: 500 us of client CPU against 130 us on the bare cursor), which caps how many
jobs a worker host can turn over. So these few statements are still written with
SQLAlchemy Core, compiled once for the engine's dialect, and then executed on the pooled
connection's DBAPI cursor. Connection pooling and error handling stay SQLAlchemy's.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine


class PreparedStatement:
    def __init__(self, engine: Engine, statement: sa.ClauseElement) -> None:
        """`statement` must not use expanding (IN-list) parameters: their SQL is only
        known at execution."""
        compiled = statement.compile(dialect=engine.dialect)
        self.sql = compiled.string
        self._positional = engine.dialect.paramstyle in ("qmark", "format", "numeric")
        self._order = compiled.positiontup or []
        self._defaults = compiled.construct_params(_check=False)
        self._row_types: dict[tuple[str, ...], type] = {}

    def _parameters(self, values: Mapping[str, Any]):
        merged = {**self._defaults, **values}
        if self._positional:
            return tuple(merged[name] for name in self._order)
        return merged

    def execute(self, connection: sa.Connection, values: Mapping[str, Any]):
        """Run on `connection` (autocommit); returns (rowcount, first row or None)."""
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.execute(self.sql, self._parameters(values))
            row = cursor.fetchone() if cursor.description else None
            if row is not None:
                names = tuple(column[0] for column in cursor.description)
                row_type = self._row_types.get(names)
                if row_type is None:
                    row_type = self._row_types[names] = namedtuple("Row", names)
                row = row_type(*row)
            return cursor.rowcount, row
        finally:
            cursor.close()
