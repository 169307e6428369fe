"""Video objects, as OpenAI's API shows them (with OpenReel's additions), from job rows."""

from __future__ import annotations

import json
import math

from fastapi.responses import JSONResponse
from sqlalchemy.engine import Row

from service.api.protocol import (
    ModerationLabel,
    Recaption,
    Video,
    VideoError,
    VideoList,
    Windows,
)
from service.domain.videos import Tracked
from service.jobs.status import COMPLETED, FAILED, IN_PROGRESS, TERMINAL
from service.moderation import flagged_categories


def video(tracked: Tracked) -> Video:
    job = tracked.job
    error = None
    if job.status == FAILED:
        error = VideoError(code=job.error_code or "internal_error", message=job.error_message or "")
    return Video(
        id=job.id,
        created_at=int(job.created_at),
        completed_at=_whole(job.completed_at) if job.status == COMPLETED else None,
        expires_at=_whole(job.expires_at),
        model=job.model,
        progress=job.progress if job.status != COMPLETED else 100,
        stage=job.stage if job.status == IN_PROGRESS else None,
        prompt=job.prompt,
        remixed_from_video_id=job.remixed_from_video_id,
        seconds=job.seconds,
        size=f"{job.width}x{job.height}",
        status=job.status,
        error=error,
        revised_prompt=job.revised_prompt,
        recaption=_recaption(job),
        seed=job.seed,
        steps=job.steps,
        queue_position=tracked.position,
        eta_seconds=tracked.eta_seconds,
        frames=job.num_frames,
        fps=job.fps,
        duration=job.num_frames / job.fps,
        moderation=_moderation_label(job),
        watermark_id=(
            f"{job.watermark_id:012x}"
            if job.watermark_id is not None and job.status == COMPLETED
            else None
        ),
        mode=job.mode or "text",
        source_video_id=job.source_video_id,
        windows=Windows(
            total=job.windows,
            done=job.windows if job.status == COMPLETED else job.windows_done,
            current=job.window if job.status == IN_PROGRESS else None,
            resumed=job.windows_resumed or 0,
        ),
    )


def video_list(page: list[Tracked], has_more: bool) -> VideoList:
    data = [video(tracked) for tracked in page]
    return VideoList(
        data=data,
        first_id=data[0].id if data else None,
        last_id=data[-1].id if data else None,
        has_more=has_more,
    )


def page(data: list[dict], has_more: bool) -> dict:
    """A page of a list in OpenAI's shape, for objects given as dicts."""
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }


def video_response(tracked: Tracked, *, poll_after_ms: int, status_code: int = 200) -> JSONResponse:
    """A Video object; an unfinished one says how often to poll (openai-poll-after-ms)."""
    body = video(tracked)
    headers = {}
    if body.status not in TERMINAL:
        headers["openai-poll-after-ms"] = str(poll_after_ms)
    return JSONResponse(body.model_dump(mode="json"), status_code=status_code, headers=headers)


_CAPTION_REASONS = {"unknown_words", "ignored_words", "defaulted_slots"}


def _recaption(job: Row) -> Recaption | None:
    if job.recaption_status is None:
        return None
    reasons = json.loads(job.recaption_reasons or "[]")
    # Only a caption form's account: a backend's failure detail is for operators (logs).
    shown = job.recaption_detail if _CAPTION_REASONS.intersection(reasons) else None
    return Recaption(status=job.recaption_status, reasons=reasons, detail=shown)


def _moderation_label(job: Row) -> ModerationLabel | None:
    if not job.flagged:
        return None
    verdicts = json.loads(job.moderation) if job.moderation else []
    return ModerationLabel(categories=flagged_categories(verdicts))


def _whole(value: float | None) -> int | None:
    return None if value is None else math.floor(value)
