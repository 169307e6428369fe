"""A job's status: the four OpenAI's Video object has. Spelled here once."""

from __future__ import annotations

QUEUED, IN_PROGRESS, COMPLETED, FAILED = "queued", "in_progress", "completed", "failed"
STATUSES = (QUEUED, IN_PROGRESS, COMPLETED, FAILED)
TERMINAL = (COMPLETED, FAILED)
COUNTED = (QUEUED, IN_PROGRESS, COMPLETED)
"""Statuses whose video-seconds count against quotas: failed jobs cost nothing."""
