"""An optional second invisible layer: RivaGAN from the `invisible-watermark` package, a
learned per-frame watermark that carries 32 bits and survives compression, scaling and crops
very well, but costs 1-3 s per 480p frame on a CPU (its ONNX models run on onnxruntime).

It carries the low 32 bits of the mark id; a read names a job only through the registry.
Frames smaller than 256x256 are left alone (the model needs at least that).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

BITS = 32
MIN_SIDE = 256
_lock = threading.Lock()
_loaded = False


def available() -> bool:
    """Whether `invisible-watermark` and onnxruntime are installed."""
    try:
        import imwatermark  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def _load() -> None:
    global _loaded
    with _lock:
        if not _loaded:
            from imwatermark import WatermarkDecoder, WatermarkEncoder

            WatermarkEncoder.loadModel()
            WatermarkDecoder.loadModel()
            _loaded = True


def fits(width: int, height: int) -> bool:
    return min(width, height) >= MIN_SIDE


def _bits(value: int) -> list[int]:
    return [(value >> (BITS - 1 - i)) & 1 for i in range(BITS)]


@dataclass(frozen=True)
class RivaGanWatermark:
    mark_id: int
    every: int = 1
    """Mark every n-th frame (1: all of them)."""

    def apply(self, frames: np.ndarray, start: int = 0) -> np.ndarray:
        """Mark (frames, height, width, 3) uint8 RGB frames in place, the first of them
        frame `start` of the clip; returns them."""
        if not fits(frames.shape[2], frames.shape[1]):
            return frames
        _load()
        from imwatermark import WatermarkEncoder

        encoder = WatermarkEncoder()
        encoder.set_watermark("bits", _bits(self.mark_id & 0xFFFFFFFF))
        for index in range((-start) % self.every, len(frames), self.every):
            bgr = np.ascontiguousarray(frames[index][..., ::-1])
            frames[index] = encoder.encode(bgr, "rivaGan")[..., ::-1]
        return frames


@dataclass
class RivaGanRead:
    value: int
    """The 32 bits read, by a majority over the frames read."""
    agreement: float
    """Mean share of frames that agree with the majority on each bit (0.5: noise; 1: all)."""


def read(frames: Iterable[np.ndarray]) -> RivaGanRead | None:
    """Read RGB frames (a few suffice); None when the frames are too small."""
    from imwatermark import WatermarkDecoder

    votes = []
    for frame in frames:
        if not fits(frame.shape[1], frame.shape[0]):
            return None
        _load()
        decoder = WatermarkDecoder("bits", BITS)
        votes.append(np.asarray(decoder.decode(np.ascontiguousarray(frame[..., ::-1]), "rivaGan")))
    if not votes:
        return None
    ones = np.mean(votes, axis=0)
    bits = (ones > 0.5).astype(int)
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    agreement = float(np.mean(np.maximum(ones, 1 - ones)))
    return RivaGanRead(value=value, agreement=agreement)
