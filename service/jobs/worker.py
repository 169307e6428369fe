"""A worker: claims jobs, runs them, and always records an outcome.

While a job runs, a heartbeat thread extends its lease and watches for a cancel request
(or for the job being taken away after a missed lease). Progress writes are throttled.
When asked to stop, the worker takes no new job; a running job may finish within the grace
period, after which it is stopped at the next step and given back to the queue.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy.engine import Row
from sqlalchemy.exc import DBAPIError

from pipeline.errors import GenerationCancelled, InvalidRequestError, ModelConfigError
from service.core.runtime import Runtime
from service.core.settings import WorkerSettings
from service.domain import audit
from service.jobs.outputs import remove_dead_scratch
from service.jobs.production import JobFailed
from service.jobs.queue import JobQueue
from service.jobs.runner import JobRunner
from service.jobs.status import COMPLETED, FAILED
from service.jobs.workers import WorkerRegistry

logger = logging.getLogger(__name__)


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def _failure_of(exc: BaseException) -> tuple[str, str]:
    """The error code and message a job failing with `exc` shows its owner."""
    if isinstance(exc, JobFailed):
        return exc.code, exc.message
    text = str(exc)
    if isinstance(exc, MemoryError) or "out of memory" in text.lower():
        return "out_of_memory", "The model ran out of memory; try a shorter or smaller video."
    if isinstance(exc, InvalidRequestError):
        return "invalid_request", text
    if isinstance(exc, ModelConfigError):
        return "model_unavailable", f"The model cannot be loaded: {text}"
    if _is_storage_fault(exc):
        # The exception's text names the server's paths or bucket: never shown to users.
        reason = os.strerror(exc.errno) if isinstance(exc, OSError) and exc.errno else "failed"
        return (
            "storage_unavailable",
            f"The video could not be stored ({reason.lower()}); the service's storage is "
            "full or unavailable. Try again later.",
        )
    return "internal_error", f"Generation failed: {type(exc).__name__}: {text}"[:500]


STORAGE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO}
)
"""Errors of a full, read-only or failing disk: the storage's fault, not the job's."""


def _is_storage_fault(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS:
        return True
    return type(exc).__module__.startswith(("botocore.", "boto3."))  # S3 unreachable, denied


@dataclass
class _Running:
    """The job a worker is running, as its monitor thread sees it."""

    job: Row
    next_beat: float
    cancel: threading.Event = field(default_factory=threading.Event)
    """Its owner asked to cancel, or it is no longer this worker's."""
    release: threading.Event = field(default_factory=threading.Event)
    """The worker is stopping and the grace period is over: give the job back."""
    stopping_since: float | None = None

    def should_stop(self) -> bool:
        return self.cancel.is_set() or self.release.is_set()


class Worker:
    def __init__(
        self,
        *,
        queue: JobQueue,
        registry: WorkerRegistry,
        runner: JobRunner,
        settings: WorkerSettings,
        models: Sequence[str],
        retention_seconds: float,
        worker_id: str | None = None,
        wake: threading.Event | None = None,
    ) -> None:
        self.queue = queue
        self.registry = registry
        self.runner = runner
        self.settings = settings
        self.models = list(models)
        self.retention_seconds = retention_seconds
        self.id = worker_id or new_worker_id()
        self.wake = wake or threading.Event()
        self.ready = threading.Event()
        """Set once the model is loaded and the worker takes jobs."""
        self.jobs_done = 0
        self._running: _Running | None = None

    @classmethod
    def for_runtime(
        cls, runtime: Runtime, runner: JobRunner, *, wake: threading.Event | None = None
    ) -> Worker:
        """A worker of the runtime's queue and settings, for the models they name."""
        settings = runtime.settings
        return cls(
            queue=runtime.queue,
            registry=runtime.workers,
            runner=runner,
            settings=settings.worker,
            models=settings.worker_models(),
            retention_seconds=settings.storage.retention_hours * 3600,
            wake=wake,
        )

    def run(
        self, stop: threading.Event, *, max_jobs: int | None = None, until_idle: bool = False
    ) -> None:
        """Take and run jobs until `stop` is set, `max_jobs` are done, or (with
        `until_idle`) no job is waiting."""
        for path in remove_dead_scratch():
            logger.info("worker %s: removed %s, left by a worker that died", self.id, path)
        self.registry.register(self.id, self.models)
        finished = threading.Event()
        monitor = threading.Thread(
            target=self._monitor, args=(stop, finished), name=f"monitor-{self.id}", daemon=True
        )
        monitor.start()
        try:
            self.runner.prepare(self.models)
            self.ready.set()
            logger.info("worker %s ready for %s", self.id, ", ".join(self.models))
            last_reap = last_alive = 0.0
            while not stop.is_set() and (max_jobs is None or self.jobs_done < max_jobs):
                now = time.monotonic()
                try:
                    if now - last_reap >= self.settings.heartbeat_seconds:
                        self.queue.reap()
                        last_reap = now
                    if now - last_alive >= self.settings.heartbeat_seconds:
                        self.registry.alive(self.id)
                        last_alive = now
                    job = self.queue.claim(
                        self.id, self.models, lease_seconds=self.settings.lease_seconds
                    )
                except DBAPIError as exc:  # the database restarting, a network blip ...
                    logger.warning("worker %s: database error, retrying: %s", self.id, exc.orig)
                    stop.wait(min(5.0, self.settings.poll_seconds * 4))
                    continue
                if job is None:
                    if until_idle:
                        break
                    self.wake.wait(self.settings.poll_seconds)
                    self.wake.clear()
                    continue
                self.execute(job, stop)
                self.jobs_done += 1
        finally:
            finished.set()
            monitor.join()
            self.registry.stopped(self.id)
            self.queue.close_connections()

    def _outcome_entry(self, job: Row, outcome: str, code: str, recaptioned: dict) -> dict:
        """The audit entry of a job's outcome, committed with the outcome itself."""
        details = {
            "revised_prompt": recaptioned.get("revised_prompt"),
            "recaption": recaptioned.get("recaption_status"),
            "worker": self.id,
        }
        if outcome != COMPLETED:
            details["error_code"] = code
        return audit.entry(
            f"video.{outcome}",
            audit.Actor(id=None, name=f"worker:{self.id}"),
            target_type="video",
            target_id=job.id,
            details=details,
            at=self.queue.clock(),
        )

    def _with_retries(self, record) -> bool:
        """Record an outcome, retrying through database errors while the lease lasts;
        after that the reaper owns the job and the write would be refused anyway."""
        deadline = time.monotonic() + self.settings.lease_seconds
        delay = 0.1
        while True:
            try:
                return record()
            except DBAPIError as exc:
                if time.monotonic() + delay > deadline:
                    logger.error("could not record the outcome of a job: %s", exc.orig)
                    return False
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _monitor(self, stop: threading.Event, finished: threading.Event) -> None:
        """One thread per worker: extends the running job's lease, notices cancel requests,
        and after a stop request waits out the grace period, then asks for a release."""
        try:
            self._watch(stop, finished)
        finally:
            self.queue.close_connections()

    def _watch(self, stop: threading.Event, finished: threading.Event) -> None:
        while not finished.wait(0.2):
            running = self._running
            if running is None:
                continue
            now = time.monotonic()
            if stop.is_set():
                running.stopping_since = running.stopping_since or now
                if now - running.stopping_since >= self.settings.shutdown_grace_seconds:
                    running.release.set()
            if now < running.next_beat:
                continue
            running.next_beat = now + self.settings.heartbeat_seconds
            try:
                beat = self.queue.heartbeat(
                    running.job.id, self.id, lease_seconds=self.settings.lease_seconds
                )
                self.registry.alive(self.id, running.job.id)
            except DBAPIError as exc:  # the lease may lapse; the reaper handles that
                logger.warning("heartbeat of %s failed: %s", running.job.id, exc.orig)
                continue
            if beat.cancel_requested:
                running.cancel.set()

    def execute(self, job: Row, stop: threading.Event) -> str:
        """Run one claimed job; returns what happened to it: completed, released (given
        back on shutdown), failed:<code>, or retried:<code> (back in the queue after a
        back-off)."""
        running = _Running(job=job, next_beat=time.monotonic() + self.settings.heartbeat_seconds)
        last_write = {"at": 0.0, "stage": None}
        recaptioned: dict = {}

        def report(progress: int, stage: str, **fields) -> None:
            if "revised_prompt" in fields:
                recaptioned.update(fields)
            now = time.monotonic()
            due = now - last_write["at"] >= self.settings.progress_seconds
            if not (fields or stage != last_write["stage"] or due):
                return
            last_write.update(at=now, stage=stage)
            beat = self.queue.report_progress(
                job.id, self.id, progress=min(progress, 99), stage=stage, **fields
            )
            if beat.cancel_requested:
                running.cancel.set()

        self._running = running
        # Until proven otherwise, the job failed: a crash below still records an outcome.
        outcome, code, message, fields = FAILED, "internal_error", "the worker stopped", {}
        try:
            fields = self.runner.run(job, report, running.should_stop)
            outcome = COMPLETED
        except GenerationCancelled:
            if running.release.is_set() and not running.cancel.is_set():
                outcome = "released"
            else:
                code, message = "cancelled", "Cancelled by its owner."
        except Exception as exc:
            code, message = _failure_of(exc)
            if isinstance(exc, JobFailed):
                fields = exc.fields
            if code == "internal_error":
                logger.error("job %s failed:\n%s", job.id, traceback.format_exc())
        finally:
            self._running = None
            if outcome == COMPLETED:
                record = partial(
                    self.queue.complete,
                    job.id,
                    self.id,
                    # the owner's role may keep outputs longer or shorter than the default
                    retention_seconds=job.retention_seconds or self.retention_seconds,
                    audit=self._outcome_entry(job, outcome, code, recaptioned),
                    **fields,
                )
            elif outcome == "released":
                record = partial(self.queue.release, job.id, self.id)
            elif code == "storage_unavailable" and job.attempts < job.max_attempts:
                outcome = "retried"
                record = partial(
                    self.queue.retry_later,
                    job.id,
                    self.id,
                    delay=self.settings.storage_retry_seconds * 2 ** (job.attempts - 1),
                    audit=self._outcome_entry(job, outcome, code, recaptioned),
                )
            else:
                record = partial(
                    self.queue.fail,
                    job.id,
                    self.id,
                    code=code,
                    message=message,
                    audit=self._outcome_entry(job, outcome, code, recaptioned),
                    **fields,
                )
            recorded = self._with_retries(record)
            if not recorded:
                logger.warning(
                    "job %s was no longer %s's; its outcome was not recorded", job.id, self.id
                )
        return outcome if outcome not in (FAILED, "retried") else f"{outcome}:{code}"
