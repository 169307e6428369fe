"""The toy-shapes model as a built-in preset: its shipped weights, request defaults, and the
caption style recaption maps short prompts into."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import CaptionStyleOptions, ModelConfig
from pipeline.toy import clips
from pipeline.toy.model import FRAMES, SIZE, TEXT_TOKENS

NAME = "toy-shapes"
WEIGHTS = Path(__file__).resolve().parent / "weights"
"""The shipped diffusers directory, made by `openreel toy train` (see WEIGHTS/TRAINING.md)."""


# Ways of saying a motion that are neither the caption's nor a short prompt's own words.
MOTION_VERBS = {
    "left": ("moving left", "moves left", "moving to the left", "leftward", "leftwards"),
    "right": ("moving right", "moves right", "moving to the right", "rightward", "rightwards"),
    "up": ("moving up", "moves up", "upward", "upwards"),
    "down": ("moving down", "moves down", "downward", "downwards"),
    "still": ("still", "standing still", "motionless", "static"),
}


def caption_style() -> CaptionStyleOptions:
    return CaptionStyleOptions(
        template="a {colour} {shape} {motion} on a {background} background",
        vocabulary={
            "colour": {colour: [] for colour in clips.COLOURS},
            "shape": {shape: list(words) for shape, words in clips.SHAPE_WORDS.items()},
            "motion": {
                clips.MOTION_PHRASES[motion]: [motion, *words, *MOTION_VERBS[motion]]
                for motion, words in clips.MOTION_WORDS.items()
            },
            "background": {
                background: [
                    *words,
                    f"{background} background",
                    *(["grey", "grey background"] if background == "gray" else []),
                ]
                for background, words in clips.BACKGROUND_WORDS.items()
            },
        },
        defaults={"motion": clips.MOTION_PHRASES["still"], "background": "black"},
        subject="shape",
        of_subject=["colour"],
        setting="background",
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
        # One transformer for every mode, as Wan 2.2 TI2V: an image, or the last frame of the
        # window before, is the first latent frame (train.py, stage 6). It was trained on
        # clips of FRAMES frames, so a longer clip is windows of FRAMES, each one continuing
        # the last frame of the one before.
        modes=["text", "image", "extend", "edit"],
        window_frames=FRAMES,
        # its windows start from decoded 32x32 frames, whose colour errors would add up
        window_color_match="histogram",
        text_max_tokens=TEXT_TOKENS,
        license="Apache-2.0 (trained by OpenReel on synthetic clips)",
        training_data="synthetic clips of coloured shapes made in code (pipeline/toy/clips.py)",
        caption_style=caption_style(),
    )
