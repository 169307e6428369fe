"""The finished windows of a long clip, kept in the service's storage while the clip is made:
a job whose worker dies or stops resumes at the next window on another worker, and at most
one window's work is lost.

    videos/{id}/windows/{index}.mp4   the window's marked frames (an H.264 segment)
    videos/{id}/windows/{index}.npy   its last frames as made: the next window's condition
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np

from pipeline.errors import GenerationCancelled
from pipeline.windows import KeptWindow, Window
from service.core.storage import Storage
from service.jobs.queue import JobQueue
from service.jobs.records import JobRecords

logger = logging.getLogger(__name__)


def window_keys(video_id: str, index: int) -> tuple[str, str]:
    stem = f"videos/{video_id}/windows/{index:04d}"
    return f"{stem}.mp4", f"{stem}.npy"


class StoredWindows:
    """The windows of one job, as its worker keeps them (`pipeline.render.WindowStore`)."""

    def __init__(
        self,
        storage: Storage,
        queue: JobQueue,
        records: JobRecords,
        *,
        video_id: str,
        worker_id: str,
        scratch: Path,
    ) -> None:
        self.storage = storage
        self.queue = queue
        self.records = records
        self.video_id = video_id
        self.worker_id = worker_id
        self.scratch = scratch

    def kept(self) -> dict[int, KeptWindow]:
        kept: dict[int, KeptWindow] = {}
        for row in self.records.kept_windows(self.video_id):
            try:
                segment = self.scratch / f"kept-{row.index:04d}.mp4"
                with open(segment, "wb") as out:
                    for block in self.storage.read(row.segment_key):
                        out.write(block)
                tail = np.load(io.BytesIO(b"".join(self.storage.read(row.tail_key))))
            except (FileNotFoundError, OSError, ValueError) as exc:
                # A window whose files are gone is made again, and every one after it.
                logger.warning(
                    "kept window %s of %s is unreadable: %s", row.index, self.video_id, exc
                )
                break
            kept[row.index] = KeptWindow(segment, tail)
        # Only a run of windows from the first counts: a gap means what follows was
        # conditioned on a window that is lost.
        run = 0
        while run in kept:
            run += 1
        return {index: window for index, window in kept.items() if index < run}

    def keep(self, window: Window, kept: KeptWindow) -> None:
        segment_key, tail_key = window_keys(self.video_id, window.index)
        tail_file = self.scratch / f"tail-{window.index:04d}.npy"
        np.save(tail_file, kept.tail, allow_pickle=False)
        self.storage.put_file(segment_key, kept.segment, "video/mp4")
        self.storage.put_file(tail_key, tail_file, "application/octet-stream")
        tail_file.unlink(missing_ok=True)
        if not self.queue.keep_window(
            self.video_id,
            self.worker_id,
            index=window.index,
            segment_key=segment_key,
            tail_key=tail_key,
            frames=window.keep,
        ):
            # The job was taken away (its lease was reaped): stop, as for a cancel.
            raise GenerationCancelled(0, 0)
        logger.info("kept window %d of %s", window.index + 1, self.video_id)


def forget_windows(storage: Storage, queue: JobQueue, records: JobRecords, video_id: str) -> None:
    """Remove a job's kept windows: their files, then their records."""
    for row in records.kept_windows(video_id):
        storage.delete(row.segment_key)
        storage.delete(row.tail_key)
    queue.forget_windows(video_id)
