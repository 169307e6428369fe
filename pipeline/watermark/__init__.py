"""Watermarks drawn into the frames before encoding: a visible label, an invisible keyed
pattern carrying a mark id, and optionally RivaGAN as a second invisible layer."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from pipeline.config import VisibleWatermarkOptions
from pipeline.watermark.invisible import InvisibleWatermark, WatermarkKey, new_mark_id
from pipeline.watermark.rivagan import RivaGanWatermark
from pipeline.watermark.visible import VisibleWatermark

__all__ = [
    "InvisibleWatermark",
    "RivaGanWatermark",
    "VisibleWatermark",
    "WatermarkKey",
    "Watermarks",
    "new_mark_id",
]


@dataclass(frozen=True)
class Watermarks:
    """The marks for one clip, drawn in this order: visible, invisible, RivaGAN."""

    visible: VisibleWatermarkOptions
    invisible: InvisibleWatermark | None = None
    rivagan: RivaGanWatermark | None = None

    def apply(
        self, frames: np.ndarray, fps: float, *, start: int = 0, total: int | None = None
    ) -> dict[str, float]:
        """Mark (frames, height, width, 3) uint8 frames in place; returns seconds per mark.
        A long clip is marked window by window: `start` is the index of the first of these
        frames in the clip, `total` the clip's length."""
        timings = {}
        started = time.perf_counter()
        VisibleWatermark(self.visible, frames.shape[2], frames.shape[1]).apply(
            frames, fps, start, total
        )
        timings["visible_mark"] = time.perf_counter() - started
        if self.invisible is not None:
            started = time.perf_counter()
            self.invisible.apply(frames, total)
            timings["invisible_mark"] = time.perf_counter() - started
        if self.rivagan is not None:
            started = time.perf_counter()
            self.rivagan.apply(frames, start)
            timings["rivagan_mark"] = time.perf_counter() - started
        return timings
