"""Running one claimed job with the real pipeline: recaption, render, store.

Progress runs 0-100 across the stages: recaption 0-5, denoising 5-90 (per step), decode
90-95, encode 95-98, store 98-100. The runner reports; the worker decides how often to
write it down.
"""

from __future__ import annotations

import gc
import json
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.engine import Row

from pipeline.request import GenerationPlan
from service.recaptioning import build_recaptioner, recaption_target
from service.settings import Settings
from service.storage import Storage

logger = logging.getLogger(__name__)

Report = Callable[..., None]
"""report(progress, stage, **columns): progress 0-100, the stage, columns to write now."""

OUTPUTS = {
    "video": ("video.mp4", "video/mp4"),
    "thumbnail": ("thumbnail.webp", "image/webp"),
    "spritesheet": ("spritesheet.jpg", "image/jpeg"),
}


class JobFailed(Exception):
    """The job cannot succeed; `code` goes to the Video object's error."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class JobRunner(Protocol):
    def prepare(self, models: list[str]) -> None:
        """Load what the worker needs before it takes its first job."""
        ...

    def run(self, job: Row, report: Report, should_cancel: Callable[[], bool]) -> dict[str, Any]:
        """Do the job; return the columns to store with its completion."""
        ...


def output_key(video_id: str, variant: str) -> str:
    return f"videos/{video_id}/{OUTPUTS[variant][0]}"


def plan_of(job: Row, *, family: str, prompt: str) -> GenerationPlan:
    """The plan stored with the job at creation, with the prompt the model will get."""
    return GenerationPlan(
        model=job.model_name,
        family=family,
        prompt=prompt,
        negative_prompt=job.negative_prompt,
        width=job.width,
        height=job.height,
        num_frames=job.num_frames,
        fps=job.fps,
        seed=job.seed,
        steps=job.steps,
        guidance=job.guidance,
        guidance_2=job.guidance_2,
        requested_seconds=float(job.seconds),
    )


class PipelineRunner:
    """Renders jobs with diffusers models, keeping one model loaded at a time."""

    def __init__(self, settings: Settings, storage: Storage) -> None:
        self.settings = settings
        self.storage = storage
        self.recaptioner = build_recaptioner(settings)
        self._loaded: dict[str, Any] = {}

    def prepare(self, models: list[str]) -> None:
        self._model(models[0])

    def _model(self, name: str):
        if name not in self._loaded:
            from pipeline.loading import load_model

            self._unload()
            _, config = self.settings.resolve_model(name)
            logger.info("loading model %s", name)
            self._loaded[name] = load_model(name, config, cache_dir=self.settings.cache_dir)
        return self._loaded[name]

    def _unload(self) -> None:
        if not self._loaded:
            return
        self._loaded.clear()
        gc.collect()
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def run(self, job: Row, report: Report, should_cancel: Callable[[], bool]) -> dict[str, Any]:
        from pipeline.render import render_video

        started = time.perf_counter()

        # 1. The model (already loaded, unless this job wants another one)
        model = self._model(job.model_name)

        # 2. Recaption, fitted to this model's text encoder
        report(1, "recaption")
        recaption_started = time.perf_counter()
        recaptioned = self.recaptioner.recaption(
            job.prompt,
            recaption_target(model.config, model.tokenizer),
            seed=job.seed,
            mode=job.recaption_mode,
        )
        if recaptioned.status == "blocked":
            raise JobFailed(
                "moderation_blocked", "Your request was blocked by our moderation system."
            )
        recaption_seconds = time.perf_counter() - recaption_started
        report(
            5,
            "denoise",
            revised_prompt=recaptioned.prompt,
            recaption_status=recaptioned.status,
            recaption_reasons=json.dumps(list(recaptioned.reasons)),
            recaption_backend=recaptioned.backend,
        )

        # 3. Render into a scratch folder
        plan = plan_of(job, family=model.config.family, prompt=recaptioned.prompt)

        def on_progress(event) -> None:
            fraction = event.step / event.total
            start, width = {"denoise": (5, 85), "decode": (90, 5), "encode": (95, 3)}[event.stage]
            report(int(start + width * fraction), event.stage)

        with tempfile.TemporaryDirectory(prefix="openreel-job-") as scratch:
            files = {variant: Path(scratch) / name for variant, (name, _) in OUTPUTS.items()}
            rendered = render_video(
                model,
                plan,
                files["video"],
                thumbnail_path=files["thumbnail"],
                spritesheet_path=files["spritesheet"],
                encode=self.settings.encode,
                on_progress=on_progress,
                should_cancel=should_cancel,
            )

            # 4. Store: all three files or none
            report(98, "store")
            store_started = time.perf_counter()
            stored: list[str] = []
            try:
                for variant, path in files.items():
                    key = output_key(job.id, variant)
                    self.storage.put_file(key, path, OUTPUTS[variant][1])
                    stored.append(key)
            except BaseException:
                for key in stored:
                    self.storage.delete(key)
                raise
        store_seconds = time.perf_counter() - store_started

        return {
            "video_key": output_key(job.id, "video"),
            "thumbnail_key": output_key(job.id, "thumbnail"),
            "spritesheet_key": output_key(job.id, "spritesheet"),
            "run_seconds": time.perf_counter() - started,
            "recaption_seconds": recaption_seconds,
            "denoise_seconds": rendered.timings.get("denoise"),
            "decode_seconds": rendered.timings.get("decode"),
            "encode_seconds": rendered.timings.get("encode"),
            "store_seconds": store_seconds,
        }
