"""A job's files: their names and media types, where they are rendered, and where they go.

    video        video.mp4        video/mp4
    thumbnail    thumbnail.webp   image/webp
    spritesheet  spritesheet.jpg  image/jpeg

Production renders into an `OutputPaths` that a destination hands it, then asks the
destination to keep the files: `StoredOutputs` (the worker) renders into a scratch folder and
puts all three into the service's storage, or none; `LocalOutputs` (`openreel generate`)
renders straight to the paths the user named.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import Row

from service.core.storage import Storage
from service.jobs.queue import JobQueue

OUTPUTS = {
    "video": ("video.mp4", "video/mp4"),
    "thumbnail": ("thumbnail.webp", "image/webp"),
    "spritesheet": ("spritesheet.jpg", "image/jpeg"),
}


def output_key(video_id: str, variant: str) -> str:
    """Where a job's file of `variant` lives in the storage."""
    return f"videos/{video_id}/{OUTPUTS[variant][0]}"


@dataclass(frozen=True)
class OutputPaths:
    video: Path
    thumbnail: Path | None = None
    spritesheet: Path | None = None

    def files(self) -> dict[str, Path]:
        """The variants asked for, by name."""
        named = {"video": self.video, "thumbnail": self.thumbnail, "spritesheet": self.spritesheet}
        return {variant: path for variant, path in named.items() if path is not None}


class Destination(Protocol):
    def rendering(self) -> AbstractContextManager[OutputPaths]:
        """The paths to render into, for as long as rendering lasts."""
        ...

    def keep(self, paths: OutputPaths) -> dict[str, str]:
        """Keep the rendered files; returns variant -> where each is now."""
        ...


class LocalOutputs:
    """The files go where the user asked; the renderer writes them atomically itself."""

    def __init__(self, paths: OutputPaths) -> None:
        self.paths = paths

    @contextmanager
    def rendering(self) -> Iterator[OutputPaths]:
        yield self.paths

    def keep(self, paths: OutputPaths) -> dict[str, str]:
        return {variant: str(path) for variant, path in paths.files().items()}


SCRATCH_PREFIX = "openreel-job-"
"""A job's scratch folder is openreel-job-<pid>-<random> in the temporary directory: the pid
says whose it is, so a worker that starts can remove what a killed one left."""


def remove_dead_scratch(directory: str | None = None) -> list[Path]:
    """Remove the scratch folders of processes no longer running; returns them."""
    removed = []
    for path in Path(directory or tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-*"):
        owner = path.name.removeprefix(SCRATCH_PREFIX).split("-", 1)[0]
        if not owner.isdigit() or _alive(int(owner)):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


class StoredOutputs:
    """The files of job `video_id` go into the service's storage: all three, or none."""

    def __init__(self, storage: Storage, video_id: str) -> None:
        self.storage = storage
        self.video_id = video_id

    @contextmanager
    def rendering(self) -> Iterator[OutputPaths]:
        with tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-") as scratch:
            yield OutputPaths(*(Path(scratch) / name for name, _ in OUTPUTS.values()))

    def keep(self, paths: OutputPaths) -> dict[str, str]:
        stored: dict[str, str] = {}
        try:
            for variant, path in paths.files().items():
                key = output_key(self.video_id, variant)
                self.storage.put_file(key, path, OUTPUTS[variant][1])
                stored[variant] = key
        except BaseException:
            for key in stored.values():
                self.storage.delete(key)
            raise
        return stored


def delete_outputs(queue: JobQueue, storage: Storage, job: Row) -> None:
    """Remove a finished job's files from the storage, and record that they are gone."""
    for key in (job.video_key, job.thumbnail_key, job.spritesheet_key):
        if key:
            storage.delete(key)
    queue.mark_files_deleted(job.id)
