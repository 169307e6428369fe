"""Alembic migrations create exactly the schema the code uses, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from service.core.db.migrate import current_revision, head_revision, upgrade
from service.core.db.schema import metadata


def _index_named(diff, name: str) -> bool:
    return diff[0] in ("add_index", "remove_index") and diff[1].name == name


def test_migrations_reach_head_and_match_the_schema(runtime):
    assert current_revision(runtime.engine) == head_revision()
    with runtime.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, metadata)
    if runtime.engine.dialect.name == "sqlite":
        # Alembic cannot reflect SQLite's descending-order indexes; the next test checks them.
        diffs = [
            d
            for d in diffs
            if not any(
                _index_named(d, name) for name in ("ix_videos_queued", "ix_videos_user_queued")
            )
        ]
    assert diffs == []


@pytest.mark.parametrize(
    ("index", "columns"),
    [
        ("ix_videos_queued", "(priority desc, fair_rank, seq)"),
        ("ix_videos_user_queued", "(user_id, priority desc, fair_rank, seq)"),
    ],
)
def test_the_claim_indexes_hold_queued_rows_in_claim_order(runtime, index, columns):
    with runtime.engine.connect() as connection:
        if runtime.engine.dialect.name == "sqlite":
            definition = connection.execute(
                sa.text("SELECT sql FROM sqlite_master WHERE name = :index"), {"index": index}
            ).scalar_one()
        else:
            definition = connection.execute(
                sa.text(
                    "SELECT indexdef FROM pg_indexes"
                    " WHERE indexname = :index AND schemaname = current_schema()"
                ),
                {"index": index},
            ).scalar_one()
    normalized = " ".join(definition.replace('"', "").split()).lower()
    assert columns in normalized
    assert "where" in normalized and "status" in normalized and "'queued'" in normalized


def test_upgrading_twice_changes_nothing(runtime):
    assert upgrade(runtime.engine) == head_revision()
    assert current_revision(runtime.engine) == head_revision()


def test_the_audit_log_is_append_only(runtime):
    import pytest

    with runtime.engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO audit_log (at, action) VALUES (1, 'test.event')"))
    for statement in ("UPDATE audit_log SET action = 'rewritten'", "DELETE FROM audit_log"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with runtime.engine.begin() as connection:
                connection.execute(sa.text(statement))
    with runtime.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT action FROM audit_log")).scalars().all() == [
            "test.event"
        ]
