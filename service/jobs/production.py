"""Production: the one path from an accepted request to stored, marked, signed, registered
files. The worker runs it for every job (`service.jobs.runner`); `openreel generate` runs it
for one clip on the host.

    1. recaption, fitted to the model's text encoder
    2. moderation of the rewrite (a recaptioner may add what the user did not write)
    3. marks and credentials, under a fresh mark id
    4. what the clip starts from (an image, an edit's source) checked like output frames
    5. render: generate the frames window by window, check them, mark them, encode, sign
    6. keep the files where the destination says (the service's storage, or the user's paths)
    7. register the clip, so that verify can trace it back

Progress runs 0-100 across the stages: recaption 0-5, denoising 5-90 (per step), decode
90-95, check, marks, encode and signing 95-98, keeping the files 98-100. A clip made in n
windows shares 5-98 among them.

A long clip resumed by a later attempt keeps what the first one fixed: the rewrite of the
prompt and the mark id its kept windows were drawn with.

The prompt as written was moderated before this (`service.domain.screening`), when the
request was accepted.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from sqlalchemy.engine import Engine

from pipeline.request import GenerationPlan
from recaption import RecaptionResult
from service.core.settings import Settings
from service.domain import audit
from service.domain.audit import Actor
from service.jobs.outputs import Destination
from service.jobs.recaptioning import build_recaptioner, recaption_target
from service.moderation import BLOCKED_MESSAGE, Moderator, Verdict, flagged_categories
from service.provenance.marks import ClipSource, Provenance

if TYPE_CHECKING:  # torch: only where a clip is really rendered
    from pipeline.generate import ProgressEvent, VideoModel
    from pipeline.windows import Source, WindowStore

MARKING_STAGES = ("check", "visible_mark", "invisible_mark", "rivagan_mark", "encode", "sign")
"""The render's timings that are part of making the file, after the frames exist."""

_SPAN = {"denoise": (5, 85), "decode": (90, 5), "encode": (95, 3)}
"""Where each render stage sits in a job's 0-100: (start, width)."""


class JobFailed(Exception):
    """The job cannot succeed; `code` goes to the Video object's error, `fields` are stored
    with the failure."""

    def __init__(self, code: str, message: str, fields: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}


class RecaptionRefused(JobFailed):
    """The recaption LLM refused the prompt: nothing is rendered."""

    def __init__(self) -> None:
        super().__init__("moderation_blocked", BLOCKED_MESSAGE)


class ModerationBlocked(JobFailed):
    """Moderation blocked the rewrite or the frames; the verdicts so far are stored."""

    def __init__(self, verdict: Verdict, record: list[dict], *, flagged: bool) -> None:
        super().__init__(
            "moderation_blocked",
            BLOCKED_MESSAGE,
            fields={"moderation": json.dumps(record), "flagged": flagged},
        )
        self.verdict = verdict


@dataclass(frozen=True)
class Order:
    """An accepted request: what to make (the plan, with the prompt as written), under which
    moderation mode, for whom."""

    job_id: str
    plan: GenerationPlan
    origin: Literal["api", "cli"]
    """Where the request came from: a job of the service, or `openreel generate`."""
    title: str
    """The clip's title in its credentials."""
    recaption_mode: str | None = None
    """on, off or auto; None: the config's recaption.mode."""
    moderation_mode: str = "enforce"
    moderation: tuple[dict, ...] = ()
    """The verdicts so far (the prompt's, from when the request was accepted)."""
    flagged: bool = False
    """The prompt was flagged when the request was accepted."""
    user_id: str | None = None
    source: ClipSource | None = None
    """The clip an extension or an edit is made from, for its credentials and the registry."""
    resumed: RecaptionResult | None = None
    """The rewrite an earlier attempt rendered its kept windows from."""
    mark_id: int | None = None
    """The mark id an earlier attempt drew its kept windows with."""


@dataclass(frozen=True)
class Progress:
    """How far an order is: `step` of `total` in `stage`, `percent` of the whole job."""

    stage: str
    percent: int
    step: int = 1
    total: int = 1
    recaption: RecaptionResult | None = None
    """Set once the rewrite is known (it can be shown before rendering ends)."""
    window: int = 1
    windows: int = 1
    mark_id: int | None = None
    """Set once the clip's mark id is drawn (a resumed attempt must reuse it)."""

    @classmethod
    def of_render(cls, event: ProgressEvent) -> Progress:
        start, width = _SPAN[event.stage]
        within = start + width * event.step / event.total  # as if the window were the clip
        percent = int(5 + ((event.window - 1) * 93 + (within - 5)) / event.windows)
        return cls(event.stage, percent, event.step, event.total, window=event.window,
                   windows=event.windows)  # fmt: skip


@dataclass
class Made:
    """What production made of an order."""

    plan: GenerationPlan
    """The plan rendered: the revised prompt in it."""
    recaption: RecaptionResult
    files: dict[str, str]
    """variant -> where it is kept (a storage key, or a path)."""
    mark_id: int
    moderation: list[dict]
    """Every verdict, the prompt's included."""
    flags: list[str]
    """Categories flagged (a role in flag mode), in the clip's credentials."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per stage: recaption, the render's stages, store."""
    windows: list[dict] = field(default_factory=list)
    """The clip's windows: what each made, and whether this attempt made it or found it kept."""

    @property
    def flagged(self) -> bool:
        return bool(self.flags)


class Production:
    """Makes clips for one process; `actor` is who the audit log says judged them.
    `database()` gives the engine of the audit log and the outputs registry, asked for only
    once a clip needs it (`openreel generate` opens its data dir only then)."""

    def __init__(
        self,
        settings: Settings,
        database: Callable[[], Engine],
        *,
        actor: Actor,
        moderator: Moderator | None = None,
        provenance: Provenance | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.actor = actor
        self.moderator = moderator or Moderator(settings.moderation, cache_dir=settings.cache_dir)
        # The moderator's compiled lists screen rewrites too: compiled once, not twice.
        self.recaptioner = build_recaptioner(settings, terms=self.moderator.terms)
        self.provenance = provenance or Provenance(settings)

    def produce(
        self,
        order: Order,
        model: VideoModel,
        destination: Destination,
        *,
        on_progress: Callable[[Progress], None] = lambda progress: None,
        should_cancel: Callable[[], bool] | None = None,
        image: np.ndarray | None = None,
        source: Source | None = None,
        windows: WindowStore | None = None,
    ) -> Made:
        """Make `order`'s clip. `image` is its first frame (image to video), `source` the
        clip an extension continues or an edit transforms, `windows` where its finished
        windows are kept (and found again when an earlier attempt kept some)."""
        from pipeline.render import render_video  # torch: only where a clip is rendered

        record = list(order.moderation)
        flags = flagged_categories(record)

        # 1. Recaption, fitted to this model's text encoder
        on_progress(Progress("recaption", 1, step=0))
        started = time.perf_counter()
        recaptioned = order.resumed or self._recaption(order, model)
        timings = {"recaption": time.perf_counter() - started}
        on_progress(Progress("recaption", 5, recaption=recaptioned))

        # 2. Moderate the rewrite: a recaptioner may add what the user did not write
        if recaptioned.prompt != order.plan.prompt and order.resumed is None:
            verdict = self.moderator.check_text(recaptioned.prompt, "revised_prompt")
            self._judge(order, verdict, record, flags)

        # 3. Marks and credentials, under a fresh mark id
        plan = dataclasses.replace(order.plan, prompt=recaptioned.prompt)
        marks = self.provenance.clip_marks(
            self.database(),
            job_id=order.job_id,
            model_name=plan.model,
            model=model,
            title=order.title,
            flags=flags,  # the same list: a flag found in the frames still reaches the manifest
            mark_id=order.mark_id,
            source=order.source,
        )
        on_progress(Progress("recaption", 5, windows=len(plan.windows), mark_id=marks.mark_id))

        def check_frames(frames: np.ndarray) -> None:
            if self.moderator.checks_frames:
                self._judge(order, self.moderator.check_frames(frames), record, flags)

        # 4. What the clip starts from is checked like its frames: the image before any
        #    call; an edit's source as each window reads it (an extension's source is
        #    checked as the clip's first frames)
        if image is not None:
            check_frames(image)
        if source is not None and plan.mode == "edit":
            source = _CheckedSource(source, check_frames)

        # 5. Render into the destination's files: check the frames, mark them, encode, sign
        with destination.rendering() as paths:
            rendered = render_video(
                model,
                plan,
                paths.video,
                thumbnail_path=paths.thumbnail,
                spritesheet_path=paths.spritesheet,
                encode=self.settings.encode,
                on_progress=lambda event: on_progress(Progress.of_render(event)),
                should_cancel=should_cancel,
                check_frames=check_frames,
                watermarks=marks.watermarks,
                credentials=marks.credentials,
                fingerprint=True,
                image=image,
                source=source,
                store=windows,
            )
            timings.update(rendered.timings)

            # 6. Keep the files: all of them or none
            on_progress(Progress("store", 98))
            started = time.perf_counter()
            files = destination.keep(paths)
            timings["store"] = time.perf_counter() - started

        # 7. Register the clip, so that verify can trace it back here
        self.provenance.register(
            self.database(),
            marks,
            origin=order.origin,
            job_id=order.job_id,
            user_id=order.user_id,
            model_name=plan.model,
            fingerprint=rendered.fingerprint,
            source_job_id=None if order.source is None else order.source.registered_as,
        )
        return Made(
            plan, recaptioned, files, marks.mark_id, record, flags, timings, rendered.windows
        )

    def _recaption(self, order: Order, model: VideoModel) -> RecaptionResult:
        recaptioned = self.recaptioner.recaption(
            order.plan.prompt,
            recaption_target(model.config, model.tokenizer),
            seed=order.plan.seed,
            mode=order.recaption_mode,
        )
        if recaptioned.status == "blocked":
            raise RecaptionRefused()
        return recaptioned

    def _judge(self, order: Order, verdict: Verdict, record: list[dict], flags: list[str]) -> None:
        """Record and audit `verdict` under the order's moderation mode; a block stops the
        order, a flag adds its categories to `flags`."""
        outcome = self.moderator.outcome(verdict, order.moderation_mode)
        record.append({**verdict.to_dict(), "outcome": outcome})
        audit.record(
            self.database(),
            "moderation.verdict",
            self.actor,
            target_type="video" if order.origin == "api" else "cli_job",
            target_id=order.job_id,
            details={**verdict.to_dict(), "outcome": outcome, "owner": order.user_id},
        )
        if outcome == "blocked":
            raise ModerationBlocked(verdict, record, flagged=order.flagged)
        if outcome == "flagged":
            flags.extend(c for c in verdict.categories if c not in flags)


class _CheckedSource:
    """A source whose frames are checked (moderation) as they are read."""

    def __init__(self, source: Source, check: Callable[[np.ndarray], None]) -> None:
        self.source = source
        self.check = check

    def frames(self, start: int, count: int):
        for chunk in self.source.frames(start, count):
            self.check(chunk)
            yield chunk
