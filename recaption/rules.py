"""The `rules` rewriter: offline, deterministic for a prompt and a seed, and safe by
construction. It keeps the prompt word for word and appends sentences about the camera,
framing, lighting, motion and style, chosen from fixed phrase lists that name no subject,
person, animal, text or object; so it can never add one. Sentences that do not fit the
target text encoder's budget are left off."""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from recaption.text import normalize, words

FRAMING = ["Wide shot", "Medium shot", "Medium-wide shot", "Establishing shot"]
ANGLE = ["at eye level", "from a slightly low angle", "from a slightly high angle"]
CAMERA = [
    "the camera holds steady",
    "the camera slowly pushes in",
    "the camera pans gently from left to right",
    "the camera tracks smoothly with the motion",
    "the camera drifts slowly forward",
]
LIGHT_DAY = [
    "Soft natural light with gentle shadows.",
    "Warm, low-angle light with long, soft shadows.",
    "Even, diffused daylight.",
    "Cool, overcast light with muted contrast.",
    "Crisp, bright light with clear shadows.",
]
LIGHT_NIGHT = [
    "Low-key lighting with deep shadows and soft highlights.",
    "Dim, moody lighting with gentle contrast.",
]
MOTION = [
    "Smooth, natural motion.",
    "Subtle, continuous movement.",
    "Fluid, steady motion throughout.",
]
STILLNESS = ["Calm and almost still, with minimal movement."]
STYLE = [
    "Cinematic, realistic style with sharp focus, rich natural color and fine detail.",
    "Photorealistic, with natural color grading, shallow depth of field and crisp textures.",
    "Realistic film look with balanced exposure and clean, detailed textures.",
]

# A prompt that already speaks of one of these aspects keeps its own choice.
_CAMERA_WORDS = re.compile(
    r"\b(?:shot|camera|pan|pans|panning|tilt|zoom|zooms|tracking|dolly|aerial|drone|"
    r"close-?up|angle|pov|footage|lens)\b",
    re.I,
)
_LIGHT_WORDS = re.compile(
    r"\b(?:light|lights|lit|lighting|sunlight|moonlight|shadow|shadows|glow|glowing|neon|"
    r"backlit|silhouette|golden hour)\b",
    re.I,
)
_NIGHT_WORDS = re.compile(r"\b(?:night|dark|darkness|midnight|evening|dusk|moon|candle)\b", re.I)
_STILL_WORDS = re.compile(r"\b(?:still|static|motionless|frozen|stationary|calm)\b", re.I)
_STYLE_WORDS = re.compile(
    r"\b(?:style|cinematic|realistic|photorealistic|anime|cartoon|painting|watercolou?r|"
    r"illustration|3d|render|rendered|film|vintage|noir|pixel|sketch|claymation)\b",
    re.I,
)

PHRASES = [*FRAMING, *ANGLE, *CAMERA, *LIGHT_DAY, *LIGHT_NIGHT, *MOTION, *STILLNESS, *STYLE]
VOCABULARY = frozenset(word.lower() for phrase in PHRASES for word in words(phrase))
"""Every word the rules rewriter can add: tests check it names no subject."""


def rules_rewrite(prompt: str, *, seed: int, fits: Callable[[str], bool] | None = None) -> str:
    """`prompt` followed by neutral detail, the same for the same prompt and seed.

    `fits` tells whether a text fits the target (word and token budget); sentences that
    would not fit are left off. The prompt itself is always kept whole.
    """
    base = normalize(prompt)
    rng = random.Random(f"{seed}\x00{base}")
    lead = base[:1].upper() + base[1:]
    lead = lead if lead[-1:] in ".!?\"'\u201d" else lead + "."

    sentences = []
    if not _CAMERA_WORDS.search(base):
        sentences.append(f"{rng.choice(FRAMING)} {rng.choice(ANGLE)}; {rng.choice(CAMERA)}.")
    if not _LIGHT_WORDS.search(base):
        sentences.append(rng.choice(LIGHT_NIGHT if _NIGHT_WORDS.search(base) else LIGHT_DAY))
    sentences.append(rng.choice(STILLNESS if _STILL_WORDS.search(base) else MOTION))
    if not _STYLE_WORDS.search(base):
        sentences.append(rng.choice(STYLE))

    text = lead
    for sentence in sentences:
        candidate = f"{text} {sentence}"
        if fits is not None and not fits(candidate):
            break
        text = candidate
    return text
