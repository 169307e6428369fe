"""Short toy prompts -> the caption style the toy model was trained on, by vocabulary: the
same job the rules recaptioner does for it ("red ball going right on black" -> "a red circle
moves to the right on a black background"). Words it does not know are reported, not
dropped silently; an attribute it cannot find is left to a default and reported too."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.toy import clips

DEFAULTS = {"shape": "circle", "motion": "still", "background": "black", "colour": "red"}


def _phrases() -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = {"colour": {}, "shape": {}, "motion": {}, "background": {}}
    for colour in clips.COLOURS:
        table["colour"][colour] = colour
    for shape, words in clips.SHAPE_WORDS.items():
        table["shape"].update({shape: shape, **{w: shape for w in words}})
    for motion, words in clips.MOTION_WORDS.items():
        table["motion"].update({clips.MOTION_PHRASES[motion]: motion, **{w: motion for w in words}})
        table["motion"][motion] = motion
    for background, words in clips.BACKGROUND_WORDS.items():
        table["background"].update({background: background, **{w: background for w in words}})
    table["background"]["grey"] = "gray"
    return table


PHRASES = _phrases()
FILLER = {"a", "an", "the", "on", "background", "moving", "moves", "is", "and", "bg"}


@dataclass
class ToyCaption:
    caption: str
    attributes: dict[str, str]
    unknown_words: list[str] = field(default_factory=list)
    defaulted: list[str] = field(default_factory=list)


def to_caption(prompt: str) -> ToyCaption:
    text = " " + re.sub(r"[^a-z ]+", " ", prompt.lower()) + " "
    text = re.sub(r"\s+", " ", text)
    found: dict[str, str] = {}
    for attribute, phrases in PHRASES.items():
        for phrase in sorted(phrases, key=len, reverse=True):  # longest phrase first
            if f" {phrase} " in text:
                found.setdefault(attribute, phrases[phrase])
                text = text.replace(f" {phrase} ", " ", 1)
    unknown = [word for word in text.split() if word not in FILLER]
    defaulted = [name for name in DEFAULTS if name not in found]
    attributes = {name: found.get(name, DEFAULTS[name]) for name in DEFAULTS}
    caption = clips.caption(
        attributes["colour"], attributes["shape"], attributes["motion"], attributes["background"]
    )
    return ToyCaption(caption, attributes, unknown, defaulted)
