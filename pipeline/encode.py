"""Frames -> files, in-process with PyAV and Pillow: an H.264 MP4, a WebP thumbnail, a JPEG
spritesheet. Every file is written to a temporary name beside its target and renamed into
place, so a reader never sees half a file and a failure leaves nothing behind."""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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


class Mp4Writer:
    """An H.264 (yuv420p) MP4 written frame batch by frame batch at exactly `fps`, moov
    first; the file appears at `path` only when the writer closes without an error."""

    def __init__(
        self, path: Path, fps: int, width: int, height: int, options: EncodeOptions | None = None
    ) -> None:
        if width % 2 or height % 2:
            raise ValueError(f"yuv420p needs an even width and height, got {width}x{height}")
        self.options = options or EncodeOptions()
        self.width, self.height = width, height
        self.frames = 0
        self._atomic = atomic_path(Path(path))
        scratch = self._atomic.__enter__()
        # faststart moves the index to the front so players can start before the end arrives.
        self._out = av.open(
            str(scratch), mode="w", format="mp4", options={"movflags": "+faststart"}
        )
        stream = self._out.add_stream("libx264", rate=Fraction(fps))
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = Fraction(1, fps)
        stream.codec_context.thread_count = self.options.threads
        # Tag what the frames are converted to: untagged video is read as BT.601 or
        # BT.709 depending on its size, which shifts colours in one case or the other.
        stream.codec_context.colorspace = Colorspace.ITU709
        stream.codec_context.color_primaries = ColorPrimaries.BT709
        stream.codec_context.color_trc = ColorTrc.BT709
        stream.codec_context.color_range = ColorRange.MPEG
        stream.options = {
            "crf": str(self.options.crf),
            "preset": self.options.preset,
            "x264-params": f"mbtree={int(self.options.mbtree)}",
        }
        self._stream = stream

    def write(self, frames: np.ndarray) -> None:
        _check_frames(frames)
        if frames.shape[1:3] != (self.height, self.width):
            raise ValueError(
                f"frames are {frames.shape[2]}x{frames.shape[1]}, "
                f"the video {self.width}x{self.height}"
            )
        stream = self._stream
        for pixels in frames:
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(
                format="yuv420p",
                dst_colorspace=Colorspace.ITU709,
                dst_color_range=ColorRange.MPEG,
                dst_color_primaries=ColorPrimaries.BT709,
                dst_color_trc=ColorTrc.BT709,
                # A 2x2 box average is the right filter for 4:2:0 chroma, and the cheapest.
                interpolation=Interpolation.AREA,
                threads=self.options.threads,
            )
            frame.pts = self.frames
            frame.time_base = stream.codec_context.time_base
            self._out.mux(stream.encode(frame))
            self.frames += 1

    def close(self, error: BaseException | None = None) -> None:
        try:
            if error is None:
                self._out.mux(self._stream.encode())
            self._out.close()
        except BaseException as exc:
            self._atomic.__exit__(type(exc), exc, exc.__traceback__)
            raise
        if error is None:
            self._atomic.__exit__(None, None, None)
        else:
            self._atomic.__exit__(type(error), error, error.__traceback__)

    def __enter__(self) -> Mp4Writer:  # noqa: PYI034
        return self

    def __exit__(self, kind, error, traceback) -> None:
        self.close(error)


def encode_mp4(
    frames: np.ndarray, fps: int, path: Path, options: EncodeOptions | None = None
) -> None:
    """Write an H.264 (yuv420p) MP4 with exactly these frames at exactly `fps`, moov first."""
    _check_frames(frames)
    _, height, width, _ = frames.shape
    with Mp4Writer(Path(path), fps, width, height, options) as writer:
        writer.write(frames)


def concat_mp4(segments: list[Path], path: Path, options: EncodeOptions | None = None) -> int:
    """Join MP4 segments written by `Mp4Writer` with the same settings into one MP4, moov
    first, without re-encoding (their packets are copied). Segments whose codec setup differs
    are re-encoded instead, one frame at a time. Returns the frame count."""
    if not segments:
        raise ValueError("no segments to join")
    extradata = set()
    for segment in segments:
        with av.open(str(segment)) as container:
            extradata.add(bytes(container.streams.video[0].codec_context.extradata or b""))
    if len(extradata) > 1:
        return _reencode(segments, path, options)
    frames = 0
    with (
        atomic_path(Path(path)) as scratch,
        av.open(str(scratch), mode="w", format="mp4", options={"movflags": "+faststart"}) as out,
    ):
        stream = None
        offset = 0
        for segment in segments:
            with av.open(str(segment)) as container:
                source = container.streams.video[0]
                if stream is None:
                    stream = out.add_stream_from_template(source)
                end = offset
                for packet in container.demux(source):
                    if packet.dts is None:  # the demuxer's empty flush packet
                        continue
                    packet.pts += offset
                    packet.dts += offset
                    end = max(end, packet.pts + packet.duration)
                    packet.stream = stream
                    out.mux(packet)
                    frames += 1
                offset = end
    return frames


def _reencode(segments: list[Path], path: Path, options: EncodeOptions | None) -> int:
    with av.open(str(segments[0])) as first:
        stream = first.streams.video[0]
        fps, width, height = int(stream.average_rate), stream.width, stream.height
    with Mp4Writer(Path(path), fps, width, height, options) as writer:
        for segment in segments:
            for chunk in read_frames(segment):
                writer.write(chunk)
        return writer.frames


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    rate: Fraction
    """Frames per second."""
    frames: int

    @property
    def seconds(self) -> float:
        return float(self.frames / self.rate)

    def frames_at(self, fps: int) -> int:
        """How many frames the video has once resampled to `fps` (`read_frames`)."""
        return math.ceil(self.frames * fps / self.rate)


def _rate(stream) -> Fraction:
    rate = stream.average_rate or stream.guessed_rate
    if not rate or rate <= 0:
        raise ValueError("its frame rate is unknown")
    return Fraction(rate)


def probe_video(path: Path, *, max_frames: int | None = None) -> VideoInfo:
    """Size, frame rate and length of a video file, counted by decoding it (container
    headers may lie). ValueError when it does not decode, has no video, or has more than
    `max_frames` frames."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ValueError("it has no video stream")
            stream = container.streams.video[0]
            rate = _rate(stream)
            frames = width = height = 0
            for frame in container.decode(stream):
                frames += 1
                width, height = frame.width, frame.height
                if max_frames is not None and frames > max_frames:
                    raise ValueError(f"it has more than {max_frames} frames")
    except av.FFmpegError as exc:
        raise ValueError(f"it does not decode as video ({exc})") from None
    if frames == 0:
        raise ValueError("it has no frames")
    return VideoInfo(width, height, rate, frames)


def read_frames(
    path: Path, *, fps: int | None = None, chunk: int = 16, start: int = 0, count: int | None = None
) -> Iterator[np.ndarray]:
    """The frames of a video as (n, height, width, 3) uint8 RGB chunks of at most `chunk`:
    at `fps` when given (output frame k shows the source frame on screen at k / fps), from
    output frame `start`, `count` of them (to the end when None). Memory stays at a chunk."""
    end = None if count is None else start + count
    batch: list[np.ndarray] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        ratio = 1 if fps is None else fps / _rate(stream)
        for index, frame in enumerate(container.decode(stream)):
            # The output frames this source frame is on screen for: [low, high)
            low, high = math.ceil(index * ratio), math.ceil((index + 1) * ratio)
            if end is not None and low >= end:
                break
            low, high = max(low, start), high if end is None else min(high, end)
            if high <= low:
                continue
            pixels = frame.to_ndarray(format="rgb24")
            for _ in range(high - low):
                batch.append(pixels)
                if len(batch) == chunk:
                    yield np.stack(batch)
                    batch = []
    if batch:
        yield np.stack(batch)


def _resized(image: Image.Image, width: int, resample: Image.Resampling) -> Image.Image:
    if image.width <= width:
        return image
    height = max(1, round(image.height * width / image.width))
    return image.resize((width, height), resample)


def thumbnail_index(count: int) -> int:
    """Which frame of a clip of `count` frames the thumbnail shows: the middle one."""
    return count // 2


def spritesheet_indices(count: int, options: EncodeOptions | None = None) -> list[int]:
    """Which frames the spritesheet shows: evenly spaced, first and last included."""
    options = options or EncodeOptions()
    tiles = min(options.spritesheet_columns * options.spritesheet_rows, count)
    return [int(i) for i in np.linspace(0, count - 1, tiles).round().astype(int)]


def write_thumbnail(frames: np.ndarray, path: Path, options: EncodeOptions | None = None) -> None:
    """The middle frame as WebP, at most `thumbnail_width` wide."""
    _check_frames(frames)
    write_thumbnail_frame(frames[thumbnail_index(len(frames))], path, options)


def write_thumbnail_frame(
    frame: np.ndarray, path: Path, options: EncodeOptions | None = None
) -> None:
    options = options or EncodeOptions()
    image = _resized(Image.fromarray(frame), options.thumbnail_width, Image.Resampling.LANCZOS)
    with atomic_path(Path(path)) as scratch:
        image.save(scratch, format="WEBP", quality=80)


def write_spritesheet(frames: np.ndarray, path: Path, options: EncodeOptions | None = None) -> None:
    """Evenly spaced frames, first and last included, in a row-major JPEG grid."""
    _check_frames(frames)
    chosen = [frames[i] for i in spritesheet_indices(len(frames), options)]
    write_spritesheet_frames(chosen, path, options)


def write_spritesheet_frames(
    chosen: list[np.ndarray], path: Path, options: EncodeOptions | None = None
) -> None:
    """These frames (`spritesheet_indices` of a clip), in a row-major JPEG grid."""
    options = options or EncodeOptions()
    count = len(chosen)
    # Box filtering is exact area averaging: as sharp as Lanczos at these ratios, 2-3x faster.
    tiles = [
        _resized(Image.fromarray(frame), options.spritesheet_tile_width, Image.Resampling.BOX)
        for frame in chosen
    ]
    tile_w, tile_h = tiles[0].size
    columns = min(options.spritesheet_columns, count)
    rows = math.ceil(count / columns)
    sheet = Image.new("RGB", (columns * tile_w, rows * tile_h))
    for n, tile in enumerate(tiles):
        sheet.paste(tile, ((n % columns) * tile_w, (n // columns) * tile_h))
    with atomic_path(Path(path)) as scratch:
        sheet.save(scratch, format="JPEG", quality=85)
