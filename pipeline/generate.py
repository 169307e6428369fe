"""Generation: one window of a plan -> frames, with progress per step, cancel between steps,
shape checks. A window is rendered by the pipeline of its mode (text, image, extend, edit),
made from the loaded one with `from_pipe`, so every mode shares one set of weights."""

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
from pipeline.windows import Window

Stage = Literal["denoise", "decode", "encode"]


@dataclass(frozen=True)
class ProgressEvent:
    """`step` of `total` done in `stage`. Denoising reports every step; decode and encode
    report their start (0 of 1) and end (1 of 1)."""

    stage: Stage
    step: int
    total: int
    window: int = 1
    """Which window of the clip (1-based) this is about."""
    windows: int = 1


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
        self._pipes: dict[str, Any] = {type(pipe).__name__: pipe}

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

    def pipe_for(self, mode: str) -> Any:
        """The pipeline that runs `mode` on this model's loaded components."""
        import diffusers

        class_name = self.family.mode_pipeline(mode)  # type: ignore[arg-type]
        if class_name is None:
            raise ValueError(f"{self.family.title} has no pipeline for {mode}")
        if class_name not in self._pipes:
            pipe_class = getattr(diffusers, class_name)
            extra: dict[str, Any] = {}
            if class_name == "WanImageToVideoPipeline":
                # Weights whose transformer reads only the video latents (Wan 2.2 TI2V) take
                # the image as the first latent frame; others (Wan 2.1 I2V) as extra channels.
                transformer = self.pipe.transformer
                extra["expand_timesteps"] = (
                    transformer.config.in_channels == self.pipe.vae.config.z_dim
                )
            if class_name == "LTXConditionPipeline" and self.pipe.scheduler.config.get(
                "use_dynamic_shifting"
            ):
                # It passes its own (linear-quadratic) schedule, which a dynamically shifting
                # scheduler refuses without a shift; 0.9.5+ weights ship one without.
                scheduler = self.pipe.scheduler
                extra["scheduler"] = type(scheduler).from_config(
                    scheduler.config, use_dynamic_shifting=False
                )
            pipe = pipe_class.from_pipe(self.pipe, **extra)
            pipe.set_progress_bar_config(disable=True)
            self._pipes[class_name] = pipe
        return self._pipes[class_name]

    def generate(
        self,
        plan: GenerationPlan,
        *,
        window: Window | None = None,
        condition: np.ndarray | None = None,
        on_progress: ProgressCallback | None = None,
        should_cancel: CancelCheck | None = None,
    ) -> GeneratedVideo:
        """Render one window of `plan` (the first when none is given) into frames: all the
        frames its call makes, the condition's repeats included.

        `condition` is what the window is conditioned on, as (frames, height, width, 3) uint8:
        the first frame (image), the last frames of the clip so far (extend), the source
        frames to transform (edit). `should_cancel` is asked before generation and after
        every denoising step; when it returns True, GenerationCancelled is raised and the
        model stays ready for the next call.
        """
        if plan.model != self.name:
            raise ValueError(f"plan is for model {plan.model!r}, this is {self.name!r}")
        window = window or plan.windows[0]
        if window.kind != "text" and condition is None:
            raise ValueError(f"a {window.kind} window needs a condition")
        report = on_progress or (lambda event: None)
        pipe = self.pipe_for(window.kind)
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

            # 1. Arguments of this family's pipeline call; each window its own noise
            kwargs = self._call_kwargs(plan, window, condition)
            seed = (plan.seed + window.index) % 2**63
            generator = torch.Generator(device="cpu").manual_seed(seed)

            # 2. Denoise and decode
            try:
                with torch.inference_mode():
                    video = pipe(
                        **kwargs,
                        generator=generator,
                        output_type="pt",
                        callback_on_step_end=on_step_end,
                    ).frames
            except BaseException:
                # Reset stateful cache hooks and offload hooks that an aborted call left behind.
                pipe.maybe_free_model_hooks()
                raise
            finished = time.perf_counter()
            timings["denoise"] = (denoised_at[0] if denoised_at else finished) - started
            timings["decode"] = finished - (denoised_at[0] if denoised_at else finished)

            if self.family.call_style == "skyreels_df" and window.kind == "extend":
                video = video[:, len(condition) :]  # it returns the frames it was given first
            # 3. Check the shape the pipeline returned: several pipelines round silently
            expected = (1, window.render, 3, plan.height, plan.width)
            if tuple(video.shape) != expected:
                raise OutputMismatchError(
                    f"{type(pipe).__name__} returned frames of shape {tuple(video.shape)}, "
                    f"expected {expected} (batch, frames, channels, height, width)"
                )

            # 4. To uint8 RGB on the device, so only a quarter of the bytes travel
            frames = video[0].mul(255).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)
            frames = frames.contiguous().cpu().numpy()
            report(ProgressEvent("decode", 1, 1))
            return GeneratedVideo(frames=frames, plan=plan, timings=timings)

    def _call_kwargs(
        self, plan: GenerationPlan, window: Window, condition: np.ndarray | None
    ) -> dict[str, Any]:
        family = self.family
        kwargs: dict[str, Any] = {
            "prompt": plan.prompt,
            "negative_prompt": plan.negative_prompt,
            "height": plan.height,
            "width": plan.width,
            "num_frames": window.render,
            "num_inference_steps": plan.steps,
            "guidance_scale": plan.guidance,
            # The text budget recaption fits prompts to is exactly what the encoder reads.
            "max_sequence_length": self.config.text_max_tokens,
        }
        if family.call_style == "wan" and family.experts == 2:
            kwargs["guidance_scale_2"] = plan.guidance_2
        elif family.call_style == "ltx":
            kwargs["frame_rate"] = plan.fps  # conditions the rotary embeddings on time
        elif family.call_style == "skyreels_df":
            # One diffusion-forcing pass per window: a call never splits itself further.
            kwargs["base_num_frames"] = self.config.window_frames or family.max_frames
            kwargs["fps"] = plan.fps
        kwargs.update(self.config.call_kwargs)
        if condition is not None:
            kwargs.update(_condition_kwargs(family.call_style, window, condition, plan))
        if window.kind == "edit":
            del kwargs["num_frames"]  # video to video makes as many frames as it is given
        return kwargs


def _images(frames: np.ndarray) -> list:
    from PIL import Image

    return [Image.fromarray(frame) for frame in frames]


def _condition_kwargs(
    call_style: str, window: Window, condition: np.ndarray, plan: GenerationPlan
) -> dict[str, Any]:
    """How each family's pipelines take a window's condition."""
    if window.kind == "edit":
        # Video to video reads as many frames as it makes: the source chunk, its last frame
        # repeated up to the window's legal frame count.
        frames = condition
        if len(frames) < window.render:
            pad = np.repeat(frames[-1:], window.render - len(frames), axis=0)
            frames = np.concatenate([frames, pad])
        return {"video": _images(frames), "strength": plan.strength}
    if call_style == "skyreels_df" and window.kind == "extend":
        # The video-to-video pipeline continues the frames it is given, as many as overlap.
        return {"video": _images(condition), "overlap_history": len(condition)}
    if call_style == "ltx":
        from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

        images = _images(condition)
        item = (
            LTXVideoCondition(image=images[0], frame_index=0)
            if len(images) == 1
            else LTXVideoCondition(video=images, frame_index=0)
        )
        return {"conditions": [item]}
    # Wan, CogVideoX and SkyReels image to video: the window's first frame
    return {"image": _images(condition[-1:])[0]}
