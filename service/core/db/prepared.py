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
        # The RETURNING columns are known here: reading them from the cursor's description
        # costs more client time than the statement itself (73 column objects per row).
        returning = compiled.effective_returning or []
        self._row_type = (
            namedtuple("Row", [column.key for column in returning]) if returning else None
        )

    def _parameters(self, values: Mapping[str, Any]):
        merged = {**self._defaults, **values}
        if self._positional:
            return tuple(merged[name] for name in self._order)
        return merged

    def execute(self, connection: sa.Connection, values: Mapping[str, Any]):
        """Run on `connection`; returns (rowcount, first row or None). The driver's errors
        come out as SQLAlchemy's (DBAPIError and its kinds), as from `connection.execute`;
        a lost connection is invalidated, so the pool does not hand it out again."""
        dbapi_connection = connection.connection.dbapi_connection
        cursor = dbapi_connection.cursor()
        parameters = self._parameters(values)
        try:
            cursor.execute(self.sql, parameters)
            row = cursor.fetchone() if self._row_type is not None else None
            return cursor.rowcount, (self._row_type(*row) if row is not None else None)
        except connection.dialect.loaded_dbapi.Error as exc:
            lost = connection.dialect.is_disconnect(exc, dbapi_connection, cursor)
            if lost:
                connection.invalidate(exc)
            raise sa.exc.DBAPIError.instance(
                self.sql,
                parameters,
                exc,
                connection.dialect.loaded_dbapi.Error,
                connection_invalidated=lost,
                dialect=connection.dialect,
            ) from exc
        finally:
            try:
                cursor.close()
            except connection.dialect.loaded_dbapi.Error:
                pass  # a lost connection: the error above is the one that matters
