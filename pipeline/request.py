"""A generation request, and its plan: the request checked against one model and resolved.

Planning is pure Python (no torch), so a CLI or an HTTP API can refuse bad input at once,
before any model is loaded, and a queued job can carry the exact plan a worker will run.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import asdict, dataclass

from pipeline.config import ModelConfig
from pipeline.errors import InvalidRequestError
from pipeline.families import parse_size

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

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"

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
    seconds = config.default_seconds if request.seconds is None else request.seconds
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
    num_frames = family.frames_for_seconds(seconds)
    if num_frames > family.max_frames:
        raise InvalidRequestError(
            f"seconds {seconds:g} needs {num_frames} frames at {family.fps} fps; "
            f"{family.title} makes at most {family.max_frames} frames "
            f"({family.max_seconds:g} s) per clip",
            param="seconds",
        )

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
    )
