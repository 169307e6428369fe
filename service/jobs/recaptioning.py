"""Glue between `recaption` and `pipeline`: a rewrite is fitted to the text encoder of the
model that will render it, with that model's own tokenizer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline.config import ModelConfig
from recaption import Recaptioner, RecaptionTarget
from recaption.styled import CaptionStyle
from service.core.settings import Settings

if TYPE_CHECKING:
    from service.moderation.terms import TermLists


def build_recaptioner(settings: Settings, *, terms: TermLists | None = None) -> Recaptioner:
    """The recaptioner, screening rewrites with the moderation term lists (`terms`: those a
    moderator already compiled; else compiled here): a rewrite that adds a category the
    prompt did not have is retried or replaced by the rules rewrite before moderation would
    have to block the job for it."""
    screen = None
    if settings.moderation.enabled:
        from service.moderation.terms import TermLists

        lists = terms or TermLists(settings.moderation.categories)

        def screen(text: str) -> list[str]:
            return [match.category for match in lists.match(text)]

    return Recaptioner(settings.recaption, cache_dir=settings.cache_dir, screen=screen)


def recaption_target(config: ModelConfig, tokenizer: Any) -> RecaptionTarget:
    def count_tokens(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=True))

    style = config.caption_style
    return RecaptionTarget(
        family=config.family,
        token_budget=config.text_max_tokens,
        count_tokens=count_tokens,
        tokenizer_id=f"{config.source}@{config.revision or 'default'}",
        caption_style=None if style is None else CaptionStyle.from_options(style),
    )
