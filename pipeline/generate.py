"""Generation: a plan -> frames, with progress per step, cancel between steps, shape checks."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch

from pipeline.config import ModelConfig
from pipeline.errors import GenerationCancelled, OutputMismatchError
from pipeline.families import ModelFamily
from pipeline.request import GenerationPlan, GenerationRequest, plan_generation

Stage = Literal["denoise", "decode", "encode"]


@dataclass(frozen=True)
class ProgressEvent:
    """`step` of `total` done in `stage`. Denoising reports every step; decode and encode
    report their start (0 of 1) and end (1 of 1)."""

    stage: Stage
    step: int
    total: int


ProgressCallback = Callable[[ProgressEvent], None]
CancelCheck = Callable[[], bool]


@dataclass
class GeneratedVideo:
    frames: np.ndarray
    """(num_frames, height, width, 3) uint8 RGB."""
    plan: GenerationPlan
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds spent per stage: denoise (text encoding included), decode."""


class VideoModel:
    """A loaded video model: set up once, then `generate` as many times as needed.

    Calls are serialised by a lock: a diffusers pipeline keeps per-call state.
    """

    def __init__(
        self,
        *,
        name: str,
        config: ModelConfig,
        pipe: Any,
        device: torch.device,
        source: str,
        weights_digest: str | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self.pipe = pipe
        self.device = device
        self.source = source
        self.weights_digest = weights_digest
        """`sha256:<hex>` over the weight files (`pipeline.weights`); None if unknown."""
        self._lock = threading.Lock()

    @property
    def family(self) -> ModelFamily:
        return self.config.family_spec

    @property
    def tokenizer(self) -> Any:
        """The text encoder's tokenizer (the first one, for two-encoder models)."""
        return self.pipe.tokenizer

    def plan(self, request: GenerationRequest, **limits: Any) -> GenerationPlan:
        """Check a request against this model; see `pipeline.request.plan_generation`."""
        return plan_generation(request, model=self.name, config=self.config, **limits)

    def generate(
        self,
        plan: GenerationPlan,
        *,
        on_progress: ProgressCallback | None = None,
        should_cancel: CancelCheck | None = None,
    ) -> GeneratedVideo:
        """Render `plan` into frames.

        `should_cancel` is asked before generation and after every denoising step; when it
        returns True, GenerationCancelled is raised and the model stays ready for the next call.
        """
        if plan.model != self.name:
            raise ValueError(f"plan is for model {plan.model!r}, this is {self.name!r}")
        report = on_progress or (lambda event: None)
        with self._lock:
            if should_cancel is not None and should_cancel():
                raise GenerationCancelled(0, plan.steps)
            timings: dict[str, float] = {}
            started = time.perf_counter()
            denoised_at: list[float] = []

            def on_step_end(pipe: Any, index: int, timestep: Any, tensors: dict) -> dict:
                step = index + 1
                report(ProgressEvent("denoise", step, plan.steps))
                if should_cancel is not None and should_cancel():
                    raise GenerationCancelled(step, plan.steps)
                if step == plan.steps:
                    # The VAE decode starts as soon as the last step returns.
                    denoised_at.append(time.perf_counter())
                    report(ProgressEvent("decode", 0, 1))
                return tensors

            # 1. Arguments of this family's pipeline call
            kwargs = self._call_kwargs(plan)
            generator = torch.Generator(device="cpu").manual_seed(plan.seed)

            # 2. Denoise and decode
            try:
                with torch.inference_mode():
                    video = self.pipe(
                        **kwargs,
                        generator=generator,
                        output_type="pt",
                        callback_on_step_end=on_step_end,
                    ).frames
            except BaseException:
                # Reset stateful cache hooks and offload hooks that an aborted call left behind.
                self.pipe.maybe_free_model_hooks()
                raise
            finished = time.perf_counter()
            timings["denoise"] = (denoised_at[0] if denoised_at else finished) - started
            timings["decode"] = finished - (denoised_at[0] if denoised_at else finished)

            # 3. Check the shape the pipeline returned: several pipelines round silently
            expected = (1, plan.num_frames, 3, plan.height, plan.width)
            if tuple(video.shape) != expected:
                raise OutputMismatchError(
                    f"{type(self.pipe).__name__} returned frames of shape {tuple(video.shape)}, "
                    f"expected {expected} (batch, frames, channels, height, width)"
                )

            # 4. To uint8 RGB on the device, so only a quarter of the bytes travel
            frames = video[0].mul(255).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)
            frames = frames.contiguous().cpu().numpy()
            report(ProgressEvent("decode", 1, 1))
            return GeneratedVideo(frames=frames, plan=plan, timings=timings)

    def _call_kwargs(self, plan: GenerationPlan) -> dict[str, Any]:
        family = self.family
        kwargs: dict[str, Any] = {
            "prompt": plan.prompt,
            "negative_prompt": plan.negative_prompt,
            "height": plan.height,
            "width": plan.width,
            "num_frames": plan.num_frames,
            "num_inference_steps": plan.steps,
            "guidance_scale": plan.guidance,
            # The text budget recaption fits prompts to is exactly what the encoder reads.
            "max_sequence_length": self.config.text_max_tokens,
        }
        if family.call_style == "wan" and family.experts == 2:
            kwargs["guidance_scale_2"] = plan.guidance_2
        elif family.call_style == "ltx":
            kwargs["frame_rate"] = plan.fps  # conditions the rotary embeddings on time
        kwargs.update(self.config.call_kwargs)
        return kwargs
