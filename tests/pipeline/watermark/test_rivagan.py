"""The optional RivaGAN layer, on a few frames only (it costs over a second a frame on a CPU)."""

from __future__ import annotations

import pytest

from pipeline.watermark import rivagan
from tests.pipeline import clips

pytestmark = pytest.mark.skipif(
    not rivagan.available(), reason="invisible-watermark and onnxruntime are not installed"
)


def test_rivagan_carries_the_low_32_bits_of_the_mark_id_through_x264(tmp_path):
    # Three frames of plain synthetic content: a bit or two may flip at CRF 28 (the keyed
    # mark is the one held to that); at CRF 23 all 32 come back.
    mark_id = 0x1234_89ABCDEF
    frames = clips.natural_frames(5, count=3, size=(256, 256))
    rivagan.RivaGanWatermark(mark_id).apply(frames)
    decoded = clips.read(clips.write(frames, tmp_path / "r.mp4", crf=23))
    read = rivagan.read(decoded)
    assert read is not None and read.value == mark_id & 0xFFFFFFFF
    assert read.agreement > 0.9


def test_frames_too_small_for_rivagan_are_left_alone():
    frames = clips.natural_frames(6, count=2, size=(128, 128))
    before = frames.copy()
    rivagan.RivaGanWatermark(1).apply(frames)
    assert (frames == before).all()
    assert rivagan.read(frames) is None
