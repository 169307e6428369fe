"""Housekeeping that no request triggers: jobs of dead workers go back to the queue, expired
and deleted outputs are removed, old idempotency keys are freed."""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy.engine import Row

from service.queue import JobQueue
from service.settings import Settings
from service.storage import Storage

logger = logging.getLogger(__name__)


def delete_outputs(queue: JobQueue, storage: Storage, job: Row) -> None:
    for key in (job.video_key, job.thumbnail_key, job.spritesheet_key):
        if key:
            storage.delete(key)
    queue.mark_files_deleted(job.id)


def sweep(queue: JobQueue, storage: Storage, settings: Settings) -> dict[str, int]:
    reaped = queue.reap()
    removed = 0
    for job in queue.outputs_to_delete():
        try:
            delete_outputs(queue, storage, job)
            removed += 1
        except Exception:
            logger.exception("could not delete the outputs of %s", job.id)
    freed = queue.forget_idempotency_keys(
        older_than=time.time() - settings.api.idempotency_hours * 3600
    )
    summary = {
        **{name: len(ids) for name, ids in reaped.items()},
        "outputs_deleted": removed,
        "keys_freed": freed,
    }
    if any(summary.values()):
        logger.info("janitor: %s", summary)
    return summary


def run_janitor(
    queue: JobQueue, storage: Storage, settings: Settings, stop: threading.Event
) -> None:
    while not stop.wait(settings.server.janitor_interval_seconds):
        try:
            sweep(queue, storage, settings)
        except Exception:
            logger.exception("janitor sweep failed")
