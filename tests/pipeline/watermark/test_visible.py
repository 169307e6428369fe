"""The visible label: on every frame, where the options put it, moving between corners."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from pydantic import ValidationError

from pipeline.config import VisibleWatermarkOptions
from pipeline.watermark.visible import VisibleWatermark


def _changed(options: VisibleWatermarkOptions, *, count: int = 48, size=(320, 180)) -> np.ndarray:
    frames = np.full((count, size[1], size[0], 3), 90, np.uint8)
    before = frames.copy()
    VisibleWatermark(options, size[0], size[1]).apply(frames, fps=16)
    return np.any(frames != before, axis=3)  # (frames, height, width)


def _quadrant(mask: np.ndarray) -> str:
    ys, xs = np.nonzero(mask)
    height, width = mask.shape
    return ("top" if ys.mean() < height / 2 else "bottom") + (
        "-left" if xs.mean() < width / 2 else "-right"
    )


def test_every_frame_is_labelled_in_a_corner_by_default_position():
    changed = _changed(VisibleWatermarkOptions(position="bottom-right"))
    assert changed.any(axis=(1, 2)).all()
    assert {_quadrant(frame) for frame in changed} == {"bottom-right"}
    assert changed[0].mean() < 0.15  # a label, not a veil


def test_the_moving_mark_visits_several_corners():
    changed = _changed(VisibleWatermarkOptions(position="moving", move_seconds=0.5), count=64)
    assert changed.any(axis=(1, 2)).all()
    assert len({_quadrant(frame) for frame in changed}) >= 3


def test_the_text_is_configurable_and_a_logo_is_drawn(tmp_path):
    logo = tmp_path / "logo.png"
    Image.new("RGBA", (40, 40), (255, 0, 0, 255)).save(logo)
    short = _changed(VisibleWatermarkOptions(text="AI", position="top-left"))
    with_logo = _changed(VisibleWatermarkOptions(text="AI", position="top-left", logo=logo))
    assert with_logo[0].sum() > short[0].sum()


@pytest.mark.parametrize(
    "options",
    [{"opacity": 0.1}, {"text": ""}, {"position": "nowhere"}, {"scale": 0}],
)
def test_options_that_would_hide_the_mark_are_refused(options):
    with pytest.raises(ValidationError):
        VisibleWatermarkOptions(**options)
