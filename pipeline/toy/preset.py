"""The toy-shapes model as a built-in preset: its shipped weights, request defaults, and the
caption style recaption maps short prompts into."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import CaptionStyleOptions, ModelConfig
from pipeline.toy import clips
from pipeline.toy.model import SIZE, TEXT_TOKENS

NAME = "toy-shapes"
WEIGHTS = Path(__file__).resolve().parent / "weights"
"""The shipped diffusers directory, made by `openreel toy train` (see WEIGHTS/TRAINING.md)."""


def caption_style() -> CaptionStyleOptions:
    return CaptionStyleOptions(
        template="a {colour} {shape} {motion} on a {background} background",
        vocabulary={
            "colour": {colour: [] for colour in clips.COLOURS},
            "shape": {shape: list(words) for shape, words in clips.SHAPE_WORDS.items()},
            "motion": {
                clips.MOTION_PHRASES[motion]: [motion, *words]
                for motion, words in clips.MOTION_WORDS.items()
            },
            "background": {
                background: [*words, *(["grey"] if background == "gray" else [])]
                for background, words in clips.BACKGROUND_WORDS.items()
            },
        },
        defaults={"motion": clips.MOTION_PHRASES["still"], "background": "black"},
    )


def toy_model_config() -> ModelConfig:
    return ModelConfig(
        family="wan2.1",
        source=f"builtin:{NAME}",
        dtype="float32",
        device="cpu",
        sizes=[f"{SIZE}x{SIZE}"],
        default_seconds=0.5,
        steps=20,
        max_steps=50,
        guidance=4.0,
        flow_shift=2.0,  # the shift it was trained with (train.py), not the family's 3.0
        text_max_tokens=TEXT_TOKENS,
        license="Apache-2.0 (trained by OpenReel on synthetic clips)",
        training_data="synthetic clips of coloured shapes made in code (pipeline/toy/clips.py)",
        caption_style=caption_style(),
    )
