"""One call from a plan to files: generate the frames, then encode the MP4 and its previews."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import EncodeOptions
from pipeline.encode import encode_mp4, write_spritesheet, write_thumbnail
from pipeline.generate import CancelCheck, ProgressCallback, ProgressEvent, VideoModel
from pipeline.request import GenerationPlan


@dataclass
class RenderedVideo:
    plan: GenerationPlan
    video_path: Path
    thumbnail_path: Path | None
    spritesheet_path: Path | None
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per stage: denoise, decode, encode."""


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
) -> RenderedVideo:
    """Generate `plan` with `model` and write the MP4 (and the previews asked for)."""
    report = on_progress or (lambda event: None)

    # 1. Frames
    generated = model.generate(plan, on_progress=on_progress, should_cancel=should_cancel)

    # 2. Files: the previews are written while the MP4 encodes (x264 and Pillow both let
    #    go of the GIL), and all of them or none are left behind.
    report(ProgressEvent("encode", 0, 1))
    started = time.perf_counter()
    written: list[Path] = []  # only what this call wrote: an older file there stays

    def previews() -> None:
        if thumbnail_path is not None:
            write_thumbnail(generated.frames, thumbnail_path, encode)
            written.append(Path(thumbnail_path))
        if spritesheet_path is not None:
            write_spritesheet(generated.frames, spritesheet_path, encode)
            written.append(Path(spritesheet_path))

    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="previews") as pool:
            pending = pool.submit(previews)
            try:
                encode_mp4(generated.frames, plan.fps, video_path, encode)
                written.append(Path(video_path))
            finally:
                pending.result()
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    timings = dict(generated.timings, encode=time.perf_counter() - started)
    report(ProgressEvent("encode", 1, 1))
    return RenderedVideo(
        plan=plan,
        video_path=Path(video_path),
        thumbnail_path=None if thumbnail_path is None else Path(thumbnail_path),
        spritesheet_path=None if spritesheet_path is None else Path(spritesheet_path),
        timings=timings,
    )
