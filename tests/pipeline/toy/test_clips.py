"""The toy model's synthetic clips: what the caption says is what the frames show."""

from __future__ import annotations

import random

import numpy as np
import pytest

from pipeline.toy import clips


def centroid_track(frames: np.ndarray, background: str) -> np.ndarray:
    bg = np.array(clips.BACKGROUNDS[background], np.float32)
    mask = np.abs(frames.astype(np.float32) - bg).sum(axis=3) > 60
    ys, xs = np.mgrid[0 : frames.shape[1], 0 : frames.shape[2]]
    return np.array([(xs[m].mean(), ys[m].mean()) for m in mask])


@pytest.mark.parametrize("motion", clips.MOTIONS)
def test_the_shape_moves_the_way_the_caption_says(motion):
    rng = random.Random(1)
    spec = clips.random_spec(("red", "circle", motion, "black"), rng)
    track = centroid_track(clips.render(spec), "black")
    dx, dy = track[-1] - track[0]
    want = clips.DIRECTIONS[motion]
    if motion == "still":
        assert abs(dx) < 0.5 and abs(dy) < 0.5
    else:
        assert np.sign(round(dx)) == want[0] and np.sign(round(dy)) == want[1]
        assert max(abs(dx), abs(dy)) > 8  # about 40 % of a 32-pixel frame


def test_colours_backgrounds_and_anti_aliasing():
    spec = clips.ClipSpec("circle", "green", "still", "white", 0.2, (0.5, 0.5))
    frames = clips.render(spec, frames=3, size=32)
    assert frames.shape == (3, 32, 32, 3) and frames.dtype == np.uint8
    assert tuple(frames[0, 0, 0]) == clips.BACKGROUNDS["white"]
    assert tuple(frames[0, 16, 16]) == clips.COLOURS["green"]
    values = {tuple(p) for p in frames[0].reshape(-1, 3)}
    assert len(values) > 3  # edge pixels blend the two colours


def test_shapes_differ_in_area_for_the_same_size():
    areas = {}
    for shape in clips.SHAPES:
        spec = clips.ClipSpec(shape, "red", "still", "black", 0.2, (0.5, 0.5))
        frame = clips.render(spec, frames=1, size=64)[0].astype(np.float32)
        areas[shape] = (frame[..., 0] > 100).sum()
    assert areas["square"] > areas["circle"] > areas["triangle"]


def test_captions_and_short_prompts():
    assert (
        clips.caption("red", "circle", "right", "black")
        == "a red circle moves to the right on a black background"
    )
    prompt = clips.short_prompt("red", "circle", "right", "black", random.Random(0))
    assert prompt.startswith("red ") and "circle" not in prompt


def test_held_out_combinations_are_unseen_but_their_parts_are_seen():
    train, held = clips.split_combinations(seed=0)
    assert len(train) + len(held) == len(clips.all_combinations()) == 270
    assert not set(train) & set(held) and len(held) >= 40
    for attribute in range(4):
        assert {c[attribute] for c in held} <= {c[attribute] for c in train}
    assert clips.split_combinations(seed=0) == (train, held)  # seeded


@pytest.mark.parametrize("motion", clips.MOTIONS)
def test_a_long_clip_keeps_its_motion_and_wraps_at_the_edges(motion):
    """The windows after the first: the shape moves SPEED a frame for ever, leaving one edge
    and coming back in at the other, never turning round."""
    spec = clips.ClipSpec("square", "blue", motion, "white", 0.17, (0.5, 0.5))
    frames = clips.render_wrapped(spec, first=0, frames=48)
    centre = np.array(clips.position(spec, 40))
    dx, dy = clips.DIRECTIONS[motion]
    travel = 40 * clips.SPEED
    assert np.allclose(centre, ((0.5 + dx * travel) % 1, (0.5 + dy * travel) % 1))
    # the same frame, however the clip is cut into windows
    assert np.array_equal(frames[20:29], clips.render_wrapped(spec, first=20, frames=9))
    if motion != "still":
        # 2.4 frame widths in 48 frames: every frame shows the whole shape's area, some split
        areas = (np.abs(frames.astype(int) - 240).sum(axis=3) > 60).sum(axis=(1, 2))
        assert areas.min() > 0.8 * areas.max()
        edges = np.concatenate([frames[:, :, [0, -1]], frames[:, [0, -1]].swapaxes(1, 2)], 1)
        assert (np.abs(edges.astype(int) - 240).sum(axis=3) > 60).any()  # it crossed one


def test_a_short_clip_of_the_first_window_is_drawn_as_before():
    """render (the stage-1 data) and render_wrapped agree where the shape stays inside."""
    spec = clips.ClipSpec("triangle", "red", "right", "black", 0.14, (0.25, 0.5))
    assert np.array_equal(clips.render(spec), clips.render_wrapped(spec, first=0, frames=9))


def test_captions_say_an_before_a_vowel_and_train_as_they_always_did():
    assert clips.caption("orange", "circle", "up", "gray").startswith("an orange circle")
    assert clips.caption("red", "circle", "up", "gray").startswith("a red circle")
    spec = clips.ClipSpec("circle", "orange", "up", "gray", 0.2, (0.5, 0.5))
    assert spec.trained_caption.startswith("a orange circle")
