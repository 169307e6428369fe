"""The open text-to-video model families OpenReel runs, and the rules each one imposes.

A family is what a diffusers pipeline class expects of its inputs: the frame rate it was
trained at, which frame counts and sizes it can render, how many frames one call may make,
and the settings its model card recommends. Several diffusers pipelines round frame counts
and sizes silently; OpenReel checks requests against these rules first and never rounds.

Sources: the diffusers pipeline code (0.42) and the model cards named in each entry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

CallStyle = Literal["wan", "ltx", "cogvideox", "hunyuanvideo", "skyreels_df"]

Mode = Literal["text", "image", "extend", "edit"]
"""What a call is conditioned on: text only; an image as the first frame; the last frames of
a video to continue (long video and extension); a video to transform (edits)."""
MODES: tuple[Mode, ...] = ("text", "image", "extend", "edit")


@dataclass(frozen=True)
class ModelFamily:
    """What one family of video models accepts and recommends."""

    name: str
    title: str
    pipeline_class: str
    """The diffusers pipeline class that renders this family from text."""
    call_style: CallStyle
    """Which keyword arguments the pipeline's `__call__` takes (see `pipeline.generate`)."""
    fps: int
    """The frame rate the model was trained at; clips are encoded at exactly this rate."""
    frame_step: int
    """Legal frame counts are `frame_step * k + 1` for k >= 1 (the VAE's temporal compression)."""
    max_frames: int
    """The most frames one pipeline call makes well (the trained clip length)."""
    size_multiple: int
    """Height and width must be multiples of this (VAE spatial compression x patch size)."""
    sizes: tuple[str, ...]
    """Sizes the model card recommends, as WIDTHxHEIGHT; the first is the default."""
    steps: int
    guidance: float
    guidance_2: float | None
    """Guidance of the low-noise expert of two-expert models (Wan 2.2 A14B); None otherwise."""
    flow_shift: float | None
    """Flow-matching scheduler shift the model card recommends; None where the scheduler has none."""
    text_encoder: str
    text_max_tokens: int
    """Token budget of the text encoder: longer prompts are cut by the pipeline."""
    experts: int = 1
    modes: tuple[tuple[Mode, str], ...] = ()
    """Every mode the family's pipelines can run, with the diffusers class that runs it;
    `text` is `pipeline_class`. `extend` through an image pipeline conditions each window on
    the last frame of the one before."""
    overlap_frames: int = 1
    """Frames of the window before that condition the next one (its first frames, dropped
    from the output as they repeat what is there)."""
    overlap_fixed: bool = True
    """Windows chain through an image pipeline on exactly one frame; False where the
    extend pipeline takes several (a video condition), `frame_step`k+1 of them."""
    default_modes: tuple[Mode, ...] = ("text",)
    """The modes a model of this family serves unless its config says otherwise: what the
    family's usual weights were trained for."""

    def mode_pipeline(self, mode: Mode) -> str | None:
        """The diffusers class that runs `mode`, or None where the family has none."""
        if mode == "text" and self.pipeline_class:
            return self.pipeline_class
        return dict(self.modes).get(mode)

    @property
    def supported_modes(self) -> tuple[Mode, ...]:
        return tuple(mode for mode in MODES if self.mode_pipeline(mode) is not None)

    @property
    def min_frames(self) -> int:
        return self.frame_step + 1

    @property
    def max_seconds(self) -> float:
        """The longest clip one call can make, in seconds."""
        return self.max_frames / self.fps

    def frame_counts(self) -> list[int]:
        """Every legal frame count up to the per-call maximum, ascending."""
        return list(range(self.min_frames, self.max_frames + 1, self.frame_step))

    def snap_frames(self, target: int) -> int:
        """The smallest legal frame count >= target (it may exceed `max_frames`)."""
        if target <= self.min_frames:
            return self.min_frames
        k = -(-(target - 1) // self.frame_step)  # ceil((target - 1) / step)
        return self.frame_step * k + 1

    def frames_for_seconds(self, seconds: float) -> int:
        """round(seconds x fps), then the smallest legal frame count >= that."""
        return self.snap_frames(math.floor(seconds * self.fps + 0.5))

    def is_legal_frame_count(self, frames: int) -> bool:
        return frames >= self.min_frames and (frames - 1) % self.frame_step == 0

    def size_problem(self, width: int, height: int) -> str | None:
        """Why WIDTHxHEIGHT cannot be rendered by this family, or None when it can."""
        if width <= 0 or height <= 0:
            return "width and height must be positive"
        if width % self.size_multiple or height % self.size_multiple:
            return f"width and height must be multiples of {self.size_multiple} for {self.title}"
        return None


FAMILIES: dict[str, ModelFamily] = {
    family.name: family
    for family in (
        # Wan 2.1 (Wan-AI/Wan2.1-T2V-1.3B-Diffusers, -14B-Diffusers): 16 fps, 81 frames,
        # shift 3.0 at 480p and 5.0 at 720p, guidance 5.0, 50 steps.
        ModelFamily(
            name="wan2.1",
            title="Wan 2.1",
            pipeline_class="WanPipeline",
            call_style="wan",
            fps=16,
            frame_step=4,
            max_frames=81,
            size_multiple=16,
            sizes=("832x480", "480x832", "1280x720", "720x1280"),
            steps=50,
            guidance=5.0,
            guidance_2=None,
            flow_shift=3.0,
            text_encoder="umt5-xxl",
            text_max_tokens=512,
            # Image to video on weights that take a first frame (TI2V-style, the condition
            # in the first latent frame); video to video (SDEdit) on any Wan weights.
            modes=(
                ("image", "WanImageToVideoPipeline"),
                ("extend", "WanImageToVideoPipeline"),
                ("edit", "WanVideoToVideoPipeline"),
            ),
            default_modes=("text", "edit"),
        ),
        # Wan 2.1 I2V 14B (Wan-AI/Wan2.1-I2V-14B-480P-Diffusers, -720P-Diffusers): image to
        # video only, with a CLIP image encoder; 16 fps, 81 frames, guidance 5.0, shift 3.0
        # (480p) or 5.0 (720p), 40 steps on the model card's diffusers example.
        ModelFamily(
            name="wan2.1-i2v",
            title="Wan 2.1 I2V",
            pipeline_class="",
            call_style="wan",
            fps=16,
            frame_step=4,
            max_frames=81,
            size_multiple=16,
            sizes=("832x480", "480x832", "1280x720", "720x1280"),
            steps=40,
            guidance=5.0,
            guidance_2=None,
            flow_shift=3.0,
            text_encoder="umt5-xxl",
            text_max_tokens=512,
            modes=(
                ("image", "WanImageToVideoPipeline"),
                ("extend", "WanImageToVideoPipeline"),
                ("edit", "WanVideoToVideoPipeline"),
            ),
            default_modes=("image", "extend"),
        ),
        # Wan 2.2 T2V A14B (Wan-AI/Wan2.2-T2V-A14B-Diffusers): a high-noise and a low-noise
        # expert (transformer, transformer_2, boundary_ratio 0.875); 40 steps, guidance 4.0 / 3.0,
        # shift 12.0, 16 fps, 81 frames.
        ModelFamily(
            name="wan2.2-a14b",
            title="Wan 2.2 A14B",
            pipeline_class="WanPipeline",
            call_style="wan",
            fps=16,
            frame_step=4,
            max_frames=81,
            size_multiple=16,
            sizes=("1280x720", "720x1280", "832x480", "480x832"),
            steps=40,
            guidance=4.0,
            guidance_2=3.0,
            flow_shift=12.0,
            text_encoder="umt5-xxl",
            text_max_tokens=512,
            experts=2,
            modes=(("edit", "WanVideoToVideoPipeline"),),
            default_modes=("text",),
        ),
        # Wan 2.2 TI2V-5B (Wan-AI/Wan2.2-TI2V-5B-Diffusers): high-compression VAE (16x16x4),
        # 24 fps, 121 frames at 1280x704, 50 steps, guidance 5.0, shift 5.0.
        ModelFamily(
            name="wan2.2-ti2v-5b",
            title="Wan 2.2 TI2V-5B",
            pipeline_class="WanPipeline",
            call_style="wan",
            fps=24,
            frame_step=4,
            max_frames=121,
            size_multiple=32,
            sizes=("1280x704", "704x1280"),
            steps=50,
            guidance=5.0,
            guidance_2=None,
            flow_shift=5.0,
            text_encoder="umt5-xxl",
            text_max_tokens=512,
            # One set of weights for text and image to video (the image is the first latent
            # frame, `expand_timesteps`), so windows chain through the image pipeline.
            modes=(
                ("image", "WanImageToVideoPipeline"),
                ("extend", "WanImageToVideoPipeline"),
                ("edit", "WanVideoToVideoPipeline"),
            ),
            default_modes=("text", "image", "extend", "edit"),
        ),
        # LTX-Video 0.9.x (Lightricks/LTX-Video): 8k+1 frames up to 257, sizes multiples of 32,
        # 24 fps, guidance 3.0, 50 steps; its scheduler shifts dynamically (no fixed shift).
        ModelFamily(
            name="ltx-video",
            title="LTX-Video",
            pipeline_class="LTXPipeline",
            call_style="ltx",
            fps=24,
            frame_step=8,
            max_frames=257,
            size_multiple=32,
            sizes=("704x480", "480x704", "768x512", "512x768", "1216x704", "704x1216"),
            steps=50,
            guidance=3.0,
            guidance_2=None,
            flow_shift=None,
            text_encoder="t5-v1_1-xxl",
            text_max_tokens=128,
            overlap_frames=9,
            overlap_fixed=False,
            # LTXConditionPipeline takes image or video conditions at any frame: the first
            # frame, or the last frames of the window before.
            modes=(
                ("image", "LTXConditionPipeline"),
                ("extend", "LTXConditionPipeline"),
            ),
            default_modes=("text", "image", "extend"),
        ),
        # SkyReels-V2 diffusion forcing (Skywork/SkyReels-V2-DF-1.3B-540P-Diffusers, -14B-540P,
        # -14B-720P): Wan-architecture weights trained to denoise frames at different noise
        # levels, so each window continues the last frames of the one before (overlap_history
        # 17 or 37). 24 fps, 97 frames per call at 540P (121 at 720P), 30 steps, guidance
        # 6.0, shift 8.0.
        ModelFamily(
            name="skyreels-v2-df",
            title="SkyReels-V2 DF",
            pipeline_class="SkyReelsV2DiffusionForcingPipeline",
            call_style="skyreels_df",
            fps=24,
            frame_step=4,
            max_frames=97,
            size_multiple=16,
            sizes=("960x544", "544x960"),
            steps=30,
            guidance=6.0,
            guidance_2=None,
            flow_shift=8.0,
            text_encoder="umt5-xxl",
            text_max_tokens=512,
            overlap_frames=17,
            overlap_fixed=False,
            modes=(
                ("image", "SkyReelsV2DiffusionForcingImageToVideoPipeline"),
                ("extend", "SkyReelsV2DiffusionForcingVideoToVideoPipeline"),
            ),
            default_modes=("text", "image", "extend"),
        ),
        # CogVideoX-2b / 5b (THUDM/CogVideoX-5b): 49 frames at 8 fps, 720x480, 50 steps,
        # guidance 6.0 with dynamic CFG; the T5 encoder takes 226 tokens.
        ModelFamily(
            name="cogvideox",
            title="CogVideoX",
            pipeline_class="CogVideoXPipeline",
            call_style="cogvideox",
            fps=8,
            frame_step=8,
            max_frames=49,
            size_multiple=16,
            sizes=("720x480",),
            steps=50,
            guidance=6.0,
            guidance_2=None,
            flow_shift=None,
            text_encoder="t5-v1_1-xxl",
            text_max_tokens=226,
            # Image to video needs the I2V weights (THUDM/CogVideoX-5b-I2V); video to video
            # runs on the text-to-video weights.
            modes=(
                ("image", "CogVideoXImageToVideoPipeline"),
                ("extend", "CogVideoXImageToVideoPipeline"),
                ("edit", "CogVideoXVideoToVideoPipeline"),
            ),
            default_modes=("text", "edit"),
        ),
        # CogVideoX1.5-5B (THUDM/CogVideoX1.5-5B): 16k+1 frames (81 or 161) at 16 fps, 1360x768.
        ModelFamily(
            name="cogvideox1.5",
            title="CogVideoX 1.5",
            pipeline_class="CogVideoXPipeline",
            call_style="cogvideox",
            fps=16,
            frame_step=16,
            max_frames=161,
            size_multiple=16,
            sizes=("1360x768",),
            steps=50,
            guidance=6.0,
            guidance_2=None,
            flow_shift=None,
            text_encoder="t5-v1_1-xxl",
            text_max_tokens=224,
        ),
        # HunyuanVideo (hunyuanvideo-community/HunyuanVideo): 129 frames at 24 fps, 720p or
        # 544p, guidance-distilled (embedded guidance 6.0), shift 7.0, 50 steps.
        ModelFamily(
            name="hunyuanvideo",
            title="HunyuanVideo",
            pipeline_class="HunyuanVideoPipeline",
            call_style="hunyuanvideo",
            fps=24,
            frame_step=4,
            max_frames=129,
            size_multiple=16,
            sizes=("1280x720", "720x1280", "960x544", "544x960", "848x480", "480x848"),
            steps=50,
            guidance=6.0,
            guidance_2=None,
            flow_shift=7.0,
            text_encoder="llava-llama-3-8b",
            text_max_tokens=256,
        ),
    )
}


def get_family(name: str) -> ModelFamily:
    """The family called `name`; ValueError naming the known families otherwise."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(
            f"unknown model family {name!r}; known families: {', '.join(FAMILIES)}"
        ) from None


def parse_size(size: str) -> tuple[int, int]:
    """'WIDTHxHEIGHT' -> (width, height); ValueError for anything else."""
    width, sep, height = size.strip().lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        raise ValueError(f"size must look like WIDTHxHEIGHT (for example 832x480), got {size!r}")
    return int(width), int(height)
