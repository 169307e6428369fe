"""What a recaption returns, what it targets, and the reason codes it reports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Literal

from recaption.styled import CaptionStyle

Status = Literal["rewritten", "skipped", "off", "fallback", "blocked"]

# Reason codes. Failures make a rewrite unusable; notes describe a repair that was made.
EMPTY = "empty"
REFUSED = "refused"
WRONG_LANGUAGE = "wrong_language"
GIBBERISH = "gibberish"
REPETITION = "repetition"
TOO_SHORT = "too_short"
TOO_LONG = "too_long"
DROPPED_QUOTE = "dropped_quote"
DROPPED_NUMBER = "dropped_number"
DROPPED_CONTENT = "dropped_content"
ADDED_SUBJECT = "added_subject"
ADDED_SENSITIVE_TERM = "added_sensitive_term"
ADDED_NAME = "added_name"  # a capitalised name the prompt did not have (a person, a brand)
UNKNOWN_WORDS = "unknown_words"  # a styled caption left words of the prompt out
IGNORED_WORDS = "ignored_words"  # ... and words it knows but could not use (a second colour)
DEFAULTED_SLOTS = "defaulted_slots"  # a styled caption filled a slot the prompt did not name
BACKEND_ERROR = "backend_error"  # the backend could not be set up (model not found ...)
BACKEND_TIMEOUT = "backend_timeout"
BACKEND_UNAVAILABLE = "backend_unavailable"  # connection refused, 429 or 5xx after retries
BACKEND_REJECTED = "backend_rejected"  # another 4xx: a bad key, model name or request
MALFORMED_RESPONSE = "malformed_response"
# notes
STRIPPED_PREAMBLE = "stripped_preamble"
STRIPPED_THINKING = "stripped_thinking"
STRIPPED_FORMATTING = "stripped_formatting"
TRIMMED_TO_BUDGET = "trimmed_to_budget"
OVER_TOKEN_BUDGET = "over_token_budget"
RETRIED = "retried"


@dataclass(frozen=True)
class RecaptionTarget:
    """The video model a rewrite is for: its family and its text encoder's budget."""

    family: str
    token_budget: int | None = None
    """Tokens the text encoder reads; longer prompts are cut by the pipeline. None: unknown."""
    count_tokens: Callable[[str], int] | None = field(default=None, compare=False)
    """Counts tokens with the target model's own tokenizer; None: estimate from words."""
    tokenizer_id: str = ""
    """Names the tokenizer in cache keys (a different tokenizer counts differently)."""
    caption_style: CaptionStyle | None = field(default=None, compare=False)
    """The model's own caption form, when it was trained on one: the rules backend fills
    its template instead of adding detail (see recaption.styled)."""

    def tokens(self, text: str) -> int:
        if self.count_tokens is not None:
            return self.count_tokens(text)
        from recaption.templates import TOKENS_PER_WORD

        return round(len(text.split()) * TOKENS_PER_WORD) + 1


@dataclass(frozen=True)
class RecaptionResult:
    original: str
    prompt: str | None
    """What to render: the rewrite, or the original; None when blocked (render nothing)."""
    status: Status
    reasons: tuple[str, ...] = ()
    backend: str = "rules"
    """The backend that produced `prompt` (`rules` after a fallback)."""
    model: str | None = None
    template_version: str | None = None
    tokens: int | None = None
    """Token count of `prompt` under the target text encoder."""
    cached: bool = False
    detail: str | None = None
    """A sentence on a backend failure, for logs and operators."""

    def to_dict(self) -> dict:
        data = asdict(self)
        data["reasons"] = list(self.reasons)
        return data
