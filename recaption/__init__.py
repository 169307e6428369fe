"""Prompt rewriting ("recaption") for OpenReel: a short prompt becomes a detailed, checked
description for a text-to-video model. A library in its own right: it never imports
`service` (nor `pipeline`); the caller says which model the rewrite is for."""

from recaption.backends import BackendError, LLMBackend
from recaption.config import RecaptionConfig
from recaption.recaptioner import Recaptioner
from recaption.result import RecaptionResult, RecaptionTarget
from recaption.rules import rules_rewrite

__all__ = [
    "BackendError",
    "LLMBackend",
    "RecaptionConfig",
    "RecaptionResult",
    "RecaptionTarget",
    "Recaptioner",
    "rules_rewrite",
]
