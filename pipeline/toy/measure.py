"""Reading a toy clip's attributes back from its frames: background, foreground colour,
motion (the centroid's track) and shape (which of the three shapes, drawn at the same area
and centroid, best matches the foreground's coverage).

Shapes wrap at the edges (a long clip's shape leaves one side and comes back in at the
other), so positions are read on a torus: the centroid is a circular mean, a move between
frames is the shorter way round, and a frame is rolled to put its shape in the middle
before the shape is read."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from pipeline.toy import clips


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


@cache
def _unit_shape(shape: str) -> tuple[float, float, float]:
    """(area at radius 1, centroid's offset from the drawing centre in x and y, in radii)."""
    size, radius = 256, 0.25
    coverage = clips.draw(shape, size, (0.5, 0.5), radius)
    ys, xs = clips.pixel_centres(size)
    total = coverage.sum()
    return (
        total / size**2 / radius**2,
        ((xs * coverage).sum() / total - 0.5) / radius,
        ((ys * coverage).sum() / total - 0.5) / radius,
    )


def _shape_distances(alpha: np.ndarray) -> dict[str, float]:
    """L1 distance from one frame's foreground coverage to each shape drawn with the same
    area and centroid: blur costs every shape alike, corners and points decide."""
    size = alpha.shape[0]
    total = alpha.sum()
    ys, xs = clips.pixel_centres(size)
    cx, cy = (xs * alpha).sum() / total, (ys * alpha).sum() / total
    distances = {}
    for shape in clips.SHAPES:
        unit_area, dx, dy = _unit_shape(shape)
        radius = float(np.sqrt(total / size**2 / unit_area))
        template = clips.draw(shape, size, (cx - dx * radius, cy - dy * radius), radius)
        distances[shape] = float(np.abs(alpha - template).sum())
    return distances


def _circular_mean(mask: np.ndarray, axis: int) -> float:
    """Where along `axis` (1: x, 0: y) the mask's pixels sit, as a circular mean in pixels
    (0 .. size): a shape split across an edge is one shape."""
    size = mask.shape[axis]
    weights = mask.sum(axis=1 - axis).astype(np.float64)
    angles = (np.arange(size) + 0.5) * (2 * np.pi / size)
    angle = np.arctan2((weights * np.sin(angles)).sum(), (weights * np.cos(angles)).sum())
    return float((angle % (2 * np.pi)) * size / (2 * np.pi) - 0.5)


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
    foreground_colour = np.median(video[mask], axis=0)
    colour = _nearest(foreground_colour, clips.COLOURS)

    # Coverage: how far each pixel lies from the background towards the foreground colour.
    direction = foreground_colour - background_colour
    alpha = np.clip((video - background_colour) @ direction / float(direction @ direction), 0, 1)
    alpha = np.where(mask | (alpha > 0.5), alpha, 0.0)  # faint haze is not the shape
    track = []
    distances = dict.fromkeys(clips.SHAPES, 0.0)
    shaped = 0
    for frame_alpha, frame_mask in zip(alpha, mask, strict=True):
        if frame_mask.sum() < 4:
            continue
        cx, cy = _circular_mean(frame_mask, 1), _circular_mean(frame_mask, 0)
        track.append((cx, cy))
        if height == width and frame_alpha.sum() >= 2:
            shaped += 1
            centred = np.roll(
                frame_alpha, (height // 2 - round(cy), width // 2 - round(cx)), axis=(0, 1)
            )
            for shape, distance in _shape_distances(centred).items():
                distances[shape] += distance
    shape = min(distances, key=distances.get) if shaped else None
    steps = np.diff(np.array(track), axis=0) if len(track) > 1 else np.zeros((1, 2))
    steps = (steps + np.array([width, height]) / 2) % np.array([width, height])
    steps -= np.array([width, height]) / 2  # each move the shorter way round
    dx, dy = steps.sum(axis=0)
    if max(abs(dx), abs(dy)) < 0.12 * width:
        motion = "still"
    elif abs(dx) > abs(dy):
        motion = "right" if dx > 0 else "left"
    else:
        motion = "down" if dy > 0 else "up"
    return Measured(colour, shape, motion, background)
