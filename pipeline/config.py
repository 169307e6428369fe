"""Configuration models of the `pipeline` package: one video model, and the encoder.

These are plain pydantic models with a default for every field, so a YAML file may set only
what it changes. Validation checks a model config against its family's rules; anything that
depends on the machine (an accelerator, a compiler) is checked when the model is loaded.
This module does not import torch, so configs can be checked in a fraction of a second.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipeline.families import Mode, ModelFamily, get_family, parse_size

BUILTIN_PREFIX = "builtin:"

# Pipeline arguments that OpenReel sets from the request plan; `call_kwargs` may not touch them.
MANAGED_CALL_KWARGS = frozenset(
    {
        "prompt",
        "negative_prompt",
        "height",
        "width",
        "num_frames",
        "frame_rate",
        "num_inference_steps",
        "guidance_scale",
        "guidance_scale_2",
        "generator",
        "latents",
        "output_type",
        "return_dict",
        "callback_on_step_end",
        "callback_on_step_end_tensor_inputs",
        "num_videos_per_prompt",
        "max_sequence_length",
        "image",
        "last_image",
        "video",
        "conditions",
        "strength",
    }
)


class _Strict(BaseModel):
    # A misspelt option must be an error, not a silently ignored key.
    model_config = ConfigDict(extra="forbid")


class CacheOptions(_Strict):
    """A diffusers cache hook on the denoiser (`transformer.enable_cache`)."""

    type: Literal["first_block", "pyramid_attention_broadcast", "faster", "mag", "taylorseer"]
    params: dict[str, Any] = Field(default_factory=dict)
    """Keyword arguments of the diffusers config class (e.g. `threshold: 0.05` for first_block)."""


class MemoryOptions(_Strict):
    cpu_offload: Literal["none", "model", "sequential"] = "none"
    """Move whole models (`model`) or every layer (`sequential`) to the accelerator only while
    they run. Needs an accelerator."""
    group_offload: Literal["none", "block_level", "leaf_level"] = "none"
    """Keep groups of layers on the CPU and stream them to the device; cheaper than
    sequential offload. Cannot be combined with `cpu_offload`."""
    group_offload_blocks: int = Field(default=1, ge=1)
    """Blocks per group for `block_level` group offload."""
    group_offload_use_stream: bool = False
    """Overlap transfers with compute on a CUDA stream (`leaf_level` or `block_level`)."""
    vae_tiling: bool = False
    """Decode the video in spatial tiles: much less memory at high resolution."""
    vae_slicing: bool = False
    """Decode batch items one at a time."""

    @model_validator(mode="after")
    def _one_offload_method(self) -> MemoryOptions:
        if self.cpu_offload != "none" and self.group_offload != "none":
            raise ValueError("cpu_offload and group_offload cannot be combined; choose one")
        return self


class SpeedOptions(_Strict):
    cache: CacheOptions | None = None
    """A cache hook that skips redundant transformer work between steps; None disables it."""
    compile_repeated_blocks: bool = False
    """torch.compile the transformer's repeated blocks (regional compilation): fast warm-up,
    most of the speed of compiling the whole model."""
    compile_fullgraph: bool = True


class CaptionStyleOptions(_Strict):
    """The one caption form a model was trained on (the toy-shapes model): recaption fills
    this template from the prompt instead of adding detail."""

    template: str
    """With a {slot} for each vocabulary entry, e.g. "a {colour} {shape} {motion}"."""
    vocabulary: dict[str, dict[str, list[str]]]
    """slot -> the value written into the caption -> other words and phrases for it."""
    defaults: dict[str, str] = Field(default_factory=dict)
    """slot -> value when a prompt names none (reported as defaulted)."""
    subject: str | None = None
    """The slot naming what a prompt is about (toy-shapes: shape)."""
    of_subject: list[str] = Field(default_factory=list)
    """Slots whose word describes the subject (toy-shapes: colour): of several named, the
    one nearest before the subject wins, and the others are reported."""
    setting: str | None = None
    """The slot of the scene (toy-shapes: background): an of_subject word followed by
    "background" (or after "on") is asked of it, and reported when it cannot take it."""

    @model_validator(mode="after")
    def _slots_match(self) -> CaptionStyleOptions:
        import string

        slots = {name for _, name, _, _ in string.Formatter().parse(self.template) if name}
        if slots != set(self.vocabulary):
            raise ValueError(
                f"caption_style: the template's slots {sorted(slots)} and the vocabulary's "
                f"{sorted(self.vocabulary)} differ"
            )
        named = [self.subject, self.setting, *self.of_subject]
        for slot in (name for name in named if name is not None):
            if slot not in self.vocabulary:
                raise ValueError(f"caption_style: {slot!r} is not a slot of the vocabulary")
        for slot, value in self.defaults.items():
            if value not in self.vocabulary.get(slot, {}):
                raise ValueError(
                    f"caption_style.defaults.{slot}: {value!r} is not in its vocabulary"
                )
        return self


class ModelConfig(_Strict):
    """One video model: where its weights are, how to load them, and its request defaults.

    Fields left unset take the family's recommendation when the config is validated.
    """

    family: str
    """A key of `pipeline.families.FAMILIES` (wan2.1, wan2.1-i2v, wan2.2-a14b, wan2.2-ti2v-5b,
    skyreels-v2-df, ltx-video, cogvideox, cogvideox1.5, hunyuanvideo)."""
    source: str
    """A Hugging Face hub id (org/name), a local diffusers directory, or `builtin:NAME` for
    the offline tiny models."""
    revision: str | None = None
    """Hub branch, tag or commit; pin a commit in production."""
    variant: str | None = None
    """Weights variant on the hub (e.g. fp16), if the repository has one."""
    dtype: Literal["float32", "bfloat16", "float16"] = "bfloat16"
    component_dtypes: dict[str, Literal["float32", "bfloat16", "float16"]] = Field(
        default_factory=dict
    )
    """Per-component dtype where it differs from `dtype` (e.g. Wan's VAE in float32)."""
    device: str = "auto"
    """`auto` (the accelerator if there is one, else the CPU), `cpu`, `cuda`, `cuda:N` or `mps`."""
    sizes: list[str] | None = None
    """Sizes a request may ask for, as WIDTHxHEIGHT; default: the family's recommended sizes."""
    default_size: str | None = None
    """Size when a request names none; default: the first of `sizes`."""
    default_seconds: float = Field(default=4.0, gt=0)
    steps: int | None = Field(default=None, ge=1)
    """Default denoising steps; default: the family's."""
    max_steps: int = Field(default=100, ge=1)
    guidance: float | None = Field(default=None, ge=0)
    guidance_2: float | None = Field(default=None, ge=0)
    """Guidance of the low-noise expert (two-expert families only)."""
    flow_shift: float | None = Field(default=None, gt=0)
    """Scheduler shift; default: the family's (None keeps the scheduler's own)."""
    negative_prompt: str = ""
    """Negative prompt used when a request gives none."""
    text_max_tokens: int | None = Field(default=None, ge=1)
    """Tokens the text encoder reads (longer prompts are cut); default: the family's.
    Recaption fits its rewrites to this budget."""
    call_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Extra keyword arguments passed as they are to the pipeline call (e.g. LTX 0.9.1+
    `decode_timestep: 0.05`, CogVideoX `use_dynamic_cfg: true`)."""
    memory: MemoryOptions = Field(default_factory=MemoryOptions)
    speed: SpeedOptions = Field(default_factory=SpeedOptions)
    license: str | None = None
    """The weights' licence (e.g. Apache-2.0), as the model card states it. Written into every
    clip's Content Credentials."""
    training_data: str | None = None
    """What the model was trained on, as far as its makers say (the training-source control).
    Written into every clip's Content Credentials."""
    experimental: bool = False
    """A model without `license` and `training_data` is refused unless marked experimental."""
    caption_style: CaptionStyleOptions | None = None
    """The caption form the model was trained on, if it has one (toy-shapes does)."""
    modes: list[Mode] | None = None
    """What these weights can do: text, image (first frame given), extend (continue a
    video: long clips and extensions), edit (video to video). Default: what the family's
    usual weights do. A mode the family's pipelines lack is refused."""
    window_frames: int | None = Field(default=None, ge=2)
    """Frames one model call renders in a long clip (a legal frame count); default: the
    family's most per call."""
    overlap_frames: int | None = Field(default=None, ge=1)
    """Frames of each window that condition the next one (LTX-Video: 8k+1, SkyReels-V2 DF:
    4k+1); families that chain windows through an image pipeline take exactly 1. Default:
    the family's."""
    window_color_match: Literal["off", "histogram"] = "off"
    """Long clips and extensions: match the frames that condition each window to the colour
    histogram of the first window's (pipeline/colour_match.py), so that colour errors do
    not add up from window to window. For clips that keep their palette; toy-shapes has it
    on."""
    edit_strength: float = Field(default=0.7, gt=0, le=1)
    """How much of a source clip an edit or remix re-renders: 1 keeps nothing of it, low
    values keep its look as well as its composition."""

    @field_validator("family")
    @classmethod
    def _known_family(cls, name: str) -> str:
        get_family(name)
        return name

    @field_validator("source")
    @classmethod
    def _non_empty_source(cls, source: str) -> str:
        if not source.strip():
            raise ValueError("source must name a hub id, a local directory or builtin:NAME")
        return source.strip()

    @field_validator("call_kwargs")
    @classmethod
    def _unmanaged_call_kwargs(cls, kwargs: dict[str, Any]) -> dict[str, Any]:
        managed = sorted(MANAGED_CALL_KWARGS & kwargs.keys())
        if managed:
            raise ValueError(
                f"{', '.join(managed)} come from the request; remove them from call_kwargs"
            )
        return kwargs

    @model_validator(mode="after")
    def _fill_and_check_against_family(self) -> ModelConfig:
        family = self.family_spec
        if self.sizes is None:
            self.sizes = list(family.sizes)
        if not self.sizes:
            raise ValueError("sizes must list at least one size")
        canonical = []
        for size in self.sizes:
            width, height = parse_size(size)
            problem = family.size_problem(width, height)
            if problem:
                raise ValueError(f"size {size}: {problem}")
            canonical.append(f"{width}x{height}")
        self.sizes = canonical
        if self.default_size is None:
            self.default_size = self.sizes[0]
        width, height = parse_size(self.default_size)
        self.default_size = f"{width}x{height}"
        if self.default_size not in self.sizes:
            raise ValueError(f"default_size {self.default_size} is not one of sizes {self.sizes}")
        if family.frames_for_seconds(self.default_seconds) > family.max_frames:
            raise ValueError(
                f"default_seconds {self.default_seconds:g} is over {family.title}'s "
                f"{family.max_seconds:g} s per call"
            )
        if self.steps is None:
            self.steps = family.steps
        if self.steps > self.max_steps:
            raise ValueError(f"steps {self.steps} is over max_steps {self.max_steps}")
        if self.guidance is None:
            self.guidance = family.guidance
        if self.guidance_2 is None:
            self.guidance_2 = family.guidance_2
        elif family.experts < 2:
            raise ValueError(f"guidance_2 is for two-expert families; {family.title} has one")
        if self.flow_shift is None:
            self.flow_shift = family.flow_shift
        if self.text_max_tokens is None:
            self.text_max_tokens = family.text_max_tokens
        self._check_modes(family)
        return self

    def _check_modes(self, family: ModelFamily) -> None:
        if self.modes is None:
            self.modes = list(family.default_modes)
        if not self.modes:
            raise ValueError("modes must list at least one mode")
        missing = [mode for mode in self.modes if family.mode_pipeline(mode) is None]
        if missing:
            raise ValueError(
                f"modes {', '.join(missing)}: {family.title} has no pipeline for them; it can "
                f"do {', '.join(family.supported_modes)}"
            )
        self.modes = list(dict.fromkeys(self.modes))
        if self.window_frames is None:
            self.window_frames = family.max_frames
        if not family.is_legal_frame_count(self.window_frames) or (
            self.window_frames > family.max_frames
        ):
            raise ValueError(
                f"window_frames {self.window_frames} is not a frame count {family.title} makes "
                f"in one call ({family.frame_step}k+1, at most {family.max_frames})"
            )
        if self.overlap_frames is None:
            self.overlap_frames = family.overlap_frames
        if family.overlap_fixed and self.overlap_frames != 1:
            raise ValueError(
                f"overlap_frames {self.overlap_frames}: {family.title} chains windows through "
                "its image pipeline, on exactly 1 frame"
            )
        if not family.overlap_fixed and not family.is_legal_frame_count(self.overlap_frames):
            raise ValueError(
                f"overlap_frames {self.overlap_frames} must be {family.frame_step}k+1 for "
                f"{family.title}"
            )
        if self.overlap_frames >= self.window_frames:
            raise ValueError(
                f"overlap_frames {self.overlap_frames} leaves no new frames in windows of "
                f"{self.window_frames}"
            )

    def serves(self, mode: Mode) -> bool:
        return mode in (self.modes or ())

    def provenance_problem(self) -> str | None:
        """Why this model may not serve: licence or training data undeclared (and not
        experimental); None when it may."""
        if self.experimental or self.source.startswith("builtin:"):
            return None  # built-in models are random weights made in code: nothing to declare
        missing = [
            name for name in ("license", "training_data") if not (getattr(self, name) or "").strip()
        ]
        if missing:
            return (
                f"declare {' and '.join(missing)} (the training-source control), "
                "or mark the model experimental: true"
            )
        return None

    @property
    def family_spec(self) -> ModelFamily:
        return get_family(self.family)

    @property
    def builtin_name(self) -> str | None:
        """The built-in tiny model this config points at, if any."""
        if self.source.startswith(BUILTIN_PREFIX):
            return self.source[len(BUILTIN_PREFIX) :]
        return None


class EncodeOptions(_Strict):
    """How frames become an MP4, a thumbnail and a spritesheet."""

    crf: int = Field(default=20, ge=0, le=51)
    """x264 constant rate factor: lower is better quality and larger files (18-23 is typical)."""
    preset: Literal[
        "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower"
    ] = "veryfast"
    """x264 speed preset. `veryfast` encodes 832x480 at 5-9 ms per frame on one CPU thread;
    `medium` makes files 10-20 % smaller at about three times the time."""
    threads: int = Field(default=0, ge=0)
    """Encoder threads; 0 lets x264 choose."""
    mbtree: bool = False
    """x264's macroblock-tree rate control: smaller files at the same CRF, but its AVX-512
    code in current libx264 builds makes the bytes differ from run to run. Off keeps the
    same frames encoding to the same file on every machine."""
    thumbnail_width: int = Field(default=320, ge=16)
    """Width of the WebP thumbnail (height keeps the aspect ratio; never upscaled)."""
    spritesheet_columns: int = Field(default=5, ge=1, le=20)
    spritesheet_rows: int = Field(default=5, ge=1, le=20)
    spritesheet_tile_width: int = Field(default=160, ge=16)


class VisibleWatermarkOptions(_Strict):
    """The label drawn on every frame. It has no off switch: every output carries it."""

    text: str = Field(default="AI-generated · OpenReel", min_length=1, max_length=80)
    short_text: str = Field(default="AI", min_length=1, max_length=16)
    """What small frames get when `text` would not fit legibly (at least 8 px high, at most
    half the frame's width). Before it, the part of `text` before a " · " is tried."""
    logo: Path | None = None
    """An image (PNG with transparency is best) drawn left of the text, at the text's height."""
    position: Literal["moving", "top-left", "top-right", "bottom-right", "bottom-left"] = "moving"
    """`moving`: the label travels around the frame, touching the middle of each edge in turn
    (top, right, bottom, left) and resting there; on a clip shorter than four
    `move_seconds` it goes round faster, so every clip visits every edge and cropping any
    edge band of 10 % leaves it whole on most frames."""
    move_seconds: float = Field(default=2.0, gt=0)
    """Time from one edge to the next, at most (a quarter of the clip's length on short
    clips)."""
    opacity: float = Field(default=0.6, ge=0.3, le=1.0)
    """0.3 at the least, so that the label stays legible."""
    scale: float = Field(default=0.05, ge=0.02, le=0.2)
    """Text height as a share of the frame height (at least 8 px; shrunk to fit half the
    frame's width, or a shorter text used)."""
    margin: float = Field(default=0.03, ge=0, le=0.2)
    """Distance from the frame's edges, as a share of its shorter side."""

    @field_validator("text", "short_text")
    @classmethod
    def _visible_text(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("text must not be blank")
        return text

    @field_validator("logo")
    @classmethod
    def _readable_logo(cls, path: Path | None) -> Path | None:
        if path is None:
            return None
        path = path.expanduser()
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(path) as image:
                image.verify()
        except (OSError, UnidentifiedImageError) as exc:
            raise ValueError(f"cannot read logo {path}: {exc}") from None
        return path
