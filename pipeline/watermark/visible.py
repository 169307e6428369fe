"""The visible watermark: a label (text, and a logo if one is configured) drawn on every frame.

Legible at every size: the text is `scale` of the frame's height, at least 8 px, and at most
half the frame's width; where the whole text would not fit, its first part ("AI-generated")
or the short text ("AI") is drawn instead.

In `moving` mode the label goes round the frame, touching the middle of the top, right,
bottom and left edges in turn: it rests at each for half a leg, then glides to the next.
A leg lasts `move_seconds`, or a quarter of the clip when that is shorter, so every clip,
however short, visits every edge, and cropping away any band of 10 % along one edge leaves
the label whole on most frames (it is near one edge at a time, and only briefly).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from pipeline.config import VisibleWatermarkOptions

_EDGES = ("top", "right", "bottom", "left")
_GLIDE_FRACTION = 0.5
"""Share of each leg spent gliding to the next edge."""
MIN_TEXT_HEIGHT = 8
"""Pixels: the least height at which the label's letters are drawn (readable)."""
MAX_WIDTH_SHARE = 0.5
"""The label never takes more than this share of the frame's width, so that it can stand
clear of an edge band on either side."""


class VisibleWatermark:
    """Draws the configured label on frames of one size."""

    def __init__(self, options: VisibleWatermarkOptions, width: int, height: int) -> None:
        self.options = options
        self.width = width
        self.height = height

    @cached_property
    def _fit(self) -> tuple[str, int]:
        return _fitted(self.options, self.width, self.height)

    @property
    def text(self) -> str:
        """The text drawn at this frame size (the whole text, its first part, or the short
        one)."""
        return self._fit[0]

    @cached_property
    def label(self) -> np.ndarray:
        """The label as (h, w, 4) float32 RGBA in 0-1, opacity applied, fitted to the frame."""
        image = _render_label(self.options, *self._fit)
        rgba = np.asarray(image, dtype=np.float32) / 255.0
        rgba[..., 3] *= self.options.opacity
        return rgba

    def spots(self) -> dict[str, tuple[int, int]]:
        """Top-left corner (x, y) of the label at each edge and corner."""
        label_h, label_w = self.label.shape[:2]
        margin = round(self.options.margin * min(self.width, self.height))
        right, bottom = self.width - label_w - margin, self.height - label_h - margin
        centre_x, centre_y = (self.width - label_w) // 2, (self.height - label_h) // 2
        spots = {
            "top-left": (margin, margin),
            "top-right": (right, margin),
            "bottom-right": (right, bottom),
            "bottom-left": (margin, bottom),
            "top": (centre_x, margin),
            "right": (right, centre_y),
            "bottom": (centre_x, bottom),
            "left": (margin, centre_y),
        }
        return {name: (max(0, x), max(0, y)) for name, (x, y) in spots.items()}

    def position(self, index: int, fps: float, total: int | None = None) -> tuple[int, int]:
        """Top-left corner (x, y) of the label on frame `index` of a clip of `total` frames
        (None: as long as a full round of `move_seconds` legs)."""
        spots = self.spots()
        if self.options.position != "moving":
            return spots[self.options.position]
        leg_seconds = self.options.move_seconds
        if total is not None:
            leg_seconds = min(leg_seconds, total / fps / len(_EDGES))
        t = index / fps / leg_seconds
        leg = math.floor(t)
        start = spots[_EDGES[leg % 4]]
        end = spots[_EDGES[(leg + 1) % 4]]
        into = (t - leg - (1 - _GLIDE_FRACTION)) / _GLIDE_FRACTION
        f = 0.0 if into <= 0 else into * into * (3 - 2 * into)  # smoothstep
        return round(start[0] + (end[0] - start[0]) * f), round(start[1] + (end[1] - start[1]) * f)

    def apply(
        self, frames: np.ndarray, fps: float, start: int = 0, total: int | None = None
    ) -> np.ndarray:
        """Draw the label on (frames, height, width, 3) uint8 frames in place, the first of
        them frame `start` of a clip of `total` frames (None: these frames are the clip);
        returns them."""
        total = len(frames) if total is None and start == 0 else total
        label = self.label
        alpha = label[..., 3:4]
        color = label[..., :3] * 255.0 * alpha
        keep = 1.0 - alpha
        label_h, label_w = label.shape[:2]
        for index, frame in enumerate(frames, start):
            x, y = self.position(index, fps, total)
            region = frame[y : y + label_h, x : x + label_w]
            h, w = region.shape[:2]
            blended = region * keep[:h, :w] + color[:h, :w]
            region[...] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
        return frames


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(6, size))


@dataclass(frozen=True)
class _Layout:
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont
    stroke: int
    box: tuple[int, int, int, int]
    """The text's bounding box (left, top, right, bottom), outline included."""
    logo: Image.Image | None
    gap: int
    width: int
    """The whole label's width: logo, gap and text."""


def _layout(options: VisibleWatermarkOptions, text: str, text_height: int) -> _Layout:
    font = _font(text_height)
    stroke = max(1, text_height // 12)
    probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    left, top, right, bottom = probe.textbbox((0, 0), text, font=font, stroke_width=stroke)
    logo = _logo(options.logo, bottom - top) if options.logo else None
    gap = text_height // 3 if logo is not None else 0
    width = (right - left) + (logo.width + gap if logo is not None else 0)
    return _Layout(font, stroke, (left, top, right, bottom), logo, gap, width)


def _fitted(options: VisibleWatermarkOptions, width: int, height: int) -> tuple[str, int]:
    """(text, text height): the longest form of the text that fits half the frame's width at
    a legible height, as large as `scale` asks or shrunk to fit."""
    wanted = max(MIN_TEXT_HEIGHT, round(options.scale * height))
    max_width = max(1, int(width * MAX_WIDTH_SHARE))
    forms = [options.text]
    if " · " in options.text:
        forms.append(options.text.split(" · ")[0])
    forms.append(options.short_text)
    for text in forms:
        text_height = wanted
        while text_height >= MIN_TEXT_HEIGHT:
            label_width = _layout(options, text, text_height).width
            if label_width <= max_width:
                return text, text_height
            text_height = min(text_height - 1, math.floor(text_height * max_width / label_width))
    return options.short_text, MIN_TEXT_HEIGHT  # wider than half the frame, but legible


def _render_label(options: VisibleWatermarkOptions, text: str, text_height: int) -> Image.Image:
    # Light text with a dark outline reads on any background.
    layout = _layout(options, text, text_height)
    left, top, right, bottom = layout.box
    logo, gap, total_width = layout.logo, layout.gap, layout.width
    label_h = max(bottom - top, logo.height if logo is not None else 0)
    image = Image.new("RGBA", (max(1, total_width), max(1, label_h)), (0, 0, 0, 0))
    x = 0
    if logo is not None:
        image.alpha_composite(logo, (0, (label_h - logo.height) // 2))
        x = logo.width + gap
    draw = ImageDraw.Draw(image)
    draw.text(
        (x - left, (label_h - (bottom - top)) // 2 - top),
        text,
        font=layout.font,
        fill=(255, 255, 255, 255),
        stroke_width=layout.stroke,
        stroke_fill=(0, 0, 0, 255),
    )
    return image


def _logo(path: Path, height: int) -> Image.Image:
    with Image.open(path) as opened:
        logo = opened.convert("RGBA")
    width = max(1, round(logo.width * height / logo.height))
    return logo.resize((width, max(1, height)), Image.Resampling.LANCZOS)
