"""What the Videos API does, apart from HTTP routing: checks, the queue, idempotency,
Video objects. Errors are raised as APIError with OpenAI's status, param and code."""

from __future__ import annotations

import hashlib
import json
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import Row

from pipeline.config import ModelConfig
from pipeline.errors import InvalidRequestError, UnknownModelError
from pipeline.families import parse_size
from pipeline.request import GenerationRequest, plan_generation
from service import audit
from service.access import Access
from service.accounts import User, find_user
from service.api.errors import APIError, validation_param
from service.api.protocol import (
    CreateVideoRequest,
    ModerationLabel,
    RemixRequest,
    Video,
    VideoError,
    VideoList,
)
from service.audit import Actor
from service.janitor import delete_outputs
from service.jobs import OUTPUTS
from service.moderation import BLOCKED_MESSAGE, Moderator
from service.queue import COMPLETED, FAILED, IN_PROGRESS, QUEUED, DuplicateIdempotencyKey, JobQueue
from service.settings import Settings
from service.storage import Storage
from service.usage import QuotaExceeded, check_quota, iso

BodyModel = TypeVar("BodyModel", bound=BaseModel)

# Sizes OpenAI clients ask for, by orientation: each maps to the model's own size of that shape.
OPENAI_SIZES = {
    "1280x720": "landscape",
    "1792x1024": "landscape",
    "1920x1080": "landscape",
    "720x1280": "portrait",
    "1024x1792": "portrait",
    "1080x1920": "portrait",
}


def parse_body(model: type[BodyModel], data: dict) -> BodyModel:
    """The body as `model`; a 400 naming the first bad or unknown parameter."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _bad_body(exc) from None


def _bad_body(exc: ValidationError) -> APIError:
    first = exc.errors()[0]
    param = validation_param(tuple(first["loc"]))
    if first["type"] == "extra_forbidden":
        return APIError(
            400,
            f"Unrecognized request argument supplied: {param}",
            param=param,
            code="unknown_parameter",
        )
    if first["type"] == "missing":
        return APIError(
            400,
            f"Missing required parameter: '{param}'.",
            param=param,
            code="missing_required_parameter",
        )
    message = first["msg"].removeprefix("Value error, ")
    return APIError(400, f"Invalid '{param}': {message}.", param=param, code="invalid_value")


def _role_limit(message: str, param: str) -> APIError:
    return APIError(403, message, param=param, code="role_limit_exceeded")


def model_size(size: str | None, model: str, config: ModelConfig) -> str | None:
    """A requested size as one of the model's own sizes; OpenAI sizes map by orientation."""
    if size is None or size in config.sizes:
        return size
    shape = OPENAI_SIZES.get(size.strip().lower())
    if shape is None:
        return size  # left for plan_generation to refuse, naming the legal sizes
    for candidate in config.sizes:
        width, height = parse_size(candidate)
        if (width > height) == (shape == "landscape") and width != height:
            return candidate
    raise APIError(
        400,
        f"size {size} is {shape}, and {model} has no {shape} size; legal sizes: "
        f"{', '.join(config.sizes)}",
        param="size",
        code="invalid_value",
    )


@dataclass(frozen=True)
class Created:
    job: Row
    replayed: bool
    """True when an idempotent retry got the job its first request created."""


class VideoService:
    def __init__(
        self,
        settings: Settings,
        queue: JobQueue,
        storage: Storage,
        *,
        on_enqueue: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.queue = queue
        self.storage = storage
        self.access = Access(settings)
        self.moderator = Moderator(settings.moderation, cache_dir=settings.cache_dir)
        self._on_enqueue = on_enqueue or (lambda: None)

    # ------------------------------------------------------------------ create

    def create(
        self,
        user: User,
        request: CreateVideoRequest,
        *,
        actor: Actor,
        idempotency_key: str | None = None,
        remixed_from: Row | None = None,
    ) -> Created:
        role = self.access.role(user)

        # 1. The model, and what the user's role allows of it
        try:
            name, config = self.settings.resolve_served_model(request.model)
        except UnknownModelError as exc:
            raise APIError(400, str(exc), param="model", code="model_not_found") from None
        if not (role.allows_model(name) or role.allows_model(request.model or name)):
            raise _role_limit(
                f"Your role ({user.role}) may not use the model {request.model or name}.", "model"
            )
        if request.input_reference is not None:
            raise APIError(
                400,
                f"input_reference is not supported by {name} ({config.family_spec.title}): it "
                "renders from text only",
                param="input_reference",
                code="unsupported_parameter",
            )
        try:
            seconds = None if request.seconds is None else float(request.seconds)
        except ValueError:
            raise APIError(
                400,
                f"seconds must be a number, got {request.seconds!r}",
                param="seconds",
                code="invalid_value",
            ) from None
        if seconds is not None and seconds > role.max_seconds:
            raise _role_limit(
                f"seconds {seconds:g} is over the {user.role} role's limit of {role.max_seconds:g} s per video.",
                "seconds",
            )
        if (
            request.steps is not None
            and role.max_steps is not None
            and request.steps > role.max_steps
        ):
            raise _role_limit(
                f"steps {request.steps} is over the {user.role} role's limit of {role.max_steps} steps.",
                "steps",
            )
        steps = request.steps
        if steps is None and role.max_steps is not None and config.steps > role.max_steps:
            steps = role.max_steps  # the model's default, lowered to what the role allows

        # 2. The plan: every bad parameter is refused here, before queueing
        try:
            plan = plan_generation(
                GenerationRequest(
                    prompt=request.prompt,
                    negative_prompt=request.negative_prompt,
                    seconds=seconds
                    if seconds is not None
                    else min(config.default_seconds, role.max_seconds),
                    size=model_size(request.size, name, config),
                    seed=request.seed,
                    steps=steps,
                ),
                model=name,
                config=config,
                max_seconds=self.settings.limits.max_seconds,
                max_prompt_chars=self.settings.limits.max_prompt_chars,
            )
        except InvalidRequestError as exc:
            raise APIError(400, str(exc), param=exc.param, code="invalid_value") from None
        if role.max_pixels is not None and plan.width * plan.height > role.max_pixels:
            raise _role_limit(
                f"size {plan.size} is over the {user.role} role's limit of {role.max_pixels} pixels.",
                "size",
            )

        # 3. An idempotent retry gets the job the first request made
        request_hash = _request_hash(request, remixed_from)
        if idempotency_key:
            replay = self._replay(user, idempotency_key, request_hash)
            if replay is not None:
                return Created(replay, replayed=True)

        # 4. Moderation of the prompt as written: a block ends here, before the recaptioner
        #    or the model ever see it
        verdict = self.moderator.check_text(plan.prompt, "prompt")
        outcome = self.moderator.outcome(verdict, role.moderation)
        if outcome == "blocked":
            audit.record(
                self.queue.engine,
                "moderation.blocked",
                actor,
                target_type="prompt",
                details={**verdict.to_dict(), "outcome": outcome, "prompt": plan.prompt},
            )
            raise APIError(
                400,
                f"{BLOCKED_MESSAGE} Categories: {', '.join(verdict.categories)}.",
                param="prompt",
                code="moderation_blocked",
            )
        flagged = outcome == "flagged"

        # 5. Queue it, if the user's quotas and limits and the queue itself have room
        values = {
            "id": f"video_{uuid.uuid4().hex}",
            "user_id": user.id,
            "model": request.model or name,
            "model_name": name,
            "prompt": plan.prompt,
            "negative_prompt": plan.negative_prompt,
            "seconds": request.seconds or f"{plan.requested_seconds:g}",
            "size": plan.size,
            "recaption_mode": request.recaption,
            "remixed_from_video_id": remixed_from.id if remixed_from is not None else None,
            "width": plan.width,
            "height": plan.height,
            "num_frames": plan.num_frames,
            "fps": plan.fps,
            "seed": plan.seed,
            "steps": plan.steps,
            "guidance": plan.guidance,
            "guidance_2": plan.guidance_2,
            "priority": role.priority,
            "max_attempts": self.settings.worker.max_attempts,
            "idempotency_key": idempotency_key or None,
            "request_hash": request_hash if idempotency_key else None,
            "role": user.role,
            # a flagged prompt's output is confidential whatever the role's export rules
            "confidential": role.export.confidential or flagged,
            "flagged": flagged,
            "moderation": json.dumps([{**verdict.to_dict(), "outcome": outcome}])
            if verdict.findings
            else None,
            "max_running": role.max_running_jobs,
            "retention_seconds": role.export.retention_days * 86400
            if role.export.retention_days
            else None,
        }

        def guard(connection, pending: int) -> dict:
            if pending >= role.max_pending_jobs:
                raise APIError(
                    429,
                    f"You have {pending} videos queued or rendering, the most your role "
                    f"({user.role}) allows at once; wait for one to finish.",
                    code="concurrency_limit_exceeded",
                    headers={"Retry-After": str(self._retry_after(name))},
                )
            if self.queue.queued_count() >= self.settings.access.max_queued_jobs:
                raise APIError(
                    429,
                    "The queue is full; try again later.",
                    code="queue_full",
                    headers={"Retry-After": str(self._retry_after(name))},
                )
            try:
                check_quota(
                    connection, user, role, self.settings.plans.get(user.plan), plan.duration
                )
            except QuotaExceeded as exc:
                raise APIError(
                    429,
                    str(exc),
                    code="quota_exceeded",
                    headers={
                        "Retry-After": str(max(1, int(exc.limit.period.end - time.time()))),
                        "x-openreel-quota-resets-at": iso(exc.limit.period.end),
                    },
                ) from None
            return {"fair_rank": pending + 1}

        try:
            job = self.queue.enqueue_guarded(values, guard)
        except DuplicateIdempotencyKey:  # the same key, sent twice at once
            replay = self._replay(user, idempotency_key, request_hash)
            if replay is None:
                raise
            return Created(replay, replayed=True)
        audit.record(
            self.queue.engine,
            "video.created",
            actor,
            target_type="video",
            target_id=job.id,
            details={
                "prompt": job.prompt,
                "model": job.model,
                "seconds": job.seconds,
                "size": job.size,
                "remixed_from": job.remixed_from_video_id,
                "moderation": {**verdict.to_dict(), "outcome": outcome},
            },
        )
        if flagged:
            audit.record(
                self.queue.engine,
                "moderation.flagged",
                actor,
                target_type="video",
                target_id=job.id,
                details={**verdict.to_dict(), "outcome": outcome},
            )
        self._on_enqueue()
        return Created(job, replayed=False)

    def _retry_after(self, model_name: str) -> int:
        typical = self.queue.typical_run_seconds(model_name)
        return max(1, int(typical or 30))

    def _replay(self, user: User, key: str, request_hash: str) -> Row | None:
        existing = self.queue.find_by_idempotency_key(user.id, key)
        if existing is None:
            return None
        window = self.settings.api.idempotency_hours * 3600
        if existing.created_at < time.time() - window:
            self.queue.forget_idempotency_keys(older_than=time.time() - window)
            return None
        if existing.request_hash != request_hash:
            raise APIError(
                422,
                "This Idempotency-Key was already used with a different request; use a new key "
                "for a new request.",
                code="idempotency_key_reused",
            )
        return existing

    def remix(
        self,
        user: User,
        video_id: str,
        request: RemixRequest,
        *,
        actor: Actor,
        idempotency_key: str | None,
    ) -> Created:
        source = self.managed(user, video_id)
        # The source's settings, seed included: the remix differs by its prompt only.
        create = CreateVideoRequest(
            prompt=request.prompt,
            model=source.model,
            seconds=source.seconds,
            size=source.size,
            seed=source.seed,
            negative_prompt=source.negative_prompt,
            recaption=source.recaption_mode,
        )
        return self.create(
            user, create, actor=actor, idempotency_key=idempotency_key, remixed_from=source
        )

    # ------------------------------------------------------------------ read and delete

    def visible(self, user: User, video_id: str) -> Row:
        """A video the user may see; 404 otherwise, as for one that does not exist."""
        return self._seen(user, video_id, self.queue.find(video_id))

    def managed(self, user: User, video_id: str) -> Row:
        """A video the user may cancel, delete or remix: 404 if they cannot see it, 403 if
        they can see it but it is not theirs to change."""
        job = self.visible(user, video_id)
        if not self.access.manages(user, job):
            raise APIError(
                403,
                f"Video '{video_id}' belongs to another user; your role may read it, not change it.",
                param="video_id",
                code="permission_denied",
            )
        return job

    def _seen(self, user: User, video_id: str, job: Row | None) -> Row:
        if job is None or not self.access.sees(user, job):
            raise APIError(
                404, f"Video with id '{video_id}' not found.", param="video_id", code="not_found"
            )
        return job

    def retrieve(self, user: User, video_id: str) -> Video:
        """A video with its queue position and ETA, in as few queries as a poll can take."""
        job, position = self.queue.find_with_position(video_id)
        return self.video(self._seen(user, video_id, job), position=position)

    def list(
        self,
        user: User,
        *,
        after: str | None,
        limit: int,
        order: str,
        owner: str | None = None,
        status: str | None = None,
    ) -> VideoList:
        """The caller's videos; administrators get everyone's, and may filter by owner name
        and status."""
        if not 1 <= limit <= self.settings.api.list_limit_max:
            raise APIError(
                400,
                f"limit must be from 1 to {self.settings.api.list_limit_max}",
                param="limit",
                code="invalid_value",
            )
        if order not in ("asc", "desc"):
            raise APIError(400, "order must be asc or desc", param="order", code="invalid_value")
        if status is not None and status not in (QUEUED, IN_PROGRESS, COMPLETED, FAILED):
            raise APIError(400, f"unknown status {status!r}", param="status", code="invalid_value")
        if after is not None:
            self.visible(user, after)
        user_id: str | None = user.id
        if self.access.lists_everyone(user):
            user_id = None
            if owner is not None:
                found = find_user(self.queue.engine, owner)
                if found is None:
                    raise APIError(404, f"No user {owner!r}.", param="user", code="not_found")
                user_id = found.id
        elif owner is not None and owner != user.name:
            raise APIError(
                403,
                "Only administrators list other users' videos.",
                param="user",
                code="permission_denied",
            )
        rows, has_more = self.queue.list_videos(
            user_id=user_id, after=after, limit=limit, order=order, status=status
        )
        data = [self.video(row) for row in rows]
        return VideoList(
            data=data,
            first_id=data[0].id if data else None,
            last_id=data[-1].id if data else None,
            has_more=has_more,
        )

    def cancel(self, user: User, video_id: str, *, actor: Actor) -> Row:
        """Stop a job and keep it: it ends as failed with code cancelled (at once when
        queued, at the next step when running). A finished job is left as it is."""
        job = self.managed(user, video_id)
        if job.status in (COMPLETED, FAILED):
            raise APIError(
                409,
                f"Video '{video_id}' is already {job.status}; there is nothing to cancel.",
                param="video_id",
                code="video_finished",
            )
        cancelled = self.queue.cancel(job.id)
        audit.record(
            self.queue.engine, "video.cancelled", actor, target_type="video", target_id=job.id,
            details={"owner": job.user_id, "status": job.status},
        )  # fmt: skip
        return cancelled

    def delete(self, user: User, video_id: str, *, actor: Actor) -> None:
        job = self.managed(user, video_id)
        deleted = self.queue.mark_deleted(job.id)
        if deleted is not None and deleted.status != IN_PROGRESS:
            delete_outputs(self.queue, self.storage, deleted)  # a running job's go later
        audit.record(
            self.queue.engine, "video.deleted", actor, target_type="video", target_id=job.id,
            details={"owner": job.user_id, "status": job.status},
        )  # fmt: skip

    def content(self, user: User, video_id: str, variant: str, *, actor: Actor) -> tuple[str, str]:
        """(storage key, media type) of a finished video's file."""
        if variant not in OUTPUTS:
            raise APIError(
                400,
                f"variant must be one of {', '.join(OUTPUTS)}",
                param="variant",
                code="invalid_value",
            )
        job = self.visible(user, video_id)
        if not self.access.may_download(user, job):
            raise APIError(
                403,
                f"Your role ({user.role}) may not download videos.",
                param="video_id",
                code="download_not_allowed",
            )
        if job.status != COMPLETED:
            reason = "failed" if job.status == FAILED else "is not ready yet"
            raise APIError(
                404,
                f"Video '{video_id}' {'has ' + reason if job.status == FAILED else reason} "
                f"(status {job.status}); it has no content.",
                param="video_id",
                code="video_not_ready" if job.status != FAILED else "video_failed",
            )
        if job.files_deleted_at is not None or (job.expires_at and job.expires_at <= time.time()):
            expired = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(job.expires_at or 0))
            raise APIError(
                404,
                f"The content of video '{video_id}' expired at {expired} and was deleted.",
                param="video_id",
                code="video_expired",
            )
        key = {
            "video": job.video_key,
            "thumbnail": job.thumbnail_key,
            "spritesheet": job.spritesheet_key,
        }[variant]
        audit.record(
            self.queue.engine, "video.downloaded", actor, target_type="video", target_id=job.id,
            details={"variant": variant, "owner": job.user_id},
        )  # fmt: skip
        return key, OUTPUTS[variant][1]

    # ------------------------------------------------------------------ Video objects

    def video(self, job: Row, *, with_queue: bool = False, position: int | None = None) -> Video:
        eta = None
        if with_queue and position is None:
            position = self.queue.queue_position(job)
        if job.status == QUEUED and position is not None:
            typical = self.queue.typical_run_seconds(job.model_name)
            if typical is not None:
                eta = round(typical * position, 1)
        elif job.status == IN_PROGRESS and job.started_at:
            elapsed = time.time() - job.started_at
            if job.progress >= 5:
                eta = round(elapsed * (100 - job.progress) / job.progress, 1)
            else:
                typical = self.queue.typical_run_seconds(job.model_name)
                eta = None if typical is None else round(max(typical - elapsed, 0.0), 1)
        error = None
        if job.status == FAILED:
            error = VideoError(
                code=job.error_code or "internal_error", message=job.error_message or ""
            )
        return Video(
            id=job.id,
            created_at=int(job.created_at),
            completed_at=_whole(job.completed_at) if job.status == COMPLETED else None,
            expires_at=_whole(job.expires_at),
            model=job.model,
            progress=job.progress if job.status != COMPLETED else 100,
            prompt=job.prompt,
            remixed_from_video_id=job.remixed_from_video_id,
            seconds=job.seconds,
            size=f"{job.width}x{job.height}",
            status=job.status,
            error=error,
            revised_prompt=job.revised_prompt,
            seed=job.seed,
            steps=job.steps,
            queue_position=position,
            eta_seconds=eta,
            frames=job.num_frames,
            fps=job.fps,
            duration=job.num_frames / job.fps,
            moderation=_moderation_label(job),
            watermark_id=None if job.watermark_id is None else f"{job.watermark_id:012x}",
        )


def _moderation_label(job: Row) -> ModerationLabel | None:
    if not job.flagged:
        return None
    verdicts = json.loads(job.moderation) if job.moderation else []
    categories = sorted(
        {
            c
            for verdict in verdicts
            if verdict.get("outcome") == "flagged"
            for c in verdict["categories"]
        }
    )
    return ModerationLabel(categories=categories)


def _whole(value: float | None) -> int | None:
    return None if value is None else math.floor(value)


def _request_hash(request: CreateVideoRequest, remixed_from: Row | None) -> str:
    body = request.model_dump(mode="json", exclude={"input_reference"})
    body["remixed_from"] = remixed_from.id if remixed_from is not None else None
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
