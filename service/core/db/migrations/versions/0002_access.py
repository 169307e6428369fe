"""access: plans and emails of users; role, confidentiality and fair share of videos;
access requests, invitations and an append-only audit log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SeqType = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_APPEND_ONLY_SQLITE = """
CREATE TRIGGER audit_log_no_{verb} BEFORE {verb} ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
"""
_APPEND_ONLY_POSTGRES_FUNCTION = """
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$
"""
_APPEND_ONLY_POSTGRES_TRIGGER = """
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
"""


def upgrade() -> None:
    # Plain ALTERs (no batch mode): SQLite adds columns with defaults in place, and a table
    # rebuild could not carry the descending claim index over.
    op.add_column("users", sa.Column("email", sa.String(length=200), nullable=True))
    op.add_column(
        "users", sa.Column("plan", sa.String(length=40), server_default="free", nullable=False)
    )
    op.add_column("videos", sa.Column("role", sa.String(length=40), nullable=True))
    op.add_column(
        "videos",
        sa.Column("confidential", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "videos", sa.Column("fair_rank", sa.Integer(), server_default="1", nullable=False)
    )
    op.add_column(
        "videos", sa.Column("max_running", sa.Integer(), server_default="1", nullable=False)
    )
    op.add_column("videos", sa.Column("retention_seconds", sa.Double(), nullable=True))
    op.drop_index("ix_videos_queued", table_name="videos")
    op.create_index(
        "ix_videos_queued",
        "videos",
        [sa.text("priority DESC"), "fair_rank", "seq"],
        unique=False,
        postgresql_where=sa.text("status = 'queued'"),
        sqlite_where=sa.text("status = 'queued'"),
    )
    op.create_index("ix_videos_user_created", "videos", ["user_id", "created_at"], unique=False)
    op.create_index(
        "ix_videos_user_running",
        "videos",
        ["user_id"],
        unique=False,
        postgresql_where=sa.text("status = 'in_progress'"),
        sqlite_where=sa.text("status = 'in_progress'"),
    )

    op.create_table(
        "access_requests",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("wanted_role", sa.String(length=40), nullable=False),
        sa.Column("motivation", sa.Text(), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("decided_at", sa.Double(), nullable=True),
        sa.Column("decided_by", sa.String(length=40), nullable=True),
        sa.Column("invitation_id", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_access_requests_address_created", "access_requests", ["client_address", "created_at"]
    )
    op.create_table(
        "invitations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("prefix", sa.String(length=40), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("plan", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=True),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.Column("used_at", sa.Double(), nullable=True),
        sa.Column("used_by", sa.String(length=40), nullable=True),
        sa.Column("access_request_id", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", SeqType, autoincrement=True, nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("actor_id", sa.String(length=40), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=True),
        sa.Column("actor_role", sa.String(length=40), nullable=True),
        sa.Column("target_type", sa.String(length=40), nullable=True),
        sa.Column("target_id", sa.String(length=60), nullable=True),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index("ix_audit_log_action_at", "audit_log", ["action", "at"])
    op.create_index("ix_audit_log_actor_at", "audit_log", ["actor_id", "at"])
    op.create_index("ix_audit_log_target", "audit_log", ["target_type", "target_id"])

    if op.get_bind().dialect.name == "postgresql":
        op.execute(_APPEND_ONLY_POSTGRES_FUNCTION)
        op.execute(_APPEND_ONLY_POSTGRES_TRIGGER)
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(_APPEND_ONLY_SQLITE.format(verb=verb))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_table("audit_log")
    op.drop_table("invitations")
    op.drop_table("access_requests")
    op.drop_index("ix_videos_user_running", table_name="videos")
    op.drop_index("ix_videos_user_created", table_name="videos")
    op.drop_index("ix_videos_queued", table_name="videos")
    op.create_index(
        "ix_videos_queued",
        "videos",
        [sa.text("priority DESC"), "seq"],
        unique=False,
        postgresql_where=sa.text("status = 'queued'"),
        sqlite_where=sa.text("status = 'queued'"),
    )
    for column in ("retention_seconds", "max_running", "fair_rank", "confidential", "role"):
        op.drop_column("videos", column)
    op.drop_column("users", "plan")
    op.drop_column("users", "email")
