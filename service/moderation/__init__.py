"""Moderation of prompts, rewrites and outputs: term lists over normalised text, optional
classifiers through transformers, an optional OpenAI-compatible moderations endpoint."""

from service.moderation.config import ModerationSettings
from service.moderation.moderator import (
    BLOCKED_MESSAGE,
    Finding,
    Moderator,
    Verdict,
    flagged_categories,
)

__all__ = [
    "BLOCKED_MESSAGE",
    "Finding",
    "ModerationSettings",
    "Moderator",
    "Verdict",
    "flagged_categories",
]
