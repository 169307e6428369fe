"""Housekeeping that no request triggers: jobs of dead workers go back to the queue, expired
and deleted outputs are removed, the kept windows of ended jobs are removed, old idempotency
keys are freed."""

from __future__ import annotations

import logging
import threading

from service.core.runtime import Runtime
from service.jobs.outputs import delete_outputs
from service.jobs.windows import forget_windows

logger = logging.getLogger(__name__)


def sweep(runtime: Runtime) -> dict[str, int]:
    settings, queue = runtime.settings, runtime.queue
    reaped = queue.reap()
    removed = 0
    for job in runtime.records.outputs_to_delete(now=runtime.clock()):
        try:
            delete_outputs(queue, runtime.storage, job)
            removed += 1
        except Exception:
            logger.exception("could not delete the outputs of %s", job.id)
    forgotten = 0
    for video_id in sorted({row.video_id for row in runtime.records.windows_to_forget()}):
        try:
            forget_windows(runtime.storage, queue, runtime.records, video_id)
            forgotten += 1
        except Exception:
            logger.exception("could not remove the kept windows of %s", video_id)
    freed = queue.forget_idempotency_keys(
        older_than=runtime.clock() - settings.api.idempotency_hours * 3600
    )
    summary = {
        **{name: len(ids) for name, ids in reaped.items()},
        "outputs_deleted": removed,
        "windows_forgotten": forgotten,
        "keys_freed": freed,
    }
    if any(summary.values()):
        logger.info("janitor: %s", summary)
    return summary


def run_janitor(runtime: Runtime, stop: threading.Event) -> None:
    while not stop.wait(runtime.settings.server.janitor_interval_seconds):
        try:
            sweep(runtime)
        except Exception:
            logger.exception("janitor sweep failed")
