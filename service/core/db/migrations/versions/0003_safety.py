"""safety: watermark ids, moderation verdicts and flags of videos; the outputs registry that
verify traces clips with; red-team reports

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SeqType = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("videos", sa.Column("watermark_id", sa.BigInteger(), nullable=True))
    op.add_column("videos", sa.Column("moderation", sa.Text(), nullable=True))
    op.add_column(
        "videos",
        sa.Column("flagged", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_table(
        "outputs",
        sa.Column("seq", SeqType, primary_key=True, autoincrement=True),
        sa.Column("mark_id", sa.BigInteger(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=8), nullable=False),
        sa.Column("job_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=True),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
    )
    op.create_index("uq_outputs_key_mark", "outputs", ["key_id", "mark_id"], unique=True)
    op.create_index("ix_outputs_job", "outputs", ["job_id"])
    op.create_table(
        "reports",
        sa.Column("id", sa.String(length=40), primary_key=True),
        sa.Column("video_id", sa.String(length=40), nullable=False),
        sa.Column("reporter_id", sa.String(length=40), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
    )
    op.create_index("ix_reports_reporter_created", "reports", ["reporter_id", "created_at"])
    op.create_index("ix_reports_video", "reports", ["video_id"])


def downgrade() -> None:
    op.drop_table("reports")
    op.drop_table("outputs")
    for column in ("flagged", "moderation", "watermark_id"):
        op.drop_column("videos", column)
