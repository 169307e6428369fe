"""The visible watermark: a label (text, and a logo if one is configured) drawn on every frame.

In `moving` mode the label travels from corner to corner (clockwise from the top left): it
rests in each corner for most of `move_seconds`, then glides to the next, so no fixed crop or
inpainting of one corner removes it from the whole clip, as with Sora's moving mark.
"""

from __future__ import annotations

import math
from functools import cached_property
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from pipeline.config import VisibleWatermarkOptions

_CORNERS = ("top-left", "top-right", "bottom-right", "bottom-left")
_GLIDE_FRACTION = 0.25
"""Share of each `move_seconds` spent gliding to the next corner."""


class VisibleWatermark:
    """Draws the configured label on frames of one size."""

    def __init__(self, options: VisibleWatermarkOptions, width: int, height: int) -> None:
        self.options = options
        self.width = width
        self.height = height

    @cached_property
    def label(self) -> np.ndarray:
        """The label as (h, w, 4) float32 RGBA in 0-1, opacity applied, fitted to the frame."""
        image = _render_label(self.options, self.width, self.height)
        rgba = np.asarray(image, dtype=np.float32) / 255.0
        rgba[..., 3] *= self.options.opacity
        return rgba

    def position(self, index: int, fps: float) -> tuple[int, int]:
        """Top-left corner (x, y) of the label on frame `index`."""
        label_h, label_w = self.label.shape[:2]
        margin = round(self.options.margin * min(self.width, self.height))
        spots = {
            "top-left": (margin, margin),
            "top-right": (self.width - label_w - margin, margin),
            "bottom-right": (self.width - label_w - margin, self.height - label_h - margin),
            "bottom-left": (margin, self.height - label_h - margin),
        }
        spots = {name: (max(0, x), max(0, y)) for name, (x, y) in spots.items()}
        if self.options.position != "moving":
            return spots[self.options.position]
        t = index / fps / self.options.move_seconds
        leg = math.floor(t)
        start = spots[_CORNERS[leg % 4]]
        end = spots[_CORNERS[(leg + 1) % 4]]
        into = (t - leg - (1 - _GLIDE_FRACTION)) / _GLIDE_FRACTION
        f = 0.0 if into <= 0 else into * into * (3 - 2 * into)  # smoothstep
        return round(start[0] + (end[0] - start[0]) * f), round(start[1] + (end[1] - start[1]) * f)

    def apply(self, frames: np.ndarray, fps: float, start: int = 0) -> np.ndarray:
        """Draw the label on (frames, height, width, 3) uint8 frames in place, the first of
        them frame `start` of the clip; returns them."""
        label = self.label
        alpha = label[..., 3:4]
        color = label[..., :3] * 255.0 * alpha
        keep = 1.0 - alpha
        label_h, label_w = label.shape[:2]
        for index, frame in enumerate(frames, start):
            x, y = self.position(index, fps)
            region = frame[y : y + label_h, x : x + label_w]
            h, w = region.shape[:2]
            blended = region * keep[:h, :w] + color[:h, :w]
            region[...] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
        return frames


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(6, size))


def _render_label(options: VisibleWatermarkOptions, width: int, height: int) -> Image.Image:
    # Light text with a dark outline reads on any background.
    text_height = max(8, round(options.scale * height))
    max_width = int(width * 0.9)
    while True:
        font = _font(text_height)
        stroke = max(1, text_height // 12)
        probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
        left, top, right, bottom = probe.textbbox(
            (0, 0), options.text, font=font, stroke_width=stroke
        )
        logo = _logo(options.logo, bottom - top) if options.logo else None
        gap = text_height // 3 if logo is not None else 0
        total_width = (right - left) + (logo.width + gap if logo is not None else 0)
        if total_width <= max_width or text_height <= 6:
            break
        text_height = max(6, math.floor(text_height * max_width / total_width))
    label_h = max(bottom - top, logo.height if logo is not None else 0)
    image = Image.new("RGBA", (max(1, total_width), max(1, label_h)), (0, 0, 0, 0))
    x = 0
    if logo is not None:
        image.alpha_composite(logo, (0, (label_h - logo.height) // 2))
        x = logo.width + gap
    draw = ImageDraw.Draw(image)
    draw.text(
        (x - left, (label_h - (bottom - top)) // 2 - top),
        options.text,
        font=font,
        fill=(255, 255, 255, 255),
        stroke_width=stroke,
        stroke_fill=(0, 0, 0, 255),
    )
    return image


def _logo(path: Path, height: int) -> Image.Image:
    with Image.open(path) as opened:
        logo = opened.convert("RGBA")
    width = max(1, round(logo.width * height / logo.height))
    return logo.resize((width, max(1, height)), Image.Resampling.LANCZOS)
