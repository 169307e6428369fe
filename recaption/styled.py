"""Rewriting a short prompt into one model's own caption style: a template with slots, and a
vocabulary of the words (and phrases) that fill each slot.

A model trained on captions of one fixed form (the toy-shapes model: "a red circle moves to
the right on a black background") follows that form best. Its preset declares the template
and, per slot, each value with the words testers use for it; the rules rewriter fills the
template from the prompt. Words it does not know, words it had to leave out (a second
colour, a colour the background cannot be), and slots it had to fill with a default are
reported (codes unknown_words, ignored_words and defaulted_slots), never dropped silently.
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
    subject: str | None = None
    """The slot that names what the prompt is about (toy-shapes: shape)."""
    of_subject: Sequence[str] = ()
    """Slots whose word describes the subject (toy-shapes: colour). Of several, the one named
    nearest before the subject wins ("a red kite over a green hill" is red), or the first
    when the subject is not one the model knows."""
    setting: str | None = None
    """The slot of the scene around the subject (toy-shapes: background)."""
    setting_words: Sequence[str] = ("background", "backdrop", "bg", "backgrounds")
    """After an `of_subject` word, these (or "on" before it) make it the setting's: "on a
    green background" asks the background to be green, not the subject."""

    @classmethod
    def from_options(cls, options) -> CaptionStyle:
        """From a model config's caption_style (pipeline.config.CaptionStyleOptions)."""
        return cls(
            options.template,
            options.vocabulary,
            options.defaults,
            subject=options.subject,
            of_subject=tuple(options.of_subject),
            setting=options.setting,
        )


@dataclass(frozen=True)
class StyledCaption:
    text: str
    slots: dict[str, str]
    unknown_words: list[str]
    defaulted: list[str]
    ignored: list[str] = field(default_factory=list)
    """Words the caption could not use, each with why: "green (a second colour)"."""

    def summary(self) -> str | None:
        """One line on what was left out or assumed; None when the caption says it all."""
        parts = []
        if self.unknown_words:
            parts.append("does not know: " + ", ".join(dict.fromkeys(self.unknown_words)))
        if self.ignored:
            parts.append("left out: " + ", ".join(self.ignored))
        if self.defaulted:
            parts.append(
                "not named, so the default: "
                + ", ".join(f"{slot} {self.slots[slot]}" for slot in self.defaulted)
            )
        return "; ".join(parts) or None


@dataclass(frozen=True)
class _Match:
    start: int
    """Index of the match's first word in the prompt."""
    end: int
    slot: str
    value: str
    words: str


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9 ]+", " ", text.lower()).split()


def _find(words: list[str], style: CaptionStyle) -> list[_Match]:
    """Every non-overlapping phrase of the vocabulary in `words`, longest phrases first
    ("to the right" before "right", "grey bg" before "bg")."""
    phrases = sorted(
        {
            (tuple(_words(phrase)), slot, value)
            for slot, values in style.vocabulary.items()
            for value, synonyms in values.items()
            for phrase in (value, *synonyms)
        },
        key=lambda p: (-len(p[0]), p[1], p[2]),
    )
    taken = [False] * len(words)
    found = []
    for phrase, slot, value in phrases:
        size = len(phrase)
        for start in range(len(words) - size + 1):
            if tuple(words[start : start + size]) == phrase and not any(
                taken[start : start + size]
            ):
                taken[start : start + size] = [True] * size
                found.append(_Match(start, start + size, slot, value, " ".join(phrase)))
    return sorted(found, key=lambda m: m.start)


def _in_setting(match: _Match, words: list[str], style: CaptionStyle) -> bool:
    before = words[match.start - 1] if match.start else ""
    after = words[match.end] if match.end < len(words) else ""
    return after in style.setting_words or before == "on"


def _article(text: str) -> str:
    """ "a orange" is "an orange"."""
    return re.sub(r"\b([Aa]) (?=[aeiouAEIOU])", r"\1n ", text)


def styled_rewrite(prompt: str, style: CaptionStyle) -> StyledCaption:
    words = _words(prompt)
    matches = _find(words, style)
    used: set[int] = set()  # word indices that a match stands for, used or reported
    slots: dict[str, str] = {}
    ignored: list[str] = []
    setting_values = style.vocabulary.get(style.setting or "", {})

    # 1. The subject, and each other slot that does not describe it: the first one named
    chosen: dict[str, _Match] = {}
    for match in matches:
        if match.slot not in style.of_subject and match.slot not in chosen:
            chosen[match.slot] = match
    subject = chosen.get(style.subject or "")

    # 2. Words that describe the subject: those standing for the setting are the setting's
    #    (reported when it cannot take them); of the rest the nearest before the subject
    for slot in style.of_subject:
        candidates = []
        for match in (m for m in matches if m.slot == slot):
            if style.setting and _in_setting(match, words, style):
                if match.value not in setting_values:
                    ignored.append(
                        f"{match.words} (the {style.setting} cannot be {match.value}; it can "
                        f"be {', '.join(setting_values)})"
                    )
                used.update(range(match.start, match.end))
                if match.end < len(words) and words[match.end] in style.setting_words:
                    used.add(match.end)
                continue
            candidates.append(match)
        if not candidates:
            continue
        before = [m for m in candidates if subject is not None and m.start < subject.start]
        chosen[slot] = before[-1] if before else candidates[0]

    # 3. Other matches of a chosen slot that name another value are reported, not used
    for match in matches:
        pick = chosen.get(match.slot)
        if pick is None or match.start in used:
            continue
        used.update(range(match.start, match.end))
        if match is not pick and match.value != pick.value:
            ignored.append(f"{match.words} (a second {match.slot})")
    for slot, match in chosen.items():
        slots[slot] = match.value

    filler = set(style.filler)
    unknown = [w for i, w in enumerate(words) if i not in used and w not in filler]
    defaulted = [slot for slot in style.vocabulary if slot not in slots]
    for slot in defaulted:
        if slot in style.defaults:
            slots[slot] = style.defaults[slot]
        else:
            slots[slot] = next(iter(style.vocabulary[slot]))
    text = _article(style.template.format(**{slot: slots[slot] for slot in style.vocabulary}))
    return StyledCaption(text, slots, unknown, defaulted, ignored)
