"""A picture of the toy model at work: a few prompts, each beside frames of its clip."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from pipeline.toy.evaluate import render, render_long

SCALE = 3
FRAMES_SHOWN = 5


def spritesheet(
    model,
    prompts: Sequence[str],
    recaption: Callable[[str], str],
    out: Path,
    *,
    seed: int = 0,
    seconds: float | None = None,
    every: float = 5.0,
) -> Path:
    """One row per prompt: five frames of its clip, or with `seconds`, a frame every `every`
    seconds of a clip that long (made window by window, as the service makes it)."""
    font = ImageFont.load_default(size=14)
    rows = []
    for index, prompt in enumerate(prompts):
        if seconds is None:
            frames = render(model, recaption(prompt), seed=seed + index)
            picks = np.linspace(0, len(frames) - 1, FRAMES_SHOWN).round().astype(int)
        else:
            frames = render_long(model, recaption(prompt), seconds=seconds, seed=seed + index)
            fps = model.family.fps
            picks = [
                min(len(frames) - 1, round(t * fps)) for t in np.arange(0, seconds + 1e-9, every)
            ]
        strip = np.concatenate([frames[i] for i in picks], axis=1)
        image = Image.fromarray(strip).resize(
            (strip.shape[1] * SCALE, strip.shape[0] * SCALE), Image.Resampling.NEAREST
        )
        row = Image.new("RGB", (340 + image.width, image.height), "white")
        ImageDraw.Draw(row).text((8, image.height // 2 - 8), f'"{prompt}"', fill="black", font=font)
        row.paste(image, (340, 0))
        rows.append(row)
    sheet = Image.new("RGB", (rows[0].width, sum(r.height + 4 for r in rows)), "white")
    y = 0
    for row in rows:
        sheet.paste(row, (0, y))
        y += row.height + 4
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    return out
