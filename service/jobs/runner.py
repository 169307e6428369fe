"""What a worker runs a claimed job with: the job's row turned into an order for production,
on a model kept loaded between jobs, and production's result turned into the columns its
completion stores."""

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
from recaption import RecaptionResult
from service.core.runtime import Runtime
from service.domain.audit import Actor
from service.domain.policy import Policy
from service.jobs.inputs import JobInputs
from service.jobs.outputs import StoredOutputs
from service.jobs.production import MARKING_STAGES, Made, Order, Production, Progress
from service.jobs.windows import StoredWindows
from service.provenance.marks import ClipSource

logger = logging.getLogger(__name__)

Report = Callable[..., None]
"""report(progress, stage, **columns): progress 0-100, the stage, columns to write now."""

WORKER = Actor(id=None, name="worker")


class JobRunner(Protocol):
    def prepare(self, models: list[str]) -> None:
        """Load what the worker needs before it takes its first job."""
        ...

    def run(self, job: Row, report: Report, should_cancel: Callable[[], bool]) -> dict[str, Any]:
        """Do the job; return the columns to store with its completion."""
        ...


def plan_of(job: Row, *, family: str) -> GenerationPlan:
    """The plan stored with the job when it was accepted (the prompt as written)."""
    return GenerationPlan(
        model=job.model_name,
        family=family,
        prompt=job.prompt,
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
        mode=job.mode or "text",
        source_frames=job.source_frames or 0,
        window_frames=job.window_frames,
        overlap_frames=job.overlap_frames or 1,
        strength=job.strength,
    )


def resumed_recaption(job: Row) -> RecaptionResult | None:
    """The rewrite an earlier attempt rendered its kept windows from, if it kept any."""
    if not job.windows_done or job.revised_prompt is None:
        return None
    return RecaptionResult(
        original=job.prompt,
        prompt=job.revised_prompt,
        status=job.recaption_status or "rewritten",
        reasons=tuple(json.loads(job.recaption_reasons or "[]")),
        backend=job.recaption_backend or "rules",
        detail=job.recaption_detail,
    )


def order_of(job: Row, *, family: str, policy: Policy, source: ClipSource | None = None) -> Order:
    return Order(
        job_id=job.id,
        plan=plan_of(job, family=family),
        origin="api",
        title=f"{job.id}.mp4",
        recaption_mode=job.recaption_mode,
        moderation_mode=policy.moderation_mode(job.role),
        moderation=tuple(json.loads(job.moderation) if job.moderation else ()),
        flagged=bool(job.flagged),
        user_id=job.user_id,
        source=source,
        resumed=resumed_recaption(job),
        mark_id=job.watermark_id if job.windows_done else None,
    )


def progress_columns(progress: Progress, *, window: int | None = None) -> dict[str, Any]:
    """Columns a progress report writes besides the percentage and the stage; `window` is
    the one last written (a report with columns is written at once, so a window is written
    when it starts, not at every step)."""
    columns: dict[str, Any] = {}
    if progress.mark_id is not None:
        columns["watermark_id"] = progress.mark_id
    if progress.stage in ("denoise", "decode", "encode") and progress.window != window:
        columns["window"] = progress.window
    result = progress.recaption
    if result is None:
        return columns
    return {
        **columns,
        "revised_prompt": result.prompt,
        "recaption_status": result.status,
        "recaption_reasons": json.dumps(list(result.reasons)),
        "recaption_backend": result.backend,
        "recaption_detail": result.detail,
    }


def completion_columns(made: Made, *, job: Row, run_seconds: float) -> dict[str, Any]:
    timings = made.timings
    flagged = made.flagged or bool(job.flagged)
    return {
        **{f"{variant}_key": key for variant, key in made.files.items()},
        "run_seconds": run_seconds,
        "recaption_seconds": timings.get("recaption"),
        "denoise_seconds": timings.get("denoise"),
        "decode_seconds": timings.get("decode"),
        # marks and signing are part of making the file
        "encode_seconds": sum(timings.get(stage, 0.0) for stage in MARKING_STAGES),
        "store_seconds": timings.get("store"),
        "watermark_id": made.mark_id,
        "windows_resumed": sum(1 for window in made.windows if window.get("made") == "kept"),
        "moderation": json.dumps(made.moderation) if made.moderation else None,
        "flagged": flagged,
        # a flagged output is confidential, whatever the owner's role
        **({"confidential": True} if flagged else {}),
    }


class _Reporter:
    """Production's progress as the worker's report: the percentage and stage, throttled by
    the worker, and the columns that change (the rewrite, the mark id, the window)."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.window: int | None = None

    def __call__(self, progress: Progress) -> None:
        columns = progress_columns(progress, window=self.window)
        self.window = columns.get("window", self.window)
        self.report(progress.percent, progress.stage, **columns)


class PipelineRunner:
    """Renders jobs with diffusers models through production, one model loaded at a time."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.storage = runtime.storage
        self.policy = Policy(runtime.settings)
        self.production = Production(runtime.settings, lambda: runtime.engine, actor=WORKER)
        self.recaptioner = self.production.recaptioner
        self._loaded: dict[str, Any] = {}

    def prepare(self, models: list[str]) -> None:
        self.production.provenance.identity()  # a broken certificate stops the worker first
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
        started = time.perf_counter()
        model = self._model(job.model_name)
        with tempfile.TemporaryDirectory(prefix="openreel-inputs-") as scratch:
            inputs = JobInputs.fetch(self.runtime, job, Path(scratch), self.production.provenance)
            made = self.production.produce(
                order_of(job, family=model.config.family, policy=self.policy,
                         source=inputs.clip_source),
                model,
                StoredOutputs(self.storage, job.id),
                on_progress=_Reporter(report),
                should_cancel=should_cancel,
                image=inputs.image,
                source=inputs.source,
                windows=StoredWindows(
                    self.storage, self.runtime.queue, self.runtime.records,
                    video_id=job.id, worker_id=job.worker_id, scratch=Path(scratch),
                ),
            )  # fmt: skip
        # The kept windows stay until the completion is recorded (the janitor removes them
        # then): a worker that dies before that leaves them to the next attempt.
        return completion_columns(made, job=job, run_seconds=time.perf_counter() - started)
