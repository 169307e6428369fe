"""Videos for a user under the role policy: create one (checked, screened, queued), remix,
read, list, cancel, delete, download. No HTTP here: refusals are `service.domain.errors`.

Creating a video, step by step (`VideoService.create`):

    1. what it starts from: an image, or a clip to extend or edit (checked: it decodes, it is
       not too long, the caller may see it)
    2. the model, and whether the role may use it: the one named; or, when none is (the
       SDK's extend and edit name none), the default model if it can make what is asked,
       else the source's, else the first served model that can
    3. the plan: every bad parameter is refused before anything is queued
    4. an idempotent retry gets the job its first request made
    5. moderation of the prompt as written
    6. the uploaded input kept for the worker; into the queue, if the user's limits and
       quotas and the queue have room
    7. audited in the same transaction, and a worker in this process woken

Extensions (`mode` extend) and edits (edit) are created the same way; a remix is an edit of
its source on models that edit, and a same-seed re-render with the new prompt elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection, Row

from pipeline.config import ModelConfig
from pipeline.encode import VideoInfo
from pipeline.errors import InvalidRequestError, TooLongForModel, UnknownModelError
from pipeline.families import parse_size
from pipeline.request import (
    MODE_PARAMS,
    GenerationPlan,
    GenerationRequest,
    cannot_serve,
    plan_generation,
)
from service.core.runtime import Runtime
from service.domain import audit
from service.domain.accounts import User, find_user
from service.domain.audit import Actor
from service.domain.errors import Conflict, Forbidden, InvalidInput, Mismatch, NotFound
from service.domain.inputs import (
    CheckedImage,
    Upload,
    check_image,
    check_image_size,
    keep_input,
    probe_upload,
)
from service.domain.policy import Policy
from service.domain.screening import Screened, screen_prompt
from service.domain.usage import check_quota, iso
from service.jobs.outputs import OUTPUTS, delete_outputs
from service.jobs.queue import DuplicateIdempotencyKey
from service.jobs.records import count_queued
from service.jobs.status import COMPLETED, FAILED, IN_PROGRESS, STATUSES
from service.moderation import Moderator

# Sizes OpenAI clients ask for, by orientation: each maps to the model's own size of that shape.
OPENAI_SIZES = {
    "1280x720": "landscape",
    "1792x1024": "landscape",
    "1920x1080": "landscape",
    "720x1280": "portrait",
    "1024x1792": "portrait",
    "1080x1920": "portrait",
}


@dataclass(frozen=True)
class VideoRequest:
    """What a client asks for (OpenAI's fields, then OpenReel's additions)."""

    prompt: str
    model: str | None = None
    seconds: str | None = None
    """A number of seconds, as text ("4"), as OpenAI's API takes it."""
    size: str | None = None
    seed: int | None = None
    steps: int | None = None
    negative_prompt: str | None = None
    recaption: str | None = None
    mode: str = "text"
    """text, or image when `image` is given; extend or edit, with `video` or `video_id`."""
    image: Upload | None = None
    """input_reference: the first frame."""
    video: Upload | None = None
    """The clip to extend or edit, uploaded."""
    video_id: str | None = None
    """The clip to extend or edit, an OpenReel video the caller can see."""
    strength: float | None = None
    """Edits: how much of the source is re-rendered (default: the model's)."""


@dataclass
class Start:
    """What a request starts from, checked."""

    mode: str
    image: CheckedImage | None = None
    source: Row | None = None
    """The OpenReel video extended or edited."""
    upload: Upload | None = None
    upload_path: Path | None = None
    info: VideoInfo | None = None
    """The uploaded clip's size, rate and length."""
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def param(self) -> str:
        return "input_reference" if self.mode == "image" else "video"

    @property
    def clip_size(self) -> str | None:
        if self.source is not None:
            return f"{self.source.width}x{self.source.height}"
        if self.info is not None:
            return f"{self.info.width}x{self.info.height}"
        return None

    def clip_frames(self, fps: int) -> int:
        """The source's frames at `fps`."""
        if self.source is not None:
            return math.ceil(self.source.num_frames * fps / Fraction(self.source.fps))
        return self.info.frames_at(fps) if self.info is not None else 0

    def clip_seconds(self) -> float:
        if self.source is not None:
            return self.source.num_frames / self.source.fps
        return self.info.seconds if self.info is not None else 0.0

    def close(self) -> None:
        if self.upload_path is not None:
            self.upload_path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Created:
    job: Row
    replayed: bool
    """True when an idempotent retry got the job its first request created."""


@dataclass(frozen=True)
class Tracked:
    """A job with where it stands: its place in the queue and the seconds it has left."""

    job: Row
    position: int | None = None
    eta_seconds: float | None = None


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
    raise InvalidInput(
        f"size {size} is {shape}, and {model} has no {shape} size; legal sizes: "
        f"{', '.join(config.sizes)}",
        param="size",
    )


def request_hash(request: VideoRequest, remixed_from: Row | None) -> str:
    """What an idempotency key's repeat must match: the whole request, its source included
    (an uploaded file by its digest)."""
    body = {key: value for key, value in asdict(request).items() if key not in ("image", "video")}
    for name in ("image", "video"):
        upload = getattr(request, name)
        body[name] = None if upload is None else upload.digest
    body["remixed_from"] = remixed_from.id if remixed_from is not None else None
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


class VideoService:
    def __init__(
        self,
        runtime: Runtime,
        *,
        moderator: Moderator | None = None,
        on_enqueue=None,
    ) -> None:
        self.settings = runtime.settings
        self.engine = runtime.engine
        self.queue = runtime.queue
        self.records = runtime.records
        self.eta = runtime.eta
        self.storage = runtime.storage
        self.clock = runtime.clock
        self.policy = Policy(runtime.settings)
        self.moderator = moderator or Moderator(
            runtime.settings.moderation, cache_dir=runtime.settings.cache_dir
        )
        self._on_enqueue = on_enqueue or (lambda: None)

    # ------------------------------------------------------------------ create

    def create(
        self,
        user: User,
        request: VideoRequest,
        *,
        actor: Actor,
        idempotency_key: str | None = None,
        remixed_from: Row | None = None,
    ) -> Created:
        # 1. What it starts from, checked: an image, or a clip to extend or edit
        start = self._start(user, request)
        try:
            # 2. The model, and whether the user's role may use it
            name, config = self._model(user, request, start)
            return self._create(
                user, request, name, config, start,
                actor=actor, idempotency_key=idempotency_key, remixed_from=remixed_from,
            )  # fmt: skip
        finally:
            start.close()

    def _create(
        self,
        user: User,
        request: VideoRequest,
        name: str,
        config: ModelConfig,
        start: Start,
        *,
        actor: Actor,
        idempotency_key: str | None,
        remixed_from: Row | None,
    ) -> Created:
        # 3. The plan: every bad parameter is refused here, before queueing
        plan = self._plan(user, request, name, config, start)
        if start.image is not None:
            check_image_size(start.image, plan.width, plan.height, "input_reference")

        # 4. An idempotent retry gets the job the first request made
        fingerprint = request_hash(request, remixed_from)
        replay = self._replay(user, idempotency_key, fingerprint)
        if replay is not None:
            return Created(replay, replayed=True)

        # 5. Moderation of the prompt as written: a block ends here, before the recaptioner
        #    or the model ever see it
        screened = screen_prompt(
            self.moderator,
            lambda: self.engine,
            plan.prompt,
            mode=self.policy.moderation_mode(user.role),
            actor=actor,
            target_type="prompt",
        )

        # 6. The uploaded input kept for the worker; then the queue, if the user's quotas and
        #    limits and the queue itself have room
        video_id = f"video_{uuid.uuid4().hex}"
        values = self._job_values(user, request, name, plan, screened, remixed_from, start)
        values["id"] = video_id
        values["input_key"] = self._keep_input(video_id, start)
        if idempotency_key:
            values.update(idempotency_key=idempotency_key, request_hash=fingerprint)
        # 7. Audited in the same transaction; then this process's workers are woken
        try:
            job = self.queue.enqueue_guarded(
                values,
                self._admission(user, name, plan),
                then=lambda connection, job: self._audit_created(connection, actor, job, screened),
            )
        except BaseException as exc:
            if values["input_key"] is not None:
                self.storage.delete(values["input_key"])
            if not isinstance(exc, DuplicateIdempotencyKey):
                raise
            replay = self._replay(user, idempotency_key, fingerprint)  # the same key, at once
            if replay is None:
                raise
            return Created(replay, replayed=True)
        self._on_enqueue()
        return Created(job, replayed=False)

    def _start(self, user: User, request: VideoRequest) -> Start:
        """The request's input, checked; nothing is kept yet."""
        mode = request.mode
        if mode in ("text", "image"):
            if request.image is None:
                return Start("text")
            return Start("image", image=check_image(request.image))
        if (request.video is None) == (request.video_id is None):
            raise InvalidInput(
                "Give the video to start from: an uploaded file, or the id of one of your "
                "videos (video[id]).",
                param="video",
                code="missing_required_parameter",
            )
        if request.video_id is not None:
            return Start(mode, source=self._source_video(user, request.video_id))
        path, info = probe_upload(request.video, max_seconds=self.settings.limits.max_seconds)
        return Start(mode, upload=request.video, upload_path=path, info=info)

    def _source_video(self, user: User, video_id: str) -> Row:
        """An OpenReel video the user may start from: one they can see, finished, with its
        files, and which their role may download."""
        try:
            source = self.visible(user, video_id)
        except NotFound as exc:
            raise NotFound(str(exc), param="video") from None
        if not self.policy.may_download(user, source):
            raise Forbidden(
                f"Your role ({user.role}) may not download videos, nor start from them.",
                param="video",
                code="download_not_allowed",
            )
        if source.status != COMPLETED:
            raise Conflict(
                f"Video '{video_id}' is {source.status}; only a completed video can be "
                "extended or edited.",
                param="video",
                code="video_not_ready",
            )
        if source.files_deleted_at is not None or (
            source.expires_at and source.expires_at <= self.clock()
        ):
            raise NotFound(
                f"The content of video '{video_id}' has expired.",
                param="video",
                code="video_expired",
            )
        return source

    def _keep_input(self, video_id: str, start: Start) -> str | None:
        if start.image is not None:
            return keep_input(self.storage, video_id, "image.png", start.image.png, "image/png")
        if start.upload is not None:
            return keep_input(self.storage, video_id, "source.mp4", start.upload.data, "video/mp4")
        return None

    def _model(self, user: User, request: VideoRequest, start: Start) -> tuple[str, ModelConfig]:
        named = (
            request.model is not None
            and self.settings.api.aliases.get(request.model, request.model) != "default"
        )
        mode = start.mode
        if not named:
            chosen = self._able_model(user, request, start)
            if chosen is not None:
                return chosen
        try:
            name, config = self.settings.resolve_served_model(request.model)
        except UnknownModelError as exc:
            raise InvalidInput(str(exc), param="model", code="model_not_found") from None
        self.policy.check_model(user, name, request.model)
        if not config.serves(mode):  # type: ignore[arg-type]
            raise InvalidInput(
                _cannot(name, config, mode, self._models_serving(user, mode)),
                param=MODE_PARAMS[mode],
                code="unsupported_parameter" if mode == "image" else "unsupported_model",
            )
        return name, config

    def _able_model(
        self, user: User, request: VideoRequest, start: Start
    ) -> tuple[str, ModelConfig] | None:
        """For a request that names no model: the default model when it can make it, else
        the source's model, else the first served model the role may use that can; None
        when none can (the default model's refusal then says why)."""
        default_name, default = self.settings.resolve_served_model(None)
        if _can_make(default, request, start):
            self.policy.check_model(user, default_name, request.model)
            return default_name, default
        candidates = [] if start.source is None else [start.source.model_name]
        for name in dict.fromkeys([*candidates, *self.settings.served_models()]):
            if name not in self.settings.served_models():
                continue
            try:
                _, config = self.settings.resolve_model(name)
            except (UnknownModelError, ValueError):
                continue
            if self.policy.role(user.role).allows_model(name) and _can_make(config, request, start):
                return name, config
        return None

    def _models_serving(self, user: User, mode: str) -> list[tuple[str, ModelConfig]]:
        """Models this user may use that serve `mode`."""
        found = []
        for name in self.settings.served_models():
            role = self.policy.role(user.role)
            try:
                _, config = self.settings.resolve_model(name)
            except (UnknownModelError, ValueError):  # misconfigured: not a suggestion
                continue
            if role.allows_model(name) and config.serves(mode):  # type: ignore[arg-type]
                found.append((name, config))
        return found

    def _plan(
        self, user: User, request: VideoRequest, name: str, config: ModelConfig, start: Start
    ) -> GenerationPlan:
        try:
            seconds = None if request.seconds is None else float(request.seconds)
        except ValueError:
            raise InvalidInput(
                f"seconds must be a number, got {request.seconds!r}", param="seconds"
            ) from None
        fps = config.family_spec.fps
        if start.mode == "edit":
            self.policy.check_seconds(user, start.clip_seconds())
        elif start.mode == "extend":
            more = seconds if seconds is not None else config.default_seconds
            self.policy.check_seconds(user, start.clip_seconds() + more)
        elif seconds is not None:
            self.policy.check_seconds(user, seconds)
        steps = self.policy.steps(user, request.steps, config.steps)
        size = model_size(request.size, name, config)
        if start.clip_size is not None:
            size = self._clip_size(start, size, name, config)
        try:
            plan = plan_generation(
                GenerationRequest(
                    prompt=request.prompt,
                    negative_prompt=request.negative_prompt,
                    seconds=seconds
                    if seconds is not None
                    else self.policy.default_seconds(user, config.default_seconds),
                    size=size,
                    seed=request.seed,
                    steps=steps,
                    mode=start.mode,  # type: ignore[arg-type]
                    source_frames=start.clip_frames(fps),
                    strength=request.strength,
                ),
                model=name,
                config=config,
                max_seconds=self.settings.limits.max_seconds,
                max_prompt_chars=self.settings.limits.max_prompt_chars,
            )
        except TooLongForModel as exc:
            longer = [
                f"{other} (up to {self.settings.limits.max_seconds:g} s)"
                for other, _ in self._models_serving(user, "extend")
            ]
            hint = f" Models that go longer: {', '.join(longer)}." if longer else ""
            raise InvalidInput(f"{exc}.{hint}", param="seconds") from None
        except InvalidRequestError as exc:
            raise InvalidInput(str(exc), param=exc.param) from None
        self.policy.check_size(user, plan.size, plan.width, plan.height)
        return plan

    @staticmethod
    def _clip_size(start: Start, requested: str | None, name: str, config: ModelConfig) -> str:
        """An extension or edit keeps its source's size: one of the model's."""
        size = start.clip_size
        assert size is not None
        if requested is not None and requested != size:
            raise InvalidInput(
                f"size {requested} differs from the source video's {size}; an extension or "
                "edit keeps its source's size.",
                param="size",
            )
        if size not in config.sizes:
            raise InvalidInput(
                f"the source video is {size}, and {name} renders {', '.join(config.sizes)}.",
                param="video",
                code="invalid_value",
            )
        return size

    def _replay(self, user: User, key: str | None, fingerprint: str) -> Row | None:
        """The job an earlier request with this key made, within the idempotency window."""
        if not key:
            return None
        existing = self.records.find_by_idempotency_key(user.id, key)
        if existing is None:
            return None
        window_start = self.clock() - self.settings.api.idempotency_hours * 3600
        if existing.created_at < window_start:
            self.queue.forget_idempotency_keys(older_than=window_start)
            return None
        if existing.request_hash != fingerprint:
            raise Mismatch(
                "This Idempotency-Key was already used with a different request; use a new key "
                "for a new request."
            )
        return existing

    def _job_values(
        self,
        user: User,
        request: VideoRequest,
        name: str,
        plan: GenerationPlan,
        screened: Screened,
        remixed_from: Row | None,
        start: Start,
    ) -> dict[str, Any]:
        """The new job's row: the plan as checked, and what the role implies for it."""
        stitched = plan.mode == "extend"
        return {
            "user_id": user.id,
            "model": request.model or name,
            "model_name": name,
            "prompt": plan.prompt,
            "negative_prompt": plan.negative_prompt,
            # an extension's seconds are the whole clip's, its source's included
            "seconds": f"{plan.duration:g}"
            if stitched or plan.mode == "edit"
            else request.seconds or f"{plan.requested_seconds:g}",
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
            "mode": None if plan.mode == "text" else plan.mode,
            "source_video_id": None if start.source is None else start.source.id,
            "source_frames": plan.source_frames or None,
            "strength": plan.strength,
            "window_frames": plan.window_frames,
            "overlap_frames": plan.overlap_frames,
            "windows": len(plan.windows),
            "max_attempts": self.settings.worker.max_attempts,
            "flagged": screened.flagged,
            "moderation": json.dumps([screened.record()]) if screened.verdict.findings else None,
            **self.policy.job_terms(user, flagged=screened.flagged),
        }

    def _admission(self, user: User, name: str, plan: GenerationPlan):
        """The check run in the enqueue's transaction: pending videos, the queue, quotas."""

        def admit(connection: Connection, pending: int) -> dict[str, Any]:
            retry_after = self.eta.retry_after(name)
            self.policy.check_pending(user, pending, retry_after=retry_after)
            self.policy.check_queue(count_queued(connection), retry_after=retry_after)
            check_quota(
                connection,
                user,
                self.policy.role(user.role),
                self.policy.plan(user.plan),
                plan.generated_seconds,
                now=self.clock(),
            )
            return {"fair_rank": pending + 1}

        return admit

    def _audit_created(
        self, connection: Connection, actor: Actor, job: Row, screened: Screened
    ) -> None:
        audit.record(
            connection,
            "video.created",
            actor,
            target_type="video",
            target_id=job.id,
            details={
                "prompt": job.prompt,
                "model": job.model,
                "seconds": job.seconds,
                "size": job.size,
                "mode": job.mode or "text",
                "source_video": job.source_video_id,
                "remixed_from": job.remixed_from_video_id,
                "moderation": screened.record(),
            },
        )
        if screened.flagged:
            audit.record(
                connection,
                "moderation.flagged",
                actor,
                target_type="video",
                target_id=job.id,
                details=screened.record(),
            )

    def remix(
        self,
        user: User,
        video_id: str,
        prompt: str,
        *,
        actor: Actor,
        idempotency_key: str | None,
    ) -> Created:
        source = self.managed(user, video_id)
        _, config = self.settings.resolve_model(source.model_name)
        if config.serves("edit"):
            # Video to video on the source clip: it keeps the source's composition.
            request = VideoRequest(
                prompt=prompt, model=source.model, size=source.size, seed=source.seed,
                negative_prompt=source.negative_prompt, recaption=source.recaption_mode,
                mode="edit", video_id=source.id,
            )  # fmt: skip
        else:
            # The source's settings, seed included: the remix differs by its prompt only.
            request = VideoRequest(
                prompt=prompt,
                model=source.model,
                seconds=source.seconds,
                size=source.size,
                seed=source.seed,
                negative_prompt=source.negative_prompt,
                recaption=source.recaption_mode,
            )
        return self.create(
            user, request, actor=actor, idempotency_key=idempotency_key, remixed_from=source
        )

    # ------------------------------------------------------------------ read

    def visible(self, user: User, video_id: str) -> Row:
        """A video the user may see; NotFound otherwise, as for one that does not exist."""
        return self._seen(user, video_id, self.records.find(video_id))

    def managed(self, user: User, video_id: str) -> Row:
        """A video the user may cancel, delete or remix: NotFound if they cannot see it,
        Forbidden if they can see it but it is not theirs to change."""
        job = self.visible(user, video_id)
        if not self.policy.manages(user, job):
            raise Forbidden(
                f"Video '{video_id}' belongs to another user; your role may read it, not change it.",
                param="video_id",
            )
        return job

    def _seen(self, user: User, video_id: str, job: Row | None) -> Row:
        if job is None or not self.policy.sees(user, job):
            raise NotFound(f"Video with id '{video_id}' not found.", param="video_id")
        return job

    def track(self, job: Row, *, position: int | None = None, queued: bool = True) -> Tracked:
        """The job with its queue position (looked up when `queued` and not given) and ETA."""
        if queued and position is None:
            position = self.records.queue_position(job)
        return Tracked(job, position, self.eta.seconds_left(job, position))

    def retrieve(self, user: User, video_id: str) -> Tracked:
        """A video with its queue position and ETA, in as few queries as a poll can take."""
        job, position = self.records.find_with_position(video_id)
        return self.track(self._seen(user, video_id, job), position=position, queued=False)

    def list(
        self,
        user: User,
        *,
        after: str | None,
        limit: int,
        order: str,
        owner: str | None = None,
        status: str | None = None,
    ) -> tuple[list[Tracked], bool]:
        """A page of the caller's videos, and whether more follow; administrators get
        everyone's, and may filter by owner name and status."""
        self._check_page(limit, order, status)
        if after is not None:
            self.visible(user, after)
        rows, has_more = self.records.list_videos(
            user_id=self._listed_owner(user, owner),
            after=after,
            limit=limit,
            order=order,
            status=status,
        )
        return [self.track(row, queued=False) for row in rows], has_more

    def _check_page(self, limit: int, order: str, status: str | None) -> None:
        if not 1 <= limit <= self.settings.api.list_limit_max:
            raise InvalidInput(
                f"limit must be from 1 to {self.settings.api.list_limit_max}", param="limit"
            )
        if order not in ("asc", "desc"):
            raise InvalidInput("order must be asc or desc", param="order")
        if status is not None and status not in STATUSES:
            raise InvalidInput(f"unknown status {status!r}", param="status")

    def _listed_owner(self, user: User, owner: str | None) -> str | None:
        """Whose videos a listing shows: the caller's; everyone's (None) or one named user's
        for administrators."""
        if not self.policy.lists_everyone(user):
            if owner is not None and owner != user.name:
                raise Forbidden("Only administrators list other users' videos.", param="user")
            return user.id
        if owner is None:
            return None
        found = find_user(self.engine, owner)
        if found is None:
            raise NotFound(f"No user {owner!r}.", param="user")
        return found.id

    # ------------------------------------------------------------------ change

    def cancel(self, user: User, video_id: str, *, actor: Actor) -> Row:
        """Stop a job and keep it: it ends as failed with code cancelled (at once when
        queued, at the next step when running). A finished job is a Conflict."""
        job = self.managed(user, video_id)
        if job.status in (COMPLETED, FAILED):
            raise Conflict(
                f"Video '{video_id}' is already {job.status}; there is nothing to cancel.",
                param="video_id",
                code="video_finished",
            )
        cancelled = self.queue.cancel(job.id)
        audit.record(
            self.engine, "video.cancelled", actor, target_type="video", target_id=job.id,
            details={"owner": job.user_id, "status": job.status},
        )  # fmt: skip
        return cancelled

    def delete(self, user: User, video_id: str, *, actor: Actor) -> None:
        job = self.managed(user, video_id)
        deleted = self.queue.mark_deleted(job.id)
        if deleted is not None and deleted.status != IN_PROGRESS:
            delete_outputs(self.queue, self.storage, deleted)  # a running job's go later
        audit.record(
            self.engine, "video.deleted", actor, target_type="video", target_id=job.id,
            details={"owner": job.user_id, "status": job.status},
        )  # fmt: skip

    def reprioritise(self, user: User, video_id: str, priority: int, *, actor: Actor) -> Row:
        """Move a queued video up or down the queue (administrators)."""
        job = self.visible(user, video_id)
        updated = self.queue.set_priority(job.id, priority)
        if updated is None:
            raise Conflict(
                f"Video '{video_id}' is {job.status}; only queued videos can be moved.",
                param="video_id",
                code="video_not_queued",
            )
        audit.record(
            self.engine, "video.reprioritised", actor, target_type="video", target_id=job.id,
            details={"priority_from": job.priority, "priority_to": priority},
        )  # fmt: skip
        return updated

    # ------------------------------------------------------------------ download

    def content(self, user: User, video_id: str, variant: str, *, actor: Actor) -> tuple[str, str]:
        """(storage key, media type) of a finished video's file of `variant`."""
        job = self.visible(user, video_id)
        if not self.policy.may_download(user, job):
            raise Forbidden(
                f"Your role ({user.role}) may not download videos.",
                param="video_id",
                code="download_not_allowed",
            )
        if job.status == FAILED:
            raise NotFound(
                f"Video '{video_id}' has failed (status {job.status}); it has no content.",
                param="video_id",
                code="video_failed",
            )
        if job.status != COMPLETED:
            raise NotFound(
                f"Video '{video_id}' is not ready yet (status {job.status}); it has no content.",
                param="video_id",
                code="video_not_ready",
            )
        if job.files_deleted_at is not None or (job.expires_at and job.expires_at <= self.clock()):
            expired = iso(job.expires_at or 0)
            raise NotFound(
                f"The content of video '{video_id}' expired at {expired} and was deleted.",
                param="video_id",
                code="video_expired",
            )
        audit.record(
            self.engine, "video.downloaded", actor, target_type="video", target_id=job.id,
            details={"variant": variant, "owner": job.user_id},
        )  # fmt: skip
        return getattr(job, f"{variant}_key"), OUTPUTS[variant][1]


def _can_make(config: ModelConfig, request: VideoRequest, start: Start) -> bool:
    """Whether a model serves the request's mode, its source's size, and its length."""
    if not config.serves(start.mode):  # type: ignore[arg-type]
        return False
    if start.clip_size is not None and start.clip_size not in config.sizes:
        return False
    if start.image is not None and f"{start.image.width}x{start.image.height}" not in config.sizes:
        return request.size is not None  # an image of another size: the size check says so
    if start.mode in ("text", "image") and request.seconds is not None:
        try:
            seconds = float(request.seconds)
        except ValueError:
            return True  # the plan refuses it, naming it
        family = config.family_spec
        one_call = family.snap_frames(math.floor(seconds * family.fps + 0.5))
        if one_call > (config.window_frames or family.max_frames) and not config.serves("extend"):
            return False
    return True


def _cannot(
    name: str, config: ModelConfig, mode: str, others: list[tuple[str, ModelConfig]]
) -> str:
    serving = [other for other, _ in others if other != name]
    hint = f" Models here that can: {', '.join(serving)}." if serving else ""
    return f"{cannot_serve(name, config, mode)}.{hint}"  # type: ignore[arg-type]
