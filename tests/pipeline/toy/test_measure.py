"""The attribute reader is an oracle only if it reads the synthetic clips themselves right."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image, ImageFilter

from pipeline.toy import clips
from pipeline.toy.measure import measure

ATTRIBUTES = ("colour", "shape", "motion", "background")


def _misread(render) -> list:
    rng = random.Random(0)
    wrong = []
    for combo in clips.all_combinations():
        got = measure(render(clips.random_spec(combo, rng))).as_dict()
        wrong += [(combo, a, got[a]) for a, v in zip(ATTRIBUTES, combo, strict=True) if got[a] != v]
    return wrong


def test_measure_reads_every_attribute_of_rendered_clips():
    assert _misread(clips.render) == []


def test_measure_reads_larger_and_longer_clips():
    assert _misread(lambda spec: clips.render(spec, frames=17, size=64)) == []


def test_a_slight_blur_does_not_change_the_shape_read():
    """Decoded clips are softer than the renders: the reader must not call every soft square
    or triangle a circle (a bounding-box fill reader did)."""

    def blurred(spec):
        frames = clips.render(spec)
        soft = ImageFilter.GaussianBlur(0.7)
        return np.stack([np.asarray(Image.fromarray(f).filter(soft)) for f in frames])

    assert _misread(blurred) == []


@pytest.mark.parametrize("background", ["black", "white"])
def test_an_empty_clip_has_a_background_and_nothing_else(background):
    frames = np.zeros((9, 32, 32, 3), np.uint8) + np.array(clips.BACKGROUNDS[background], np.uint8)
    got = measure(frames)
    assert (got.background, got.colour, got.shape, got.motion) == (background, None, None, None)


def test_measure_reads_long_clips_a_second_at_a_time_across_the_edges():
    """A long clip's shape wraps at the edges: each second is read right, split or not."""
    rng = random.Random(3)
    wrong = []
    for combo in clips.all_combinations():
        spec = clips.random_wrapped_spec(combo, rng)
        for first in (0, 16 * 7, 16 * 33):
            got = measure(clips.render_wrapped(spec, first=first, frames=16)).as_dict()
            wrong += [
                (combo, a, got[a]) for a, v in zip(ATTRIBUTES, combo, strict=True) if got[a] != v
            ]
    assert wrong == []


def test_a_shape_split_across_an_edge_is_one_shape_moving_on():
    spec = clips.ClipSpec("square", "green", "left", "black", 0.2, (0.04, 0.5))
    got = measure(clips.render_wrapped(spec, first=0, frames=16))
    assert (got.shape, got.motion) == ("square", "left")
