"""What a conditioned job starts from, fetched for its worker: the uploaded image of an
image-to-video job, or the clip an extension continues or an edit transforms (an OpenReel
video the caller could see, or an uploaded file).

An OpenReel source is read when the job runs, not copied when it is accepted: one that was
deleted or expired in between fails the job with `source_unavailable`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy.engine import Row

from pipeline.windows import FileSource
from service.core.runtime import Runtime
from service.jobs.production import JobFailed
from service.jobs.status import COMPLETED
from service.provenance.marks import ClipSource, Provenance


@dataclass(frozen=True)
class JobInputs:
    image: np.ndarray | None = None
    """(1, height, width, 3) uint8: the first frame of an image-to-video job."""
    source: FileSource | None = None
    clip_source: ClipSource | None = None

    @classmethod
    def fetch(cls, runtime: Runtime, job: Row, scratch: Path, provenance: Provenance) -> JobInputs:
        mode = job.mode or "text"
        if mode == "text":
            return cls()
        if mode == "image":
            path = _download(runtime, job.input_key, scratch / "image", what="input image")
            return cls(image=read_image(path))
        path = scratch / "source.mp4"
        if job.source_video_id is not None:
            source_job = runtime.records.find(job.source_video_id)
            key = _source_key(source_job)
            if key is None:
                raise JobFailed(
                    "source_unavailable",
                    f"The source video '{job.source_video_id}' was deleted or has expired "
                    "since this job was accepted.",
                )
            _download(runtime, key, path, what="source video")
            clip = ClipSource(path, f"{job.source_video_id}.mp4", job.source_video_id)
        else:
            _download(runtime, job.input_key, path, what="uploaded video")
            clip = ClipSource(path, "upload.mp4", made_here(path, provenance))
        return cls(source=FileSource(path, job.fps), clip_source=clip)


def read_image(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))[None].copy()


def _source_key(source: Row | None) -> str | None:
    if source is None or source.status != COMPLETED or source.video_key is None:
        return None
    if source.deleted_at is not None or source.files_deleted_at is not None:
        return None
    return source.video_key


def _download(runtime: Runtime, key: str | None, path: Path, *, what: str) -> Path:
    try:
        if key is None:
            raise FileNotFoundError(key)
        with open(path, "wb") as out:
            for block in runtime.storage.read(key):
                out.write(block)
    except FileNotFoundError:
        raise JobFailed(
            "source_unavailable", f"The {what} of this job is no longer in the storage."
        ) from None
    return path


def made_here(path: Path, provenance: Provenance) -> str | None:
    """The OpenReel job an uploaded clip came from, by its intact Content Credentials signed
    by this service; None for anything else."""
    from pipeline.provenance.credentials import read_credentials

    try:
        report = read_credentials(path, provenance.root_pem())
    except Exception:  # an unreadable manifest is no claim of origin
        return None
    if report.state != "trusted" or not report.assertion:
        return None
    job_id = report.assertion.get("job_id")
    return job_id if isinstance(job_id, str) else None
