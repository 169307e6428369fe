"""The invisible watermark on clips from the tiny model: the payload comes back after the
edits a clip meets (CRF 28, half size, a 10 % crop), and unmarked clips stay unmarked."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.watermark.invisible import (
    InvisibleWatermark,
    WatermarkKey,
    detect,
    mean_luma,
    mean_luma_of_file,
    new_mark_id,
)
from tests.pipeline import clips

KEY = WatermarkKey("a test key that is not the example key")
SIZES = [(128, 128), (64, 64), (256, 256), (832, 480)]
SEEDS = [11, 12, 13]


@pytest.fixture(scope="module")
def marked(load_tiny):
    """(mark id, frames) for a few generated clips, marked once."""
    model = load_tiny("tiny-wan")
    out = []
    for seed in SEEDS:
        frames = clips.generated_frames(model, seed=seed)
        mark_id = new_mark_id()
        InvisibleWatermark(KEY, mark_id).apply(frames)
        out.append((mark_id, frames))
    return out


EDITS = {
    "crf28": lambda f: f,
    "half size": lambda f: clips.resize(f, f.shape[2] // 2, f.shape[1] // 2),
    "half size, scaled back": lambda f: clips.resize(
        clips.resize(f, f.shape[2] // 2, f.shape[1] // 2), f.shape[2], f.shape[1]
    ),
    "10% crop": lambda f: clips.crop(f, 0.10),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_the_payload_survives_an_edit_then_crf28(marked, edit, tmp_path):
    for index, (mark_id, frames) in enumerate(marked):
        path = clips.write(EDITS[edit](frames.copy()), tmp_path / f"{index}.mp4", crf=28)
        found = detect(mean_luma_of_file(path), KEY, sizes=SIZES)
        assert found.detected, (edit, index, found)
        assert found.payload_valid and found.mark_id == mark_id
        assert found.matched_by == "payload"
        assert found.score > 2


def _scaled(frames, factor):
    height, width = frames.shape[1:3]
    return clips.resize(frames, round(width * factor / 2) * 2, round(height * factor / 2) * 2)


def _rotated(frames, degrees):
    from PIL import Image

    return np.stack([np.asarray(Image.fromarray(f).rotate(degrees, Image.BICUBIC)) for f in frames])


UNFORESEEN_EDITS = {
    "flipped left-right": lambda f: np.ascontiguousarray(f[:, :, ::-1]),
    "flipped top-bottom": lambda f: np.ascontiguousarray(f[:, ::-1]),
    "0.75x": lambda f: _scaled(f, 0.75),
    "1.5x": lambda f: _scaled(f, 1.5),
    "rotated 5 degrees": lambda f: _rotated(f, 5),
    "1.5x, then a 10% crop": lambda f: clips.crop(_scaled(f, 1.5), 0.10),
}


@pytest.mark.parametrize("edit", list(UNFORESEEN_EDITS))
def test_flips_any_scale_and_small_rotations_are_undone_without_hints(marked, edit, tmp_path):
    # No output sizes given: the detector finds the scale and angle from the clip itself.
    for index, (mark_id, frames) in enumerate(marked):
        edited = UNFORESEEN_EDITS[edit](frames.copy())
        path = clips.write(edited, tmp_path / f"{index}.mp4", crf=23)
        found = detect(mean_luma_of_file(path), KEY, known_ids=[new_mark_id(), mark_id])
        assert found.detected and found.mark_id == mark_id, (edit, index, found)


def test_frames_below_64_px_carry_no_mark():
    frames = clips.natural_frames(3, count=5, size=(32, 32))
    before = frames.copy()
    InvisibleWatermark(KEY, new_mark_id()).apply(frames)
    assert np.array_equal(frames, before)


def test_a_weak_read_is_still_named_by_the_registry_of_issued_ids(marked, tmp_path):
    # A quarter-size clip is too small for the payload to decode alone, but compared against
    # the ids actually issued, it is recognised.
    mark_id, frames = marked[0]
    small = clips.resize(frames, 32, 32)
    path = clips.write(small, tmp_path / "small.mp4", crf=23)
    others = [new_mark_id() for _ in range(200)]
    found = detect(mean_luma_of_file(path), KEY, sizes=SIZES, known_ids=[*others, mark_id])
    if found.matched_by == "payload":
        assert found.mark_id == mark_id
    else:
        assert found.detected and found.matched_by == "registry" and found.mark_id == mark_id


def test_another_key_reads_nothing(marked):
    mark_id, frames = marked[0]
    found = detect(mean_luma(frames), WatermarkKey("some other secret key!"), sizes=SIZES)
    assert not found.detected and not found.payload_valid


def test_payload_has_a_48_bit_id_and_a_keyed_checksum():
    mark_id = new_mark_id()
    assert 0 < mark_id < 1 << 48
    payload = KEY.payload(mark_id)
    assert KEY.read_payload(payload) == (mark_id, True)
    assert KEY.read_payload(payload ^ 1) == (mark_id, False)  # a flipped checksum bit
    assert not WatermarkKey("some other secret key!").read_payload(payload)[1]


def test_the_mark_is_faint(marked, load_tiny):
    original = clips.generated_frames(load_tiny("tiny-wan"), seed=SEEDS[0])
    difference = marked[0][1].astype(np.float64) - original
    psnr = 10 * np.log10(255**2 / np.mean(difference**2))
    assert psnr > 30


@pytest.mark.slow
def test_false_positives_on_unmarked_clips_are_at_most_one_percent(tmp_path):
    """120 unmarked clips: noise, gradients, real-looking content, encoded or not, at the
    service's sizes and others; none may pass for marked (at most 1 % is the target)."""
    kinds = [clips.noise_frames, clips.gradient_frames, clips.natural_frames]
    known = [new_mark_id() for _ in range(1000)]
    false_positives = []
    scores = []
    for n in range(120):
        make = kinds[n % 3]
        size = [(128, 128), (96, 96), (160, 96), (128, 72)][n % 4]
        frames = make(1000 + n, count=9 + n % 5 * 4, size=size)
        luma = mean_luma(frames)
        if n % 2:  # half of them through x264
            luma = mean_luma_of_file(clips.write(frames, tmp_path / f"{n}.mp4", crf=23 + n % 8))
        found = detect(luma, KEY, sizes=SIZES, known_ids=known)
        scores.append(found.score)
        if found.detected:
            false_positives.append((n, found))
    assert len(false_positives) <= 1, false_positives
    assert max(scores) < 5.0
