"""claims flat in queue depth, and jobs that wait before their next attempt

`not_before`: a job put back after a storage fault waits this long (back-off).
`ix_videos_user_queued`: a user's best queued job in one index probe, for the claim's
fallback when the head of the queue belongs to users already running their limit.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("videos", sa.Column("not_before", sa.Double(), nullable=True))
    op.create_index(
        "ix_videos_user_queued",
        "videos",
        ["user_id", sa.text("priority DESC"), "fair_rank", "seq"],
        unique=False,
        postgresql_where=sa.text("status = 'queued'"),
        sqlite_where=sa.text("status = 'queued'"),
    )


def downgrade() -> None:
    op.drop_index("ix_videos_user_queued", table_name="videos")
    with op.batch_alter_table("videos") as batch:
        batch.drop_column("not_before")
