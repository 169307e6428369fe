"""Colour anchoring of long clips: conditioning frames put back on the first window's
palette, and applied by render_video only where the model's config asks for it."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.colour_match import match_histograms
from pipeline.render import render_video
from pipeline.request import GenerationRequest
from tests.pipeline.test_long import FAST


def scene(background, shape, x: int) -> np.ndarray:
    frame = np.empty((1, 32, 32, 3), dtype=np.uint8)
    frame[:] = background
    frame[0, 10:18, x : x + 8] = shape
    return frame


def test_a_drifted_frame_gets_the_first_windows_colours_back_and_keeps_its_layout():
    reference = scene((255, 255, 255), (0, 200, 0), x=2)
    drifted = scene((228, 231, 240), (30, 140, 120), x=20)  # later, elsewhere, off colour
    matched = match_histograms(drifted, reference)
    assert np.abs(matched.astype(int) - scene((255, 255, 255), (0, 200, 0), x=20)).max() <= 1
    assert matched.shape == drifted.shape and matched.dtype == np.uint8


def test_a_frame_already_on_the_palette_is_unchanged():
    reference = scene((0, 0, 0), (220, 30, 30), x=5)
    assert np.array_equal(match_histograms(reference, reference), reference)


def test_only_uint8_frames_are_taken():
    with pytest.raises(ValueError, match="uint8"):
        match_histograms(np.zeros((1, 4, 4, 3), np.float32), np.zeros((1, 4, 4, 3), np.uint8))


@pytest.mark.parametrize("setting", ["off", "histogram"])
def test_render_matches_each_windows_condition_to_the_first_only_when_asked(
    i2v, tmp_path, monkeypatch, setting
):
    monkeypatch.setattr(
        i2v, "config", i2v.config.model_copy(update={"window_color_match": setting})
    )
    conditions = []
    real = i2v.generate

    def generate(plan, **kwargs):
        conditions.append((kwargs["window"].index, kwargs["condition"]))
        made = real(plan, **kwargs)
        if kwargs["window"].index == 1:  # a window that drifts: the next one starts from it
            made.frames[:] = (made.frames.astype(int) * 0.7).astype(np.uint8)
        return made

    monkeypatch.setattr(i2v, "generate", generate)
    plan = i2v.plan(GenerationRequest("a red kite over the sea", seconds=1.5625, **FAST))
    render_video(i2v, plan, tmp_path / "long.mp4")
    first_tail, drifted_tail = conditions[1][1], conditions[2][1]
    mean_gap = abs(float(drifted_tail.mean()) - float(first_tail.mean()))
    if setting == "histogram":
        assert mean_gap < 3  # back on the first window's palette
    else:
        assert mean_gap > 20  # the darker window is passed on as it is
