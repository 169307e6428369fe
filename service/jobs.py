"""Running one claimed job with the real pipeline: recaption, moderate, render, mark, sign,
store, register.

Progress runs 0-100 across the stages: recaption 0-5, denoising 5-90 (per step), decode
90-95, check, marks, encode and signing 95-98, store 98-100. The runner reports; the worker
decides how often to write it down.
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

import numpy as np
from sqlalchemy.engine import Row

from pipeline.request import GenerationPlan
from service import audit
from service.moderation import BLOCKED_MESSAGE, Moderator, Verdict
from service.provenance import Provenance
from service.recaptioning import build_recaptioner, recaption_target
from service.runtime import Runtime

logger = logging.getLogger(__name__)

Report = Callable[..., None]
"""report(progress, stage, **columns): progress 0-100, the stage, columns to write now."""

OUTPUTS = {
    "video": ("video.mp4", "video/mp4"),
    "thumbnail": ("thumbnail.webp", "image/webp"),
    "spritesheet": ("spritesheet.jpg", "image/jpeg"),
}


class JobFailed(Exception):
    """The job cannot succeed; `code` goes to the Video object's error, `fields` are stored
    with the failure."""

    def __init__(self, code: str, message: str, fields: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}


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


def moderation_record(job: Row) -> list[dict[str, Any]]:
    """The verdicts stored with a job so far (the prompt's, from its creation)."""
    return json.loads(job.moderation) if getattr(job, "moderation", None) else []


class PipelineRunner:
    """Renders jobs with diffusers models, keeping one model loaded at a time."""

    def __init__(self, runtime: Runtime) -> None:
        self.settings = runtime.settings
        self.storage = runtime.storage
        self.engine = runtime.engine
        self.recaptioner = build_recaptioner(self.settings)
        self.moderator = Moderator(self.settings.moderation, cache_dir=self.settings.cache_dir)
        self.provenance = Provenance(self.settings)
        self._loaded: dict[str, Any] = {}

    def prepare(self, models: list[str]) -> None:
        self.provenance.identity()  # a broken certificate stops the worker before any job
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

    def _judge(self, job: Row, verdict: Verdict, record: list[dict[str, Any]]) -> str:
        """The outcome of `verdict` for this job's role, recorded and audited; a block
        fails the job with moderation_blocked."""
        role = self.settings.roles.get(job.role or "")
        outcome = self.moderator.outcome(verdict, role.moderation if role else "enforce")
        record.append({**verdict.to_dict(), "outcome": outcome})
        audit.record(
            self.engine,
            "moderation.verdict",
            audit.Actor(id=None, name="worker"),
            target_type="video",
            target_id=job.id,
            details={**verdict.to_dict(), "outcome": outcome, "owner": job.user_id},
        )
        if outcome == "blocked":
            raise JobFailed(
                "moderation_blocked",
                BLOCKED_MESSAGE,
                fields={"moderation": json.dumps(record), "flagged": bool(job.flagged)},
            )
        return outcome

    def run(self, job: Row, report: Report, should_cancel: Callable[[], bool]) -> dict[str, Any]:
        from pipeline.render import render_video

        started = time.perf_counter()
        record = moderation_record(job)
        flags: list[str] = sorted(
            {
                c
                for verdict in record
                if verdict["outcome"] == "flagged"
                for c in verdict["categories"]
            }
        )

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
            raise JobFailed("moderation_blocked", BLOCKED_MESSAGE)
        recaption_seconds = time.perf_counter() - recaption_started
        report(
            5,
            "denoise",
            revised_prompt=recaptioned.prompt,
            recaption_status=recaptioned.status,
            recaption_reasons=json.dumps(list(recaptioned.reasons)),
            recaption_backend=recaptioned.backend,
        )

        # 3. Moderate the rewrite: a recaptioner may add what the user did not write
        if recaptioned.prompt != job.prompt:
            verdict = self.moderator.check_text(recaptioned.prompt, "revised_prompt")
            if self._judge(job, verdict, record) == "flagged":
                flags = sorted({*flags, *verdict.categories})

        # 4. Render into a scratch folder: check the frames, mark them, encode, sign
        plan = plan_of(job, family=model.config.family, prompt=recaptioned.prompt)
        marks = self.provenance.clip_marks(
            self.engine,
            job_id=job.id,
            model_name=job.model_name,
            model=model,
            title=f"{job.id}.mp4",
            flags=flags,  # the same list: a flag found in the frames still reaches the manifest
        )

        def check_frames(frames: np.ndarray) -> None:
            if not self.moderator.checks_frames:
                return
            verdict = self.moderator.check_frames(frames)
            if self._judge(job, verdict, record) == "flagged":
                flags.extend(c for c in verdict.categories if c not in flags)

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
                check_frames=check_frames,
                watermarks=marks.watermarks,
                credentials=marks.credentials,
                fingerprint=True,
            )

            # 5. Store: all three files or none
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

        # 6. Register the clip, so that verify can trace it back here
        self.provenance.register(
            self.engine,
            marks,
            origin="api",
            job_id=job.id,
            user_id=job.user_id,
            model_name=job.model_name,
            fingerprint=rendered.fingerprint,
        )

        flagged = bool(flags) or bool(job.flagged)
        timings = rendered.timings
        return {
            "video_key": output_key(job.id, "video"),
            "thumbnail_key": output_key(job.id, "thumbnail"),
            "spritesheet_key": output_key(job.id, "spritesheet"),
            "run_seconds": time.perf_counter() - started,
            "recaption_seconds": recaption_seconds,
            "denoise_seconds": timings.get("denoise"),
            "decode_seconds": timings.get("decode"),
            # marks and signing are part of making the file
            "encode_seconds": sum(
                timings.get(stage, 0.0)
                for stage in (
                    "check",
                    "visible_mark",
                    "invisible_mark",
                    "rivagan_mark",
                    "encode",
                    "sign",
                )
            ),
            "store_seconds": store_seconds,
            "watermark_id": marks.mark_id,
            "moderation": json.dumps(record) if record else None,
            "flagged": flagged,
            # a flagged output is confidential, whatever the owner's role
            **({"confidential": True} if flagged else {}),
        }
