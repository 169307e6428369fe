"""Tables, in SQLAlchemy Core. A `videos` row is both the Video resource of the API and the
entry of the job queue. Times are Unix seconds (floats), the same on SQLite and PostgreSQL.
Alembic migrations under service/core/db/migrations create exactly this (a test compares them)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
SeqType = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_UNANNOUNCED = "status IN ('completed', 'failed') AND announced_at IS NULL"

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("role", sa.String(40), nullable=False),
    sa.Column("created_at", sa.Double(), nullable=False),
    sa.Column("disabled_at", sa.Double()),
    sa.Column("email", sa.String(200)),
    sa.Column("plan", sa.String(40), nullable=False, server_default="free"),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(24), primary_key=True),
    sa.Column("user_id", sa.String(40), sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("prefix", sa.String(40), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Double(), nullable=False),
    sa.Column("last_used_at", sa.Double()),
    sa.Column("expires_at", sa.Double()),
    sa.Column("revoked_at", sa.Double()),
)

videos = sa.Table(
    "videos",
    metadata,
    sa.Column("seq", SeqType, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("user_id", sa.String(40), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    # what was asked for
    sa.Column("model", sa.String(100), nullable=False),
    sa.Column("model_name", sa.String(100), nullable=False),
    sa.Column("prompt", sa.Text(), nullable=False),
    sa.Column("negative_prompt", sa.Text(), nullable=False),
    sa.Column("seconds", sa.String(16), nullable=False),
    sa.Column("size", sa.String(16), nullable=False),
    sa.Column("recaption_mode", sa.String(8)),
    sa.Column("remixed_from_video_id", sa.String(40)),
    # the plan the worker runs
    sa.Column("width", sa.Integer(), nullable=False),
    sa.Column("height", sa.Integer(), nullable=False),
    sa.Column("num_frames", sa.Integer(), nullable=False),
    sa.Column("fps", sa.Integer(), nullable=False),
    sa.Column("seed", sa.BigInteger(), nullable=False),
    sa.Column("steps", sa.Integer(), nullable=False),
    sa.Column("guidance", sa.Double(), nullable=False),
    sa.Column("guidance_2", sa.Double()),
    # recaption
    sa.Column("revised_prompt", sa.Text()),
    sa.Column("recaption_status", sa.String(16)),
    sa.Column("recaption_reasons", sa.Text()),
    sa.Column("recaption_backend", sa.String(32)),
    sa.Column("recaption_detail", sa.Text()),
    # queue
    sa.Column("priority", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("progress", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("stage", sa.String(16)),
    sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("worker_id", sa.String(64)),
    sa.Column("lease_expires_at", sa.Double()),
    sa.Column("heartbeat_at", sa.Double()),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("max_attempts", sa.Integer(), nullable=False),
    sa.Column("error_code", sa.String(40)),
    sa.Column("error_message", sa.Text()),
    # times
    sa.Column("created_at", sa.Double(), nullable=False),
    sa.Column("started_at", sa.Double()),
    sa.Column("completed_at", sa.Double()),
    sa.Column("expires_at", sa.Double()),
    sa.Column("deleted_at", sa.Double()),
    sa.Column("files_deleted_at", sa.Double()),
    # outputs
    sa.Column("video_key", sa.String(200)),
    sa.Column("thumbnail_key", sa.String(200)),
    sa.Column("spritesheet_key", sa.String(200)),
    sa.Column("run_seconds", sa.Double()),
    sa.Column("recaption_seconds", sa.Double()),
    sa.Column("denoise_seconds", sa.Double()),
    sa.Column("decode_seconds", sa.Double()),
    sa.Column("encode_seconds", sa.Double()),
    sa.Column("store_seconds", sa.Double()),
    # safe retries
    sa.Column("idempotency_key", sa.String(200)),
    sa.Column("request_hash", sa.String(64)),
    # access: the owner's role when the job was made, and what it implied
    sa.Column("role", sa.String(40)),
    sa.Column("confidential", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("fair_rank", sa.Integer(), nullable=False, server_default="1"),
    sa.Column("max_running", sa.Integer(), nullable=False, server_default="1"),
    sa.Column("retention_seconds", sa.Double()),
    # safety: the invisible mark's id, moderation verdicts (JSON), and whether any was flagged
    sa.Column("watermark_id", sa.BigInteger()),
    sa.Column("moderation", sa.Text()),
    sa.Column("flagged", sa.Boolean(), nullable=False, server_default=sa.false()),
    # conditioned and long clips: the mode, what it starts from, how it is cut into windows
    sa.Column("mode", sa.String(8)),  # None: text
    sa.Column("input_key", sa.String(200)),  # an uploaded image or video, in the storage
    sa.Column("source_video_id", sa.String(40)),  # the OpenReel video extended or edited
    sa.Column("source_frames", sa.Integer()),
    sa.Column("strength", sa.Double()),
    sa.Column("window_frames", sa.Integer()),
    sa.Column("overlap_frames", sa.Integer()),
    sa.Column("windows", sa.Integer(), nullable=False, server_default="1"),
    sa.Column("window", sa.Integer()),  # the one being made, from 1
    sa.Column("windows_done", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("windows_resumed", sa.Integer()),  # kept by an earlier attempt, not made again
    # a job put back after a storage fault is not claimed before this time (back-off)
    sa.Column("not_before", sa.Double()),
    sa.Column("announced_at", sa.Double()),  # its outcome went to the webhook outbox
    sa.Index("ix_videos_user_seq", "user_id", "seq"),
    # Partial indexes: a status change rewrites the row, and only the indexes whose condition
    # the new row meets get an entry, so the queue's hot updates stay cheap.
    sa.Index(
        "uq_videos_user_idempotency",
        "user_id",
        "idempotency_key",
        unique=True,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
        sqlite_where=sa.text("idempotency_key IS NOT NULL"),
    ),
    sa.Index(
        "ix_videos_leases",
        "lease_expires_at",
        postgresql_where=sa.text("status = 'in_progress'"),
        sqlite_where=sa.text("status = 'in_progress'"),
    ),
    sa.Index(
        "ix_videos_expiring",
        "expires_at",
        postgresql_where=sa.text("status = 'completed' AND files_deleted_at IS NULL"),
        sqlite_where=sa.text("status = 'completed' AND files_deleted_at IS NULL"),
    ),
    sa.Index(
        "ix_videos_deleted_with_files",
        "deleted_at",
        postgresql_where=sa.text("deleted_at IS NOT NULL AND files_deleted_at IS NULL"),
        sqlite_where=sa.text("deleted_at IS NOT NULL AND files_deleted_at IS NULL"),
    ),
    sa.Index("ix_videos_user_created", "user_id", "created_at"),
    sa.Index(
        "ix_videos_user_running",
        "user_id",
        postgresql_where=sa.text("status = 'in_progress'"),
        sqlite_where=sa.text("status = 'in_progress'"),
    ),
    # Claims read the queued rows only, in claim order: highest priority, then the users
    # with fewer jobs (fair share), then oldest.
    sa.Index(
        "ix_videos_queued",
        sa.desc("priority"),
        "fair_rank",
        "seq",
        postgresql_where=sa.text("status = 'queued'"),
        sqlite_where=sa.text("status = 'queued'"),
    ),
    # Finished videos whose outcome no webhook event holds yet: the outbox reads only these.
    sa.Index(
        "ix_videos_unannounced",
        "seq",
        postgresql_where=sa.text(_UNANNOUNCED),
        sqlite_where=sa.text(_UNANNOUNCED),
    ),
    # A user's best queued job, in the same order: the claim's way past users at their limit.
    sa.Index(
        "ix_videos_user_queued",
        "user_id",
        sa.desc("priority"),
        "fair_rank",
        "seq",
        postgresql_where=sa.text("status = 'queued'"),
        sqlite_where=sa.text("status = 'queued'"),
    ),
)

# The finished windows of a long clip, kept while it is made: a job whose worker dies
# resumes at the next window. Removed when the job ends.
video_windows = sa.Table(
    "video_windows",
    metadata,
    sa.Column("video_id", sa.String(40), primary_key=True),
    sa.Column("index", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("segment_key", sa.String(200), nullable=False),
    sa.Column("tail_key", sa.String(200), nullable=False),
    sa.Column("frames", sa.Integer(), nullable=False),
    sa.Column("attempt", sa.Integer(), nullable=False),
    sa.Column("worker_id", sa.String(64), nullable=False),
    sa.Column("made_at", sa.Double(), nullable=False),
)

workers = sa.Table(
    "workers",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("hostname", sa.String(200), nullable=False),
    sa.Column("pid", sa.Integer(), nullable=False),
    sa.Column("models", sa.Text(), nullable=False),
    sa.Column("started_at", sa.Double(), nullable=False),
    sa.Column("heartbeat_at", sa.Double(), nullable=False),
    sa.Column("stopped_at", sa.Double()),
    sa.Column("current_video_id", sa.String(40)),
)

access_requests = sa.Table(
    "access_requests",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("email", sa.String(200), nullable=False),
    sa.Column("wanted_role", sa.String(40), nullable=False),
    sa.Column("motivation", sa.Text(), nullable=False),
    sa.Column("client_address", sa.String(64)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", sa.Double(), nullable=False),
    sa.Column("decided_at", sa.Double()),
    sa.Column("decided_by", sa.String(40)),
    sa.Column("invitation_id", sa.String(40)),
    sa.Index("ix_access_requests_address_created", "client_address", "created_at"),
)

invitations = sa.Table(
    "invitations",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("prefix", sa.String(40), nullable=False),
    sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(40), nullable=False),
    sa.Column("plan", sa.String(40), nullable=False),
    sa.Column("email", sa.String(200)),
    sa.Column("created_at", sa.Double(), nullable=False),
    sa.Column("created_by", sa.String(40)),
    sa.Column("expires_at", sa.Double(), nullable=False),
    sa.Column("used_at", sa.Double()),
    sa.Column("used_by", sa.String(40)),
    sa.Column("access_request_id", sa.String(40)),
)

# Append-only: triggers in the migration refuse UPDATE and DELETE.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", SeqType, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Double(), nullable=False),
    sa.Column("action", sa.String(60), nullable=False),
    sa.Column("actor_id", sa.String(40)),
    sa.Column("actor_name", sa.String(100)),
    sa.Column("actor_role", sa.String(40)),
    sa.Column("target_type", sa.String(40)),
    sa.Column("target_id", sa.String(60)),
    sa.Column("client_address", sa.String(64)),
    sa.Column("details", sa.Text()),
    sa.Index("ix_audit_log_action_at", "action", "at"),
    sa.Index("ix_audit_log_actor_at", "actor_id", "at"),
    sa.Index("ix_audit_log_target", "target_type", "target_id"),
)

# Every clip the service or the CLI made: how verify traces a clip back to its job.
outputs = sa.Table(
    "outputs",
    metadata,
    sa.Column("seq", SeqType, primary_key=True, autoincrement=True),
    sa.Column("mark_id", sa.BigInteger(), nullable=False),
    sa.Column("key_id", sa.String(16), nullable=False),
    sa.Column("origin", sa.String(8), nullable=False),  # api or cli
    sa.Column("job_id", sa.String(40), nullable=False),
    sa.Column("user_id", sa.String(40)),
    sa.Column("model", sa.String(100), nullable=False),
    sa.Column("fingerprint", sa.Text(), nullable=False),
    sa.Column("created_at", sa.Double(), nullable=False),
    # an extension or edit: the job of the clip it was made from, or "upload" for a file
    # that did not come from OpenReel
    sa.Column("source_job_id", sa.String(40)),
    sa.Index("uq_outputs_key_mark", "key_id", "mark_id", unique=True),
    sa.Index("ix_outputs_job", "job_id"),
)

reports = sa.Table(
    "reports",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("video_id", sa.String(40), nullable=False),
    sa.Column("reporter_id", sa.String(40), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("category", sa.String(20), nullable=False),
    sa.Column("severity", sa.String(10), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("created_at", sa.Double(), nullable=False),
    sa.Index("ix_reports_reporter_created", "reporter_id", "created_at"),
    sa.Index("ix_reports_video", "video_id"),
)

# Webhooks. An endpoint receives the events of its owner's videos, or of everyone's
# (scope "all", for operators). Its secret is kept as it is: signing needs it.
webhook_endpoints = sa.Table(
    "webhook_endpoints",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("user_id", sa.String(40), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("scope", sa.String(8), nullable=False),  # own or all
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("url", sa.Text(), nullable=False),
    sa.Column("event_types", sa.Text(), nullable=False),  # JSON list
    sa.Column("secret", sa.String(100), nullable=False),
    sa.Column("previous_secret", sa.String(100)),  # still signed with, until:
    sa.Column("previous_secret_until", sa.Double()),
    sa.Column("created_at", sa.Double(), nullable=False),
    sa.Column("updated_at", sa.Double(), nullable=False),
    sa.Column("deleted_at", sa.Double()),
    sa.Index("ix_webhook_endpoints_user_created", "user_id", "created_at"),
)

# One per video outcome; its payload is kept as sent, so every attempt sends the same bytes.
webhook_events = sa.Table(
    "webhook_events",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("video_id", sa.String(40), nullable=False),
    sa.Column("user_id", sa.String(40), nullable=False),
    sa.Column("payload", sa.Text(), nullable=False),
    sa.Column("created_at", sa.Double(), nullable=False),
    sa.Index("ix_webhook_events_video", "video_id"),
)

# An event for one endpoint: pending until delivered (a 2xx) or given up (failed).
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("seq", SeqType, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("endpoint_id", sa.String(40), nullable=False),
    sa.Column("event_id", sa.String(40), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),  # pending, delivered, failed
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.Double()),
    sa.Column("lease_expires_at", sa.Double()),
    sa.Column("last_status_code", sa.Integer()),
    sa.Column("last_error", sa.Text()),
    sa.Column("created_at", sa.Double(), nullable=False),
    sa.Column("finished_at", sa.Double()),
    sa.Column("test", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Index("ix_webhook_deliveries_endpoint_seq", "endpoint_id", "seq"),
    sa.Index(
        "ix_webhook_deliveries_due",
        "next_attempt_at",
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    ),
)

# Every attempt of a delivery and the receiver's answer: the endpoint's delivery log.
webhook_attempts = sa.Table(
    "webhook_attempts",
    metadata,
    sa.Column("delivery_id", sa.String(40), primary_key=True),
    sa.Column("number", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("at", sa.Double(), nullable=False),
    sa.Column("status_code", sa.Integer()),
    sa.Column("error", sa.Text()),
    sa.Column("response", sa.Text()),  # the answer's first bytes
    sa.Column("duration_ms", sa.Integer(), nullable=False),
)
