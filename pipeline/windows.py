"""Long clips as windows: one model call each, every window after the first conditioned on
the last frames of the one before.

A model makes at most `window_frames` frames per call. A clip longer than that is cut into
windows; window k + 1 is given the last `overlap` frames of window k as its first frames
(through the model's image or condition pipeline), and those frames, which repeat what the
clip already has, are dropped from its output. An extension starts with the source clip as
window 0; an edit transforms the source window by window.

The last window renders the smallest legal frame count that covers what is left, so it may
make up to `frame_step - 1` frames more than the clip needs: they are cut off its end and
reported as `trimmed`. No torch here: a request is planned before any model is loaded,
and the service keeps windows without loading one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from pipeline.encode import read_frames
from pipeline.families import Mode, ModelFamily

WindowKind = Literal["source", "text", "image", "extend", "edit"]


@dataclass(frozen=True)
class Window:
    """One model call of a clip (or, for `source`, the frames taken from a source clip)."""

    index: int
    kind: WindowKind
    first: int
    """Index in the clip of the first frame this window adds."""
    render: int
    """Frames the model call makes (0 for the source window)."""
    drop: int
    """Leading frames of the call that repeat its condition and are not kept."""
    keep: int
    """Frames this window adds to the clip."""

    @property
    def trimmed(self) -> int:
        """Frames the call made past what the clip needs, cut off its end."""
        return max(0, self.render - self.drop - self.keep)

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "kind": self.kind,
            "first_frame": self.first,
            "frames": self.keep,
            "rendered": self.render,
            "dropped": self.drop,
            "trimmed": self.trimmed,
        }


def plan_windows(
    family: ModelFamily,
    *,
    mode: Mode,
    new_frames: int,
    window_frames: int,
    overlap: int,
    source_frames: int = 0,
) -> tuple[Window, ...]:
    """The windows that make `new_frames` frames in `mode` (after `source_frames` taken from
    a source clip, for `extend`; of the source, for `edit`)."""
    if new_frames < 1:
        raise ValueError(f"new_frames must be at least 1, got {new_frames}")
    windows: list[Window] = []
    if mode == "edit":
        made = 0
        while made < new_frames:
            keep = min(window_frames, new_frames - made)
            render = max(family.snap_frames(keep), family.min_frames)
            windows.append(Window(len(windows), "edit", made, render, 0, keep))
            made += keep
        return tuple(windows)

    start = 0
    if mode == "extend":
        windows.append(Window(0, "source", 0, 0, 0, source_frames))
        start = source_frames
    made = 0
    while made < new_frames:
        conditioned = bool(windows)
        kind: WindowKind = "extend" if conditioned else mode  # type: ignore[assignment]
        drop = overlap if conditioned else 0
        need = new_frames - made
        render = min(window_frames, family.snap_frames(need + drop))
        keep = min(render - drop, need)
        windows.append(Window(len(windows), kind, start + made, render, drop, keep))
        made += keep
    return tuple(windows)


class Source(Protocol):
    """The clip an extension continues or an edit transforms, at the plan's size and fps."""

    def frames(self, start: int, count: int) -> Iterator[np.ndarray]:
        """Frames start .. start + count - 1, as (n, height, width, 3) uint8 chunks."""
        ...


class FileSource:
    """A video file as a source, resampled to `fps`."""

    def __init__(self, path: Path, fps: int) -> None:
        self.path = Path(path)
        self.fps = fps

    def frames(self, start: int, count: int) -> Iterator[np.ndarray]:
        return read_frames(self.path, fps=self.fps, start=start, count=count)


@dataclass(frozen=True)
class KeptWindow:
    segment: Path
    """The window's frames, marked, as an MP4 segment."""
    tail: np.ndarray
    """Its last frames as made, before marks: what the next window is conditioned on."""


class WindowStore(Protocol):
    """Where finished windows are kept while a clip is made."""

    def kept(self) -> dict[int, KeptWindow]:
        """Windows an earlier attempt finished, by index."""
        ...

    def keep(self, window: Window, kept: KeptWindow) -> None:
        """Keep a finished window (its segment may be removed once this returns)."""
        ...


class ScratchWindows:
    """Windows kept in memory, their segments in `directory` (by default they are only
    referenced, and last as long as the render that made them)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self._kept: dict[int, KeptWindow] = {}

    def kept(self) -> dict[int, KeptWindow]:
        return dict(self._kept)

    def keep(self, window: Window, kept: KeptWindow) -> None:
        if self.directory is not None:
            copy = self.directory / f"window-{window.index:04d}.mp4"
            copy.write_bytes(kept.segment.read_bytes())
            kept = KeptWindow(copy, kept.tail)
        self._kept[window.index] = kept
