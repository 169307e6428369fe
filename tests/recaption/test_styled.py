"""A model trained on one caption form gets that form: the toy-shapes preset's style."""

from __future__ import annotations

import random

from pipeline.toy import clips
from pipeline.toy.preset import toy_model_config
from recaption import Recaptioner, RecaptionTarget
from recaption.config import RecaptionConfig
from recaption.styled import CaptionStyle


def target() -> RecaptionTarget:
    style = toy_model_config().caption_style
    return RecaptionTarget(
        family="wan2.1",
        token_budget=16,
        caption_style=CaptionStyle(style.template, style.vocabulary, style.defaults),
    )


def rewrite(prompt: str):
    return Recaptioner(RecaptionConfig(mode="auto")).recaption(prompt, target())


def test_every_short_prompt_becomes_its_training_caption():
    rng = random.Random(1)
    for combo in clips.all_combinations():
        short = clips.short_prompt(*combo, rng)
        result = rewrite(short)
        assert result.prompt == clips.caption(*combo), short
        assert result.status == "rewritten" and result.reasons == ()


def test_the_caption_form_itself_is_kept():
    result = rewrite("a green triangle moving up on a white background")
    assert result.prompt == "a green triangle moves up on a white background"


def test_unknown_words_and_missing_slots_are_reported_not_dropped_silently():
    result = rewrite("red ball zooming right")
    assert result.prompt == "a red circle moves to the right on a black background"
    assert result.reasons == ("unknown_words", "defaulted_slots")
    assert "zooming" in result.detail and "background black" in result.detail
