"""Frames -> files, in-process with PyAV and Pillow: an H.264 MP4, a WebP thumbnail, a JPEG
spritesheet. Every file is written to a temporary name beside its target and renamed into
place, so a reader never sees half a file and a failure leaves nothing behind."""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace, ColorTrc, Interpolation
from PIL import Image

from pipeline.config import EncodeOptions


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A temporary path beside `target` that becomes `target` if the block succeeds."""
    target = Path(target)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    scratch = Path(name)
    try:
        yield scratch
        os.replace(scratch, target)
    finally:
        scratch.unlink(missing_ok=True)


def _check_frames(frames: np.ndarray) -> None:
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
        raise ValueError(
            f"frames must be a non-empty (frames, height, width, 3) uint8 array, got "
            f"{frames.dtype} {frames.shape}"
        )


def encode_mp4(
    frames: np.ndarray, fps: int, path: Path, options: EncodeOptions | None = None
) -> None:
    """Write an H.264 (yuv420p) MP4 with exactly these frames at exactly `fps`, moov first."""
    options = options or EncodeOptions()
    _check_frames(frames)
    _, height, width, _ = frames.shape
    if width % 2 or height % 2:
        raise ValueError(f"yuv420p needs an even width and height, got {width}x{height}")
    with atomic_path(Path(path)) as scratch:
        # faststart moves the index to the front so players can start before the end arrives.
        with av.open(
            str(scratch), mode="w", format="mp4", options={"movflags": "+faststart"}
        ) as out:
            stream = out.add_stream("libx264", rate=Fraction(fps))
            stream.width = width
            stream.height = height
            stream.pix_fmt = "yuv420p"
            stream.codec_context.time_base = Fraction(1, fps)
            stream.codec_context.thread_count = options.threads
            # Tag what the frames are converted to: untagged video is read as BT.601 or
            # BT.709 depending on its size, which shifts colours in one case or the other.
            stream.codec_context.colorspace = Colorspace.ITU709
            stream.codec_context.color_primaries = ColorPrimaries.BT709
            stream.codec_context.color_trc = ColorTrc.BT709
            stream.codec_context.color_range = ColorRange.MPEG
            stream.options = {
                "crf": str(options.crf),
                "preset": options.preset,
                "x264-params": f"mbtree={int(options.mbtree)}",
            }
            for index, pixels in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(
                    format="yuv420p",
                    dst_colorspace=Colorspace.ITU709,
                    dst_color_range=ColorRange.MPEG,
                    dst_color_primaries=ColorPrimaries.BT709,
                    dst_color_trc=ColorTrc.BT709,
                    # A 2x2 box average is the right filter for 4:2:0 chroma, and the cheapest.
                    interpolation=Interpolation.AREA,
                    threads=options.threads,
                )
                frame.pts = index
                frame.time_base = stream.codec_context.time_base
                out.mux(stream.encode(frame))
            out.mux(stream.encode())


def _resized(image: Image.Image, width: int, resample: Image.Resampling) -> Image.Image:
    if image.width <= width:
        return image
    height = max(1, round(image.height * width / image.width))
    return image.resize((width, height), resample)


def write_thumbnail(frames: np.ndarray, path: Path, options: EncodeOptions | None = None) -> None:
    """The middle frame as WebP, at most `thumbnail_width` wide."""
    options = options or EncodeOptions()
    _check_frames(frames)
    middle = Image.fromarray(frames[len(frames) // 2])
    image = _resized(middle, options.thumbnail_width, Image.Resampling.LANCZOS)
    with atomic_path(Path(path)) as scratch:
        image.save(scratch, format="WEBP", quality=80)


def write_spritesheet(frames: np.ndarray, path: Path, options: EncodeOptions | None = None) -> None:
    """Evenly spaced frames, first and last included, in a row-major JPEG grid."""
    options = options or EncodeOptions()
    _check_frames(frames)
    count = min(options.spritesheet_columns * options.spritesheet_rows, len(frames))
    indices = np.linspace(0, len(frames) - 1, count).round().astype(int)
    # Box filtering is exact area averaging: as sharp as Lanczos at these ratios, 2-3x faster.
    tiles = [
        _resized(Image.fromarray(frames[i]), options.spritesheet_tile_width, Image.Resampling.BOX)
        for i in indices
    ]
    tile_w, tile_h = tiles[0].size
    columns = min(options.spritesheet_columns, count)
    rows = math.ceil(count / columns)
    sheet = Image.new("RGB", (columns * tile_w, rows * tile_h))
    for n, tile in enumerate(tiles):
        sheet.paste(tile, ((n % columns) * tile_w, (n // columns) * tile_h))
    with atomic_path(Path(path)) as scratch:
        sheet.save(scratch, format="JPEG", quality=85)
