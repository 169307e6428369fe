"""Encoding: exact frames and fps, faststart, previews, and nothing half-written."""

from __future__ import annotations

import av
import numpy as np
import pytest
from PIL import Image

from pipeline.config import EncodeOptions
from pipeline.encode import encode_mp4, write_spritesheet, write_thumbnail


def moving_frames(count=25, height=96, width=160):
    y, x = np.mgrid[0:height, 0:width]
    return np.stack(
        [
            np.stack([(x + 4 * t) % 256, (y + 2 * t) % 256, np.full_like(x, 8 * t % 256)], -1)
            for t in range(count)
        ]
    ).astype(np.uint8)


@pytest.mark.parametrize("fps", [8, 16, 24])
def test_mp4_has_exactly_the_frames_and_fps(tmp_path, fps):
    frames = moving_frames()
    path = tmp_path / "clip.mp4"
    encode_mp4(frames, fps, path)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        assert stream.average_rate == fps
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert float(stream.duration * stream.time_base) == pytest.approx(len(frames) / fps)
    assert len(decoded) == len(frames)
    # Lossy, but close: the content survives.
    assert np.abs(decoded[10].astype(int) - frames[10].astype(int)).mean() < 12


def test_mp4_index_comes_first_for_streaming(tmp_path):
    path = tmp_path / "clip.mp4"
    encode_mp4(moving_frames(), 16, path)
    head = path.read_bytes()
    assert head.index(b"moov") < head.index(b"mdat")


def test_same_frames_give_the_same_file(tmp_path):
    frames = moving_frames()
    encode_mp4(frames, 16, tmp_path / "a.mp4")
    encode_mp4(frames, 16, tmp_path / "b.mp4")
    assert (tmp_path / "a.mp4").read_bytes() == (tmp_path / "b.mp4").read_bytes()


def test_thumbnail_is_a_webp_of_the_middle_frame_at_most_the_configured_width(tmp_path):
    frames = moving_frames(width=640, height=384)
    write_thumbnail(frames, tmp_path / "t.webp", EncodeOptions(thumbnail_width=320))
    image = Image.open(tmp_path / "t.webp")
    assert image.format == "WEBP" and image.size == (320, 192)
    small = moving_frames()
    write_thumbnail(small, tmp_path / "s.webp")
    assert Image.open(tmp_path / "s.webp").size == (160, 96)  # never upscaled


def test_spritesheet_is_a_grid_of_evenly_spaced_frames(tmp_path):
    frames = moving_frames(count=33)
    options = EncodeOptions(spritesheet_columns=4, spritesheet_rows=2, spritesheet_tile_width=80)
    write_spritesheet(frames, tmp_path / "s.jpg", options)
    sheet = Image.open(tmp_path / "s.jpg")
    assert sheet.format == "JPEG" and sheet.size == (4 * 80, 2 * 48)
    # The last tile is the last frame: compare its mean colour.
    last_tile = np.asarray(sheet)[48:, 240:].astype(float)
    expected = np.asarray(Image.fromarray(frames[-1]).resize((80, 48))).astype(float)
    assert np.abs(last_tile.mean((0, 1)) - expected.mean((0, 1))).max() < 8


def test_spritesheet_of_a_short_clip_uses_every_frame(tmp_path):
    write_spritesheet(moving_frames(count=3), tmp_path / "s.jpg", EncodeOptions())
    assert Image.open(tmp_path / "s.jpg").size == (3 * 160, 96)


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        (np.zeros((5, 63, 64, 3), np.uint8), "even width and height"),
        (np.zeros((5, 64, 64, 3), np.float32), "uint8"),
        (np.zeros((0, 64, 64, 3), np.uint8), "non-empty"),
        (np.zeros((5, 64, 64), np.uint8), "non-empty"),
    ],
)
def test_bad_frames_are_refused_and_nothing_is_written(tmp_path, frames, message):
    with pytest.raises(ValueError, match=message):
        encode_mp4(frames, 16, tmp_path / "x.mp4")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_neither_the_file_nor_a_scratch_file(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(av.VideoFrame, "from_ndarray", broken)
    with pytest.raises(OSError, match="disk full"):
        encode_mp4(moving_frames(), 16, tmp_path / "x.mp4")
    assert list(tmp_path.iterdir()) == []
