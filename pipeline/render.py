"""One call from a plan to files. Window by window: generate the frames, check them, mark
them, encode them into a segment and hand the segment to the window store (so a job that is
stopped resumes at the next window); then join the segments into one MP4, write the
previews and sign the MP4. Memory holds one window, never the whole clip."""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.colour_match import match_histograms
from pipeline.config import EncodeOptions
from pipeline.encode import (
    Mp4Writer,
    atomic_path,
    concat_mp4,
    read_frames,
    spritesheet_indices,
    thumbnail_index,
    write_spritesheet_frames,
    write_thumbnail_frame,
)
from pipeline.generate import CancelCheck, ProgressCallback, ProgressEvent, VideoModel
from pipeline.provenance.credentials import ContentCredentials
from pipeline.provenance.fingerprint import CROPS, center_crop, frame_hash, sample_indices
from pipeline.request import GenerationPlan
from pipeline.watermark import Watermarks
from pipeline.windows import KeptWindow, ScratchWindows, Source, Window, WindowStore

__all__ = ["KeptWindow", "RenderedVideo", "ScratchWindows", "Source", "WindowStore", "render_video"]

FrameCheck = Callable[[np.ndarray], None]
"""Looks at a window's frames before they are marked or written; raises to stop the render."""


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
    windows: list[dict] = field(default_factory=list)
    """Each window: what it made, and whether this render made it or found it kept."""


class _Samples:
    """The few frames the previews and the fingerprint need, picked as the frames pass;
    `previews_ready` is called once the previews' frames are all there."""

    def __init__(
        self,
        total: int,
        encode: EncodeOptions | None,
        fingerprint: bool,
        previews_ready: Callable[[], None] = lambda: None,
    ) -> None:
        self.thumbnail = thumbnail_index(total)
        self.sprites = spritesheet_indices(total, encode)
        self.hashed = sample_indices(total) if fingerprint else []
        self.wanted = {self.thumbnail, *self.sprites, *self.hashed}
        self.frames: dict[int, np.ndarray] = {}
        self._previews = {self.thumbnail, *self.sprites}
        self._previews_ready = previews_ready

    def take(self, frames: np.ndarray, first: int) -> None:
        for index in self.wanted.intersection(range(first, first + len(frames))):
            self.frames[index] = frames[index - first].copy()
        if self._previews is not None and self._previews.issubset(self.frames):
            self._previews = None
            self._previews_ready()

    def fingerprint(self) -> list[int]:
        return [
            frame_hash(center_crop(self.frames[i], share)) for i in self.hashed for share in CROPS
        ]


class _Previews:
    """The thumbnail and the spritesheet, written in a thread of their own as soon as their
    frames have passed, so that they overlap the encode (x264 and Pillow let go of the GIL)."""

    def __init__(
        self,
        thumbnail_path: Path | None,
        spritesheet_path: Path | None,
        encode: EncodeOptions | None,
    ) -> None:
        self.thumbnail_path = thumbnail_path
        self.spritesheet_path = spritesheet_path
        self.encode = encode
        self.samples: _Samples | None = None
        self.written: list[Path] = []
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="previews")
        self._pending: Future | None = None

    def start(self) -> None:
        if self._pending is None:
            self._pending = self._pool.submit(self._write)

    def _write(self) -> None:
        samples = self.samples
        assert samples is not None
        if self.thumbnail_path is not None:
            write_thumbnail_frame(
                samples.frames[samples.thumbnail], self.thumbnail_path, self.encode
            )
            self.written.append(Path(self.thumbnail_path))
        if self.spritesheet_path is not None:
            chosen = [samples.frames[i] for i in samples.sprites]
            write_spritesheet_frames(chosen, self.spritesheet_path, self.encode)
            self.written.append(Path(self.spritesheet_path))

    def finish(self) -> None:
        """Wait for the previews (writing them now if they were not started); raises what
        writing them raised."""
        self.start()
        try:
            self._pending.result()  # type: ignore[union-attr]
        finally:
            self._pool.shutdown()

    def discard(self) -> None:
        """Wait for the writer, then remove what it wrote."""
        if self._pending is not None:
            self._pending.exception()
        self._pool.shutdown()
        for path in self.written:
            path.unlink(missing_ok=True)


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
    image: np.ndarray | None = None,
    source: Source | None = None,
    store: WindowStore | None = None,
) -> RenderedVideo:
    """Make `plan` with `model` and write the MP4 (and the previews asked for).

    `image` is the first frame of an image-to-video plan, (1, height, width, 3) uint8;
    `source` the clip an extension continues or an edit transforms. `check_frames` may
    refuse a window's frames (by raising) before they are marked; `watermarks` are drawn into
    every frame, previews included; `credentials` sign the MP4. `store` keeps each finished
    window, and gives back those an earlier attempt finished, which are not made again."""
    store = store or ScratchWindows()
    windows = plan.windows
    config = getattr(model, "config", None)
    colour_match = getattr(config, "window_color_match", "off") == "histogram"
    report = on_progress or (lambda event: None)
    previews = _Previews(thumbnail_path, spritesheet_path, encode)
    samples = previews.samples = _Samples(plan.num_frames, encode, fingerprint, previews.start)
    timings: dict[str, float] = {}
    made: list[dict] = []
    # The one window of a short clip is the clip: written beside it and moved into place,
    # and not kept (there is nothing to resume).
    single = len(windows) == 1
    done = {} if single else store.kept()
    part = Path(video_path).with_name(f".{Path(video_path).name}.window.part")
    try:
        with tempfile.TemporaryDirectory(prefix="openreel-windows-") as scratch:
            segments: list[Path] = []
            tail: np.ndarray | None = None
            anchor: np.ndarray | None = None  # the first window's tail: the clip's palette
            for window in windows:
                anchor = tail if anchor is None else anchor  # set once the first window is made
                where = {"window": window.index + 1, "windows": len(windows)}
                if window.index in done:
                    # 1. A window an earlier attempt kept: its previews' frames, its tail
                    kept = done[window.index]
                    first = window.first
                    for chunk in read_frames(kept.segment, chunk=32):
                        samples.take(chunk, first)
                        first += len(chunk)
                    segments.append(kept.segment)
                    tail = kept.tail
                    made.append({**window.to_dict(), "made": "kept"})
                    continue

                segment = part if single else Path(scratch) / f"window-{window.index:04d}.mp4"
                if window.kind == "source":
                    # 2a. The source clip an extension starts with, marked as this clip's
                    if source is None:
                        raise ValueError("an extension needs its source clip")
                    tail = _encode_source(
                        source, window, plan, segment, encode, samples, watermarks,
                        check_frames, timings, overlap=plan.overlap_frames,
                    )  # fmt: skip
                else:
                    # 2b. A model call: the frames it makes, less the repeats of its condition
                    condition = _condition(window, plan, image, source, tail)
                    if window.kind == "extend" and colour_match and anchor is not None:
                        condition = match_histograms(condition, anchor)
                    generated = model.generate(
                        plan,
                        window=window,
                        condition=condition,
                        on_progress=lambda event, w=where: report(dataclasses.replace(event, **w)),
                        should_cancel=should_cancel,
                    )
                    _add(timings, generated.timings)
                    frames = generated.frames[window.drop : window.drop + window.keep]
                    tail = frames[-plan.overlap_frames :].copy()
                    report(ProgressEvent("encode", 0, 1, **where))
                    _finish(frames, window, plan, segment, encode, samples, watermarks,
                            check_frames, timings)  # fmt: skip
                if not single:
                    store.keep(window, KeptWindow(segment, tail))
                segments.append(segment)
                made.append({**window.to_dict(), "made": "now"})
                report(ProgressEvent("encode", 1, 1, **where))

            # 3. One MP4 from the windows, the previews, the signature: all of them or none
            return _assemble(
                plan, segments, video_path, previews, encode, credentials, samples, timings,
                made, fingerprint,
            )  # fmt: skip
    except BaseException:
        previews.discard()
        raise
    finally:
        part.unlink(missing_ok=True)


def _condition(
    window: Window,
    plan: GenerationPlan,
    image: np.ndarray | None,
    source: Source | None,
    tail: np.ndarray | None,
) -> np.ndarray | None:
    if window.kind == "text":
        return None
    if window.kind == "image":
        if image is None:
            raise ValueError("an image-to-video plan needs its image")
        return image
    if window.kind == "edit":
        if source is None:
            raise ValueError("an edit needs its source clip")
        return np.concatenate(list(source.frames(window.first, window.keep)))
    assert tail is not None  # an extend window always follows another
    return tail


def _finish(
    frames: np.ndarray,
    window: Window,
    plan: GenerationPlan,
    segment: Path,
    encode: EncodeOptions | None,
    samples: _Samples,
    watermarks: Watermarks | None,
    check_frames: FrameCheck | None,
    timings: dict[str, float],
) -> None:
    """Check, mark and encode one window's frames (in place)."""
    with Mp4Writer(segment, plan.fps, plan.width, plan.height, encode) as writer:
        _pass(frames, window.first, plan, samples, watermarks, check_frames, timings)
        _write(writer, frames, timings)


def _encode_source(
    source: Source,
    window: Window,
    plan: GenerationPlan,
    segment: Path,
    encode: EncodeOptions | None,
    samples: _Samples,
    watermarks: Watermarks | None,
    check_frames: FrameCheck | None,
    timings: dict[str, float],
    *,
    overlap: int,
) -> np.ndarray:
    """The source clip, chunk by chunk, into the first segment; returns its last frames."""
    tail = np.zeros((0, plan.height, plan.width, 3), dtype=np.uint8)
    first = window.first
    with Mp4Writer(segment, plan.fps, plan.width, plan.height, encode) as writer:
        for chunk in source.frames(0, window.keep):
            if chunk.shape[1:3] != (plan.height, plan.width):
                raise ValueError(
                    f"the source is {chunk.shape[2]}x{chunk.shape[1]}, the plan {plan.size}"
                )
            tail = np.concatenate([tail, chunk])[-overlap:].copy()
            _pass(chunk, first, plan, samples, watermarks, check_frames, timings)
            _write(writer, chunk, timings)
            first += len(chunk)
    if first - window.first != window.keep:
        raise ValueError(f"the source gave {first - window.first} frames, not {window.keep}")
    return tail


def _pass(
    frames: np.ndarray,
    first: int,
    plan: GenerationPlan,
    samples: _Samples,
    watermarks: Watermarks | None,
    check_frames: FrameCheck | None,
    timings: dict[str, float],
) -> None:
    """What every frame goes through before it is written: the check, the marks (in place),
    and the previews' pick; `first` is the index of the first of them in the clip."""
    if check_frames is not None:
        started = time.perf_counter()
        check_frames(frames)
        _add(timings, {"check": time.perf_counter() - started})
    if watermarks is not None:
        _add(timings, watermarks.apply(frames, plan.fps, start=first, total=plan.num_frames))
    samples.take(frames, first)


def _write(writer: Mp4Writer, frames: np.ndarray, timings: dict[str, float]) -> None:
    started = time.perf_counter()
    writer.write(frames)
    _add(timings, {"encode": time.perf_counter() - started})


def _assemble(
    plan: GenerationPlan,
    segments: list[Path],
    video_path: Path,
    previews: _Previews,
    encode: EncodeOptions | None,
    credentials: ContentCredentials | None,
    samples: _Samples,
    timings: dict[str, float],
    made: list[dict],
    fingerprint: bool,
) -> RenderedVideo:
    started = time.perf_counter()
    written: list[Path] = []  # only what this call wrote: an older file there stays
    try:
        if len(segments) == 1 and segments[0].parent == Path(video_path).parent:
            os.replace(segments[0], video_path)
        elif len(segments) == 1:
            with atomic_path(Path(video_path)) as scratch:
                scratch.write_bytes(segments[0].read_bytes())
        else:
            frames = concat_mp4(segments, Path(video_path), encode)
            if frames != plan.num_frames:
                raise RuntimeError(f"the joined clip has {frames} frames, not {plan.num_frames}")
        written.append(Path(video_path))
        previews.finish()
        _add(timings, {"encode": time.perf_counter() - started})
        if credentials is not None:
            started = time.perf_counter()
            credentials.sign(video_path)
            timings["sign"] = time.perf_counter() - started
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return RenderedVideo(
        plan=plan,
        video_path=Path(video_path),
        thumbnail_path=None if previews.thumbnail_path is None else Path(previews.thumbnail_path),
        spritesheet_path=(
            None if previews.spritesheet_path is None else Path(previews.spritesheet_path)
        ),
        timings=timings,
        fingerprint=samples.fingerprint() if fingerprint else None,
        windows=made,
    )


def _add(timings: dict[str, float], more: dict[str, float]) -> None:
    for stage, seconds in more.items():
        timings[stage] = timings.get(stage, 0.0) + seconds
