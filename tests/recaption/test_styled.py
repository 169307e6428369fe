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
        caption_style=CaptionStyle.from_options(style),
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


def test_the_colour_named_with_the_subject_wins_and_the_other_is_reported():
    for prompt in ("a red kite over a green hill", "a green hill with a red ball"):
        result = rewrite(prompt)
        assert result.prompt.startswith("a red circle"), prompt
        assert "ignored_words" in result.reasons
        assert "green (a second colour)" in result.detail


def test_a_colour_the_background_cannot_take_is_reported_not_given_to_the_shape():
    result = rewrite("a blue ball on a green background")
    assert result.prompt == "a blue circle stays still on a black background"
    assert "the background cannot be green" in result.detail
    assert "black, white, gray" in result.detail
    result = rewrite("a red square on pink")
    assert "pink" in result.detail  # a word it does not know at all is still named


def test_unknown_words_are_named_once_each():
    result = rewrite("a cat on a sofa next to a cat")
    assert result.detail.startswith("does not know: cat, sofa, next, to")


def test_an_before_a_vowel():
    assert rewrite("orange box falling on white").prompt == (
        "an orange square moves down on a white background"
    )
    assert rewrite("a orange ball").prompt.startswith("an orange circle")
