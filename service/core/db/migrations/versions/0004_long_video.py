"""long video and conditioned generation: modes, inputs and windows of videos, kept windows,
the source of an output

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_VIDEO_COLUMNS = (
    ("mode", sa.String(length=8)),
    ("input_key", sa.String(length=200)),
    ("source_video_id", sa.String(length=40)),
    ("source_frames", sa.Integer()),
    ("strength", sa.Double()),
    ("window_frames", sa.Integer()),
    ("overlap_frames", sa.Integer()),
    ("window", sa.Integer()),
    ("windows_resumed", sa.Integer()),
)


def upgrade() -> None:
    for name, kind in _VIDEO_COLUMNS:
        op.add_column("videos", sa.Column(name, kind, nullable=True))
    op.add_column("videos", sa.Column("windows", sa.Integer(), server_default="1", nullable=False))
    op.add_column(
        "videos", sa.Column("windows_done", sa.Integer(), server_default="0", nullable=False)
    )
    op.create_table(
        "video_windows",
        sa.Column("video_id", sa.String(length=40), primary_key=True),
        sa.Column("index", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("segment_key", sa.String(length=200), nullable=False),
        sa.Column("tail_key", sa.String(length=200), nullable=False),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("made_at", sa.Double(), nullable=False),
    )
    op.add_column("outputs", sa.Column("source_job_id", sa.String(length=40), nullable=True))


def downgrade() -> None:
    op.drop_column("outputs", "source_job_id")
    op.drop_table("video_windows")
    with op.batch_alter_table("videos") as batch:
        for name in ("windows_done", "windows", *(name for name, _ in reversed(_VIDEO_COLUMNS))):
            batch.drop_column(name)
