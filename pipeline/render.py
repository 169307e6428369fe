"""One call from a plan to files: generate the frames, check them, watermark them, encode the
MP4 and its previews, sign the MP4."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.config import EncodeOptions
from pipeline.encode import encode_mp4, write_spritesheet, write_thumbnail
from pipeline.generate import CancelCheck, ProgressCallback, ProgressEvent, VideoModel
from pipeline.provenance.credentials import ContentCredentials
from pipeline.provenance.fingerprint import index_fingerprint
from pipeline.request import GenerationPlan
from pipeline.watermark import Watermarks

FrameCheck = Callable[[np.ndarray], None]
"""Looks at the generated frames before anything is written; raises to stop the render."""


@dataclass
class RenderedVideo:
    plan: GenerationPlan
    video_path: Path
    thumbnail_path: Path | None
    spritesheet_path: Path | None
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per stage: denoise, decode, check, visible_mark, invisible_mark, encode, sign."""
    fingerprint: list[int] | None = None
    """Perceptual hashes of the marked frames (`pipeline.provenance.fingerprint`), if asked."""


def render_video(
    model: VideoModel,
    plan: GenerationPlan,
    video_path: Path,
    *,
    thumbnail_path: Path | None = None,
    spritesheet_path: Path | None = None,
    encode: EncodeOptions | None = None,
    on_progress: ProgressCallback | None = None,
    should_cancel: CancelCheck | None = None,
    check_frames: FrameCheck | None = None,
    watermarks: Watermarks | None = None,
    credentials: ContentCredentials | None = None,
    fingerprint: bool = False,
) -> RenderedVideo:
    """Generate `plan` with `model` and write the MP4 (and the previews asked for).

    `check_frames` may refuse the frames (by raising) before any file is written;
    `watermarks` are drawn into the frames, previews included; `credentials` sign the MP4."""
    report = on_progress or (lambda event: None)

    # 1. Frames
    generated = model.generate(plan, on_progress=on_progress, should_cancel=should_cancel)
    frames = generated.frames
    timings = dict(generated.timings)

    # 2. Output check (e.g. moderation), before anything exists on disk
    if check_frames is not None:
        started = time.perf_counter()
        check_frames(frames)
        timings["check"] = time.perf_counter() - started

    # 3. Watermarks, in place
    report(ProgressEvent("encode", 0, 1))
    if watermarks is not None:
        timings.update(watermarks.apply(frames, plan.fps))
    hashes = index_fingerprint(frames) if fingerprint else None

    # 4. Files: the previews are written while the MP4 encodes (x264 and Pillow both let
    #    go of the GIL), then the MP4 is signed; all of them or none are left behind.
    started = time.perf_counter()
    written: list[Path] = []  # only what this call wrote: an older file there stays

    def previews() -> None:
        if thumbnail_path is not None:
            write_thumbnail(frames, thumbnail_path, encode)
            written.append(Path(thumbnail_path))
        if spritesheet_path is not None:
            write_spritesheet(frames, spritesheet_path, encode)
            written.append(Path(spritesheet_path))

    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="previews") as pool:
            pending = pool.submit(previews)
            try:
                encode_mp4(frames, plan.fps, video_path, encode)
                written.append(Path(video_path))
            finally:
                pending.result()
        timings["encode"] = time.perf_counter() - started
        if credentials is not None:
            started = time.perf_counter()
            credentials.sign(video_path)
            timings["sign"] = time.perf_counter() - started
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    report(ProgressEvent("encode", 1, 1))
    return RenderedVideo(
        plan=plan,
        video_path=Path(video_path),
        thumbnail_path=None if thumbnail_path is None else Path(thumbnail_path),
        spritesheet_path=None if spritesheet_path is None else Path(spritesheet_path),
        timings=timings,
        fingerprint=hashes,
    )
