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


def test_the_moving_mark_visits_several_quadrants():
    changed = _changed(VisibleWatermarkOptions(position="moving", move_seconds=0.5), count=64)
    assert changed.any(axis=(1, 2)).all()
    assert len({_quadrant(frame) for frame in changed}) >= 3


SIZES = [(32, 32), (64, 64), (128, 128), (256, 256), (832, 480), (480, 832), (1280, 720)]


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_label_is_legible_at_every_size_the_service_makes(width, height):
    label = VisibleWatermark(VisibleWatermarkOptions(), width, height)
    assert label.label.shape[0] >= 7  # letters drawn at 8 px or more
    assert label.label.shape[1] <= max(width // 2, 12)
    expected = {32: "AI", 64: "AI", 128: "AI-generated"}.get(min(width, height))
    assert label.text == (expected or "AI-generated · OpenReel")


def _boxes(width, height, frames, fps=16, **options):
    label = VisibleWatermark(VisibleWatermarkOptions(**options), width, height)
    h, w = label.label.shape[:2]
    return [
        (x, y, x + w, y + h) for x, y in (label.position(i, fps, frames) for i in range(frames))
    ]


@pytest.mark.parametrize(("width", "height"), SIZES)
@pytest.mark.parametrize("frames", [9, 17, 33, 56, 81, 161, 481, 961])
def test_every_clip_visits_every_edge_and_a_10_percent_crop_keeps_the_label(width, height, frames):
    boxes = _boxes(width, height, frames)
    bands = {
        "top": lambda box: box[1] < 0.1 * height,
        "bottom": lambda box: box[3] > 0.9 * height,
        "left": lambda box: box[0] < 0.1 * width,
        "right": lambda box: box[2] > 0.9 * width,
    }
    for edge, cut in bands.items():
        touched = [cut(box) for box in boxes]
        assert any(touched), f"{edge} edge never visited"
        # Cropping that band away leaves the whole label on at least half of the frames.
        assert sum(not t for t in touched) >= len(boxes) / 2, edge
    for x0, y0, x1, y1 in boxes:
        assert 0 <= x0 and x1 <= width and 0 <= y0 and y1 <= height


def test_a_clip_marked_window_by_window_moves_the_label_as_one_clip():
    options = VisibleWatermarkOptions()
    whole = np.full((40, 128, 128, 3), 90, np.uint8)
    parts = whole.copy()
    VisibleWatermark(options, 128, 128).apply(whole, fps=16)
    VisibleWatermark(options, 128, 128).apply(parts[:20], fps=16, start=0, total=40)
    VisibleWatermark(options, 128, 128).apply(parts[20:], fps=16, start=20, total=40)
    assert np.array_equal(whole, parts)


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
