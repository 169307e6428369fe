"""A generation request, and its plan: the request checked against one model and resolved.

Planning is pure Python (no torch), so a CLI or an HTTP API can refuse bad input at once,
before any model is loaded, and a queued job can carry the exact plan a worker will run.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import asdict, dataclass

from pipeline.config import ModelConfig
from pipeline.errors import InvalidRequestError, TooLongForModel
from pipeline.families import Mode, get_family, parse_size
from pipeline.windows import Window, plan_windows

MAX_SEED = 2**63 - 1
GLOBAL_MAX_SECONDS = 60.0


@dataclass(frozen=True)
class GenerationRequest:
    """What a user asks for; every field but the prompt falls back to the model's defaults."""

    prompt: str
    negative_prompt: str | None = None
    seconds: float | None = None
    size: str | None = None
    seed: int | None = None
    steps: int | None = None
    guidance: float | None = None
    mode: Mode = "text"
    """text; image (an image is the first frame); extend (continue a source clip); edit
    (transform a source clip)."""
    source_frames: int = 0
    """Frames of the source clip at the model's frame rate (extend and edit)."""
    strength: float | None = None
    """How much of the source an edit re-renders; default: the model's `edit_strength`."""


@dataclass(frozen=True)
class GenerationPlan:
    """A request resolved against one model: exactly what the pipeline will be asked to do."""

    model: str
    family: str
    prompt: str
    negative_prompt: str
    width: int
    height: int
    num_frames: int
    fps: int
    seed: int
    steps: int
    guidance: float
    guidance_2: float | None
    requested_seconds: float
    mode: Mode = "text"
    source_frames: int = 0
    """Frames taken from the source clip: the start of an extension, the input of an edit."""
    window_frames: int | None = None
    """Frames per model call at most; None: the family's most."""
    overlap_frames: int = 1
    strength: float | None = None

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"

    @property
    def new_frames(self) -> int:
        """Frames the model makes that the clip keeps (an extension's source excluded)."""
        return self.num_frames - self.source_frames if self.mode == "extend" else self.num_frames

    @property
    def generated_seconds(self) -> float:
        """Seconds the model makes: what quotas and usage count."""
        return self.new_frames / self.fps

    @property
    def windows(self) -> tuple[Window, ...]:
        family = get_family(self.family)
        return plan_windows(
            family,
            mode=self.mode,
            new_frames=self.new_frames,
            window_frames=self.window_frames or family.max_frames,
            overlap=self.overlap_frames,
            source_frames=self.source_frames,
        )

    @property
    def duration(self) -> float:
        """Length of the clip in seconds: frames / fps."""
        return self.num_frames / self.fps

    def to_dict(self) -> dict:
        return asdict(self)


def plan_generation(
    request: GenerationRequest,
    *,
    model: str,
    config: ModelConfig,
    max_seconds: float = GLOBAL_MAX_SECONDS,
    max_prompt_chars: int = 4000,
) -> GenerationPlan:
    """Check `request` against `config` and the caps; InvalidRequestError names what is wrong."""
    family = config.family_spec

    # 1. Prompt
    if not isinstance(request.prompt, str) or not request.prompt.strip():
        raise InvalidRequestError("prompt must not be empty", param="prompt")
    prompt = request.prompt.strip()
    if len(prompt) > max_prompt_chars:
        raise InvalidRequestError(
            f"prompt is {len(prompt)} characters; the limit is {max_prompt_chars}", param="prompt"
        )
    negative_prompt = (
        config.negative_prompt if request.negative_prompt is None else request.negative_prompt
    )

    # 2. Duration -> frames
    if request.mode not in (config.modes or ()):
        raise InvalidRequestError(
            cannot_serve(model, config, request.mode), param=MODE_PARAMS[request.mode]
        )
    seconds = config.default_seconds if request.seconds is None else request.seconds
    if request.mode == "edit":
        seconds = request.source_frames / family.fps
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
        or not math.isfinite(seconds)
    ):
        raise InvalidRequestError(f"seconds must be a number, got {seconds!r}", param="seconds")
    if seconds <= 0:
        raise InvalidRequestError(
            f"seconds must be greater than 0, got {seconds:g}", param="seconds"
        )
    if seconds > max_seconds:
        raise InvalidRequestError(
            f"seconds {seconds:g} is over the {max_seconds:g} s cap", param="seconds"
        )
    num_frames = _frames(request, seconds, model, config, max_seconds)
    # 3. Size: one of the model's sizes, never rounded
    size = config.default_size if request.size is None else request.size
    try:
        width, height = parse_size(size)
    except (ValueError, AttributeError):
        raise InvalidRequestError(
            f"size must look like WIDTHxHEIGHT, got {size!r}; legal sizes for {model}: "
            f"{', '.join(config.sizes)}",
            param="size",
        ) from None
    if f"{width}x{height}" not in config.sizes:
        raise InvalidRequestError(
            f"size {width}x{height} is not available for {model} ({family.title}); "
            f"legal sizes: {', '.join(config.sizes)}",
            param="size",
        )

    # 4. Sampler settings
    steps = config.steps if request.steps is None else request.steps
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= config.max_steps:
        raise InvalidRequestError(
            f"steps must be an integer from 1 to {config.max_steps}, got {steps!r}", param="steps"
        )
    guidance = config.guidance if request.guidance is None else request.guidance
    if (
        isinstance(guidance, bool)
        or not isinstance(guidance, int | float)
        or not math.isfinite(guidance)
        or not 0 <= guidance <= 50
    ):
        raise InvalidRequestError(
            f"guidance must be a number from 0 to 50, got {guidance!r}", param="guidance"
        )

    # 5. Seed: random when not given, and always reported
    seed = secrets.randbelow(2**31) if request.seed is None else request.seed
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise InvalidRequestError(
            f"seed must be an integer from 0 to {MAX_SEED}, got {seed!r}", param="seed"
        )

    return GenerationPlan(
        model=model,
        family=family.name,
        prompt=prompt,
        negative_prompt=negative_prompt,
        width=width,
        height=height,
        num_frames=num_frames,
        fps=family.fps,
        seed=seed,
        steps=steps,
        guidance=float(guidance),
        guidance_2=config.guidance_2,
        requested_seconds=float(seconds),
        mode=request.mode,
        source_frames=request.source_frames if request.mode in ("extend", "edit") else 0,
        window_frames=config.window_frames,
        overlap_frames=config.overlap_frames or 1,
        strength=_strength(request, config, steps),
    )


_MODE_VERBS = {
    "text": "render from text alone (give input_reference)",
    "image": "start from an image",
    "extend": "continue a clip",
    "edit": "edit a clip",
}
MODE_PARAMS = {"text": "input_reference", "image": "input_reference", "extend": "video",
               "edit": "video"}  # fmt: skip
"""The request parameter that asks for each mode (an API names it in a refusal)."""


def cannot_serve(model: str, config: ModelConfig, mode: Mode) -> str:
    """Why `model` refuses a request in `mode`, naming what it does serve."""
    return (
        f"{model} ({config.family_spec.title}) cannot {_MODE_VERBS[mode]}; it serves "
        f"{', '.join(config.modes or ())}"
    )


def _frames(
    request: GenerationRequest,
    seconds: float,
    model: str,
    config: ModelConfig,
    max_seconds: float,
) -> int:
    """Frames of the clip. One call keeps the rule of short clips: the smallest legal frame
    count at or over seconds x fps. A clip made in windows has exactly round(seconds x fps)
    new frames."""
    family = config.family_spec
    window = config.window_frames or family.max_frames
    if request.mode == "edit":
        if request.source_frames < 1:
            raise InvalidRequestError("the source clip has no frames", param="video")
        return request.source_frames
    target = max(1, math.floor(seconds * family.fps + 0.5))
    if request.mode == "extend":
        whole = (request.source_frames + target) / family.fps
        if whole > max_seconds:
            raise InvalidRequestError(
                f"the source's {request.source_frames / family.fps:g} s and {seconds:g} s more "
                f"make {whole:g} s, over the {max_seconds:g} s cap",
                param="seconds",
            )
        return request.source_frames + target
    single = family.snap_frames(target)
    if single <= window:
        return single
    if not config.serves("extend"):
        raise TooLongForModel(
            f"seconds {seconds:g} needs {single} frames at {family.fps} fps; {model} "
            f"({family.title}) makes at most {window} frames ({window / family.fps:g} s) per "
            "clip and cannot continue a clip",
            model=model,
            max_seconds=window / family.fps,
        )
    return target


def _strength(request: GenerationRequest, config: ModelConfig, steps: int) -> float | None:
    if request.mode != "edit":
        return None
    strength = config.edit_strength if request.strength is None else request.strength
    if isinstance(strength, bool) or not isinstance(strength, int | float) or not 0 < strength <= 1:
        raise InvalidRequestError(
            f"strength must be a number over 0 and at most 1, got {strength!r}", param="strength"
        )
    if int(steps * strength) < 1:
        # An edit denoises the last steps x strength steps of the schedule.
        raise InvalidRequestError(
            f"strength {strength:g} of {steps} steps leaves no step to denoise; raise either",
            param="strength",
        )
    return float(strength)
