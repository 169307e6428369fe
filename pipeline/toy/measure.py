"""Reading a toy clip's attributes back from its frames: background, foreground colour,
motion (the centroid's track) and shape (how much of its bounding box the shape fills)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.toy import clips

# A filled circle covers pi/4 of its bounding box, a square all of it, a triangle half.
FILL = {"square": 1.0, "circle": np.pi / 4, "triangle": 0.5}


@dataclass(frozen=True)
class Measured:
    colour: str | None
    shape: str | None
    motion: str | None
    background: str

    def as_dict(self) -> dict[str, str | None]:
        return {
            "colour": self.colour,
            "shape": self.shape,
            "motion": self.motion,
            "background": self.background,
        }


def _nearest(value: np.ndarray, table: dict[str, tuple[int, int, int]]) -> str:
    return min(table, key=lambda name: float(np.sum((value - np.array(table[name])) ** 2)))


def measure(frames: np.ndarray) -> Measured:
    """Attributes of (frames, height, width, 3) uint8 RGB frames."""
    video = frames.astype(np.float32)
    count, height, width, _ = video.shape
    border = np.concatenate(
        [video[:, 0], video[:, -1], video[:, :, 0], video[:, :, -1]], axis=1
    ).reshape(-1, 3)
    background_colour = np.median(border, axis=0)
    background = _nearest(background_colour, clips.BACKGROUNDS)
    mask = np.abs(video - background_colour).sum(axis=3) > 90
    if mask.sum() < count * 4:
        return Measured(None, None, None, background)
    colour = _nearest(np.median(video[mask], axis=0), clips.COLOURS)
    ys, xs = np.mgrid[0:height, 0:width]
    track, fills = [], []
    for frame_mask in mask:
        if frame_mask.sum() < 4:
            continue
        y, x = ys[frame_mask], xs[frame_mask]
        track.append((x.mean(), y.mean()))
        box = (x.max() - x.min() + 1) * (y.max() - y.min() + 1)
        fills.append(frame_mask.sum() / box)
    fill = float(np.median(fills))
    shape = min(FILL, key=lambda name: abs(FILL[name] - fill))
    dx, dy = np.array(track[-1]) - np.array(track[0])
    if max(abs(dx), abs(dy)) < 0.12 * width:
        motion = "still"
    elif abs(dx) > abs(dy):
        motion = "right" if dx > 0 else "left"
    else:
        motion = "down" if dy > 0 else "up"
    return Measured(colour, shape, motion, background)
