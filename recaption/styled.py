"""Rewriting a short prompt into one model's own caption style: a template with slots, and a
vocabulary of the words (and phrases) that fill each slot.

A model trained on captions of one fixed form (the toy-shapes model: "a red circle moves to
the right on a black background") follows that form best. Its preset declares the template
and, per slot, each value with the words testers use for it; the rules rewriter fills the
template from the prompt. Words it does not know, and slots it had to fill with a default,
are reported (codes unknown_words and defaulted_slots), never dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CaptionStyle:
    template: str
    """e.g. "a {colour} {shape} {motion} on a {background} background"."""
    vocabulary: Mapping[str, Mapping[str, Sequence[str]]]
    """slot -> value -> words and phrases that mean it (the value itself always counts)."""
    defaults: Mapping[str, str] = field(default_factory=dict)
    """slot -> value used when the prompt names none."""
    filler: Sequence[str] = ("a", "an", "the", "on", "in", "is", "and", "with", "of")
    """Words that carry no slot and are not worth reporting."""


@dataclass(frozen=True)
class StyledCaption:
    text: str
    slots: dict[str, str]
    unknown_words: list[str]
    defaulted: list[str]


def _clean(text: str) -> str:
    return " " + re.sub(r"\s+", " ", re.sub(r"[^a-z0-9 ]+", " ", text.lower())).strip() + " "


def styled_rewrite(prompt: str, style: CaptionStyle) -> StyledCaption:
    text = _clean(prompt)
    slots: dict[str, str] = {}
    phrases = []
    for slot, values in style.vocabulary.items():
        for value, words in values.items():
            for phrase in {value, *words}:
                phrases.append((_clean(phrase), slot, value))
    # Longest phrases first: "to the right" before "right", "grey bg" before "bg".
    for phrase, slot, value in sorted(phrases, key=lambda p: -len(p[0])):
        if phrase in text and slot not in slots:
            slots[slot] = value
            text = text.replace(phrase, " ", 1)
    filler = set(style.filler)
    unknown = [word for word in text.split() if word not in filler]
    defaulted = [slot for slot in style.vocabulary if slot not in slots]
    for slot in defaulted:
        if slot in style.defaults:
            slots[slot] = style.defaults[slot]
        else:
            slots[slot] = next(iter(style.vocabulary[slot]))
    return StyledCaption(style.template.format(**slots), slots, unknown, defaulted)
