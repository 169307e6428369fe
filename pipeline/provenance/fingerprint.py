"""Perceptual fingerprints of clips: a 64-bit DCT hash (pHash) of evenly spaced frames.

Unlike the watermark, a fingerprint needs no key and nothing in the pixels: the service keeps
the fingerprint of every output, and a clip whose frames hash close to one of them is likely a
copy (re-encoded, rescaled, slightly cropped). Distances are in bits out of 64.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

FRAMES = 8
HASH_SIZE = 8
_SAMPLE = 32


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    matrix = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    matrix[0] /= np.sqrt(2.0)
    return matrix


_DCT = _dct_matrix(_SAMPLE)


def frame_hash(frame: np.ndarray) -> int:
    """pHash of one RGB (or luma) frame: the signs of its lowest 8x8 DCT coefficients around
    their median."""
    image = Image.fromarray(np.asarray(frame, dtype=np.uint8)).convert("L")
    small = np.asarray(image.resize((_SAMPLE, _SAMPLE), Image.Resampling.BOX), dtype=np.float64)
    low = (_DCT @ small @ _DCT.T)[:HASH_SIZE, :HASH_SIZE].ravel()
    bits = low > np.median(low[1:])
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return value


def sample_indices(count: int, frames: int = FRAMES) -> list[int]:
    return sorted({round(i) for i in np.linspace(0, count - 1, min(frames, count))})


CROPS = (1.0, 0.9, 0.8)
"""A stored clip is hashed whole and centre-cropped to these shares of each side, so that a
cropped copy still lands near one of its hashes."""


def center_crop(frame: np.ndarray, share: float) -> np.ndarray:
    if share >= 1.0:
        return frame
    height, width = frame.shape[:2]
    h, w = max(1, round(height * share)), max(1, round(width * share))
    top, left = (height - h) // 2, (width - w) // 2
    return frame[top : top + h, left : left + w]


def clip_fingerprint(frames: Sequence[np.ndarray], crops: Sequence[float] = (1.0,)) -> list[int]:
    """Hashes of up to FRAMES evenly spaced frames, first and last included, each whole and
    centre-cropped to every share in `crops`."""
    return [
        frame_hash(center_crop(frames[i], share))
        for i in sample_indices(len(frames))
        for share in crops
    ]


def index_fingerprint(frames: Sequence[np.ndarray]) -> list[int]:
    """The fingerprint kept for an output: whole frames and their centre crops."""
    return clip_fingerprint(frames, CROPS)


def distance(query: Sequence[int], stored: Sequence[int]) -> float:
    """Mean over the query's hashes of the distance to the nearest stored hash: small when the
    query's frames all look like some frame of the stored clip, whatever the trimming."""
    if not query or not stored:
        return 64.0
    stored_array = np.array(stored, dtype=np.uint64)
    nearest = []
    for value in query:
        xor = stored_array ^ np.uint64(value)
        bits = np.unpackbits(xor.view(np.uint8).reshape(-1, 8), axis=1).sum(axis=1)
        nearest.append(int(bits.min()))
    return float(np.mean(nearest))


def to_hex(hashes: Sequence[int]) -> str:
    return " ".join(f"{value:016x}" for value in hashes)


def from_hex(text: str) -> list[int]:
    return [int(part, 16) for part in text.split()]
