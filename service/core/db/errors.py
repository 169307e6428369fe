"""Which constraint a database refused a write for, by its name, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import sqlalchemy as sa

# SQLite names no constraint, only the columns: "UNIQUE constraint failed: videos.a, videos.b".
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (?P<columns>[\w.]+(?:, [\w.]+)*)")


def violated_constraint(exc: sa.exc.IntegrityError, table: sa.Table) -> str | None:
    """The name of the unique index or constraint of `table` that `exc` reports, or None."""
    diag = getattr(exc.orig, "diag", None)  # psycopg
    if diag is not None:
        return getattr(diag, "constraint_name", None)
    found = _SQLITE_UNIQUE.search(str(exc.orig))
    if found is None:
        return None
    columns = [name.split(".", 1)[-1] for name in found["columns"].split(", ")]
    for index in table.indexes:
        if index.unique and [column.name for column in index.columns] == columns:
            return index.name
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint):
            if [column.name for column in constraint.columns] == columns:
                return constraint.name
    return None
