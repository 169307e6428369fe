"""The invisible watermark: a keyed spread-spectrum pattern in the luma of every frame,
carrying a 48-bit mark id and a 16-bit keyed checksum.

How it works
1. The secret key derives a 16x16 grid of +-1 patterns: the rows of a 256x256 Hadamard matrix,
   with columns shuffled and signs flipped by the key. One row is a sync pattern; 210 rows
   carry the 64 payload bits after a rate-1/3 convolutional code (`code.py`); the 45 rows left
   over carry nothing and measure the noise at detection.
2. The grid is drawn with smooth cells (4 px below 256 px frames, 8 px above) into a tile that
   repeats over the whole frame, and added to R, G and B alike, so only luma changes. Its
   strength follows the texture of each cell (busy areas hide more) and rises for small or short
   clips, which have fewer pixels to carry it.
3. Detection averages the luma of every frame (every frame carries the same tile, and all later
   steps are linear), takes out the picture with a high-pass filter, folds the frame onto one
   tile, finds the tile's offset from the sync pattern (so crops work), reads the 256 cells,
   projects them on the key's rows and decodes the code softly. A clip that was scaled is first
   resized back to each of the service's output sizes of the same shape.

The checksum makes a random read pass with probability 2^-16 per try. `detect` can also
compare the soft read with the codewords of known mark ids (the service's registry), which
finds marks too weak to decode on their own.

It resists re-encoding, scaling and cropping, not a determined attacker who averages many
clips of the same key or knows the key.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from pipeline.watermark import code

GRID = 16
CELLS = GRID * GRID
MARK_ID_BITS = 48
CHECK_BITS = 16
SYNC_WEIGHT = 8.0
"""Amplitude of the sync row against the +-1 of each payload row: about a quarter of the
pattern's energy, enough to find the offset of a crop on small clips."""
PEAK = 2.5
"""Cell values are clipped to this many times their root mean square: no cell stands out."""
REFERENCE_SAMPLES = 832 * 480 * 33
"""Pixels x frames (2 s of 480p) at which `strength` applies unchanged; smaller clips get more."""
MAX_BOOST = 2.0
MASK_FLOOR, MASK_CEILING, MASK_REFERENCE = 0.5, 1.5, 6.0
"""A cell's strength scales with its luma standard deviation / MASK_REFERENCE, within these."""
ASPECT_TOLERANCE = 0.03
DECODER_CHANCE = 8.0
"""The z-score the decoder reaches on pure noise (mean of 8.0, sd 0.44, measured over 3000
reads): it always finds the codeword that fits best. Scores are reported above it."""
REGISTRY_THRESHOLD = 6.0
"""z-score above which a registry codeword counts as a match, before the correction for the
number of codewords compared."""


def cell_size(width: int, height: int) -> int:
    return 4 if min(width, height) < 256 else 8


def new_mark_id() -> int:
    """A random, non-zero 48-bit mark id."""
    return secrets.randbelow((1 << MARK_ID_BITS) - 1) + 1


def _keystream(secret: bytes, label: bytes, n: int) -> bytes:
    # SHAKE-256 rather than numpy's generators: the patterns must not change with numpy versions.
    return hashlib.shake_256(b"openreel-watermark-v1\x00" + label + b"\x00" + secret).digest(n)


def _permutation(secret: bytes, label: bytes, n: int) -> np.ndarray:
    stream = np.frombuffer(_keystream(secret, label, 4 * n), dtype=">u4").astype(np.int64)
    order = np.arange(n)
    for i in range(n - 1, 0, -1):  # Fisher-Yates
        j = int(stream[i] % (i + 1))
        order[i], order[j] = order[j], order[i]
    return order


def _hadamard(n: int) -> np.ndarray:
    matrix = np.array([[1]], np.int8)
    while matrix.shape[0] < n:
        matrix = np.block([[matrix, matrix], [matrix, -matrix]])
    return matrix


def _bump(cell: int) -> np.ndarray:
    """One cell's shape: flat in the middle, tapering at the edges (cheaper for the encoder and
    less visible than a hard block or a peaked bump), scaled to unit root mean square."""
    profile = np.minimum(1.0, 1.5 * np.sin(np.pi * (np.arange(cell) + 0.5) / cell))
    bump = np.outer(profile, profile)
    return (bump / np.sqrt((bump**2).mean())).astype(np.float32)


class WatermarkKey:
    """The patterns and checksum of one secret key."""

    def __init__(self, secret: bytes | str) -> None:
        if isinstance(secret, str):
            secret = secret.encode("utf-8")
        if len(secret) < 8:
            raise ValueError("a watermark key needs at least 8 bytes")
        self._secret = bytes(secret)
        rows = 1 + _permutation(self._secret, b"rows", CELLS - 1)  # row 0 is constant: unused
        columns = _permutation(self._secret, b"columns", CELLS)
        signs = np.where(
            np.frombuffer(_keystream(self._secret, b"signs", CELLS), np.uint8) & 1, 1, -1
        )
        patterns = (_hadamard(CELLS)[:, columns] * signs).astype(np.float32)
        self.sync = patterns[rows[0]]
        self.rows = patterns[rows[1 : 1 + code.CODED_BITS]]
        self.spare = patterns[rows[1 + code.CODED_BITS :]]
        # Scrambling the coded bits keeps the cells balanced whatever the payload.
        scramble = np.frombuffer(_keystream(self._secret, b"scramble", code.CODED_BITS), np.uint8)
        self.scramble = np.where(scramble & 1, -1.0, 1.0).astype(np.float32)
        self.id = hashlib.sha256(b"openreel-watermark-key-id\x00" + self._secret).hexdigest()[:16]
        """A public name of the key (not the key): which key marked a clip."""

    def check(self, mark_id: int) -> int:
        digest = hmac.new(self._secret, b"mark\x00" + mark_id.to_bytes(6, "big"), "sha256")
        return int.from_bytes(digest.digest()[: CHECK_BITS // 8], "big")

    def payload(self, mark_id: int) -> int:
        if not 0 < mark_id < 1 << MARK_ID_BITS:
            raise ValueError(f"a mark id is a positive {MARK_ID_BITS}-bit number, got {mark_id}")
        return (mark_id << CHECK_BITS) | self.check(mark_id)

    def read_payload(self, payload: int) -> tuple[int, bool]:
        """(mark id, whether the checksum holds)."""
        mark_id = payload >> CHECK_BITS
        valid = mark_id > 0 and self.check(mark_id) == payload & ((1 << CHECK_BITS) - 1)
        return mark_id, valid

    def grid(self, mark_id: int) -> np.ndarray:
        """The 256 cell values of the pattern for `mark_id`, unit root mean square."""
        coded = code.encode(_bits(self.payload(mark_id)))
        values = SYNC_WEIGHT * self.sync + ((2.0 * coded - 1.0) * self.scramble) @ self.rows
        values /= math.sqrt(SYNC_WEIGHT**2 + code.CODED_BITS)
        return np.clip(values, -PEAK, PEAK)


def _bits(value: int) -> np.ndarray:
    return np.array(
        [(value >> (code.INFO_BITS - 1 - i)) & 1 for i in range(code.INFO_BITS)], np.int8
    )


def _value(bits: np.ndarray) -> int:
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return value


def _tile(grid: np.ndarray, cell: int) -> np.ndarray:
    return np.kron(grid.reshape(GRID, GRID), _bump(cell)).astype(np.float32)


def boost(width: int, height: int, frames: int) -> float:
    """How much stronger the mark is drawn on a clip of this size than on the reference clip."""
    return float(np.clip(math.sqrt(REFERENCE_SAMPLES / (width * height * frames)), 1.0, MAX_BOOST))


@dataclass(frozen=True)
class InvisibleWatermark:
    """Draws the mark `mark_id` of `key` into frames."""

    key: WatermarkKey
    mark_id: int
    strength: float = 3.0
    """Pattern amplitude in 8-bit levels on a cell of average texture, before the boost for
    small clips. 3 is invisible on natural video; lower survives compression worse."""

    def apply(self, frames: np.ndarray, total: int | None = None) -> np.ndarray:
        """Mark (frames, height, width, 3) uint8 frames in place; returns them. `total` is
        the length of the whole clip where these frames are one window of it: the mark's
        strength follows the clip, not the window."""
        count, height, width, _ = frames.shape
        count = count if total is None else total
        cell = cell_size(width, height)
        period = GRID * cell
        amplitude = self.strength * boost(width, height, count)
        tile = _tile(self.key.grid(self.mark_id), cell) * amplitude
        reps = (-(-height // period), -(-width // period))
        pattern = np.tile(tile, reps)[:height, :width]
        rows, cols = height // cell, width // cell
        inner = pattern[: rows * cell, : cols * cell].reshape(rows, cell, cols, cell)
        for frame in frames:
            luma = frame[: rows * cell, : cols * cell, 1].astype(np.float32)
            blocks = luma.reshape(rows, cell, cols, cell)
            mean = blocks.mean(axis=(1, 3))
            variance = (blocks**2).mean(axis=(1, 3)) - mean**2
            gain = np.clip(
                np.sqrt(np.maximum(variance, 0)) / MASK_REFERENCE, MASK_FLOOR, MASK_CEILING
            )
            delta = pattern * MASK_FLOOR
            delta[: rows * cell, : cols * cell] = (inner * gain[:, None, :, None]).reshape(
                rows * cell, cols * cell
            )
            shifted = frame.astype(np.int16)
            shifted += np.rint(delta).astype(np.int16)[..., None]
            np.clip(shifted, 0, 255, out=shifted)
            frame[...] = shifted
        return frames


@dataclass
class WatermarkDetection:
    """What `detect` found in one clip."""

    detected: bool
    score: float
    """How far the best read fits its codeword above chance, as a z-score: 0-4 on unmarked
    clips, 5-40 on marked ones. The checksum or a registry match decides `detected`."""
    payload: str | None = None
    """The 64 bits read, as 16 hex digits (mark id, then checksum)."""
    payload_valid: bool = False
    """The checksum of the payload holds for this key."""
    mark_id: int | None = None
    """The mark id: from a valid payload, or else from a registry match."""
    matched_by: str | None = None
    """payload (decoded alone) or registry (matched against known mark ids)."""
    size: tuple[int, int] | None = None
    """The frame size the mark was read at (after resizing the clip, if it was scaled)."""

    def to_dict(self) -> dict:
        return {
            "detected": self.detected,
            "score": round(self.score, 2),
            "payload": self.payload,
            "payload_valid": self.payload_valid,
            "mark_id": None if self.mark_id is None else f"{self.mark_id:012x}",
            "matched_by": self.matched_by,
            "size": None if self.size is None else f"{self.size[0]}x{self.size[1]}",
        }


def mean_luma(frames: np.ndarray | Iterable[np.ndarray]) -> np.ndarray:
    """The average luma of RGB frames (or of 2-D luma frames), as float32."""
    total = None
    count = 0
    for frame in frames:
        frame = np.asarray(frame)
        luma = frame @ np.array([0.2126, 0.7152, 0.0722]) if frame.ndim == 3 else frame
        total = luma.astype(np.float64) if total is None else total + luma
        count += 1
    if total is None:
        raise ValueError("no frames")
    return (total / count).astype(np.float32)


def mean_luma_of_file(path: str | Path) -> np.ndarray:
    """The average luma of every frame of a video file (PyAV decodes it)."""
    import av

    def frames():
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                yield frame.to_ndarray(format="gray")

    return mean_luma(frames())


def _box_blur(image: np.ndarray, radius: int) -> np.ndarray:
    out = image.astype(np.float64)
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (radius + 1, radius)
        summed = np.cumsum(np.pad(out, pad, mode="edge"), axis=axis)
        n = out.shape[axis]
        upper = np.take(summed, np.arange(2 * radius + 1, 2 * radius + 1 + n), axis=axis)
        lower = np.take(summed, np.arange(n), axis=axis)
        out = (upper - lower) / (2 * radius + 1)
    return out.astype(np.float32)


def _fold(image: np.ndarray, period: int) -> np.ndarray:
    height, width = image.shape
    padded = np.pad(image, ((0, -height % period), (0, -width % period)))
    return padded.reshape(padded.shape[0] // period, period, -1, period).sum(axis=(0, 2))


@dataclass
class _Read:
    soft: np.ndarray
    """Soft coded bits in units of the noise's standard deviation."""
    size: tuple[int, int]


def _read(luma: np.ndarray, key: WatermarkKey, cell: int, size: tuple[int, int]) -> _Read:
    period = GRID * cell
    folded = _fold(luma - _box_blur(luma, 2 * cell), period)
    sync = _tile(key.sync, cell)
    correlation = np.fft.irfft2(np.fft.rfft2(folded) * np.conj(np.fft.rfft2(sync)), s=folded.shape)
    dy, dx = np.unravel_index(np.argmax(correlation), correlation.shape)
    aligned = np.roll(folded, (-dy, -dx), axis=(0, 1))
    cells = (aligned.reshape(GRID, cell, GRID, cell) * _bump(cell)[None, :, None, :]).sum(
        axis=(1, 3)
    )
    cells = cells.ravel()
    noise = float(np.sqrt(np.mean((key.spare @ cells) ** 2))) or 1e-9
    return _Read(soft=(key.rows @ cells) * key.scramble / noise, size=size)


def _sizes_to_try(
    width: int, height: int, sizes: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    """The clip's own size, then the output sizes of the same shape (a scaled clip is read
    after resizing it back)."""
    out = [(width, height)]
    for w, h in sizes:
        if (w, h) not in out and abs((w / h) / (width / height) - 1) <= ASPECT_TOLERANCE:
            out.append((w, h))
    return out


def detect(
    luma: np.ndarray,
    key: WatermarkKey,
    *,
    sizes: Sequence[tuple[int, int]] = (),
    known_ids: Iterable[int] = (),
) -> WatermarkDetection:
    """Look for `key`'s mark in a clip, given its mean luma (`mean_luma`, `mean_luma_of_file`).

    `sizes` are the output sizes of the service, as (width, height); `known_ids` are mark ids
    issued with this key, compared when no payload decodes on its own."""
    height, width = luma.shape
    reads: list[_Read] = []
    best: WatermarkDetection | None = None
    for size in _sizes_to_try(width, height, sizes):
        image = luma
        if size != (width, height):
            image = np.asarray(
                Image.fromarray(luma).resize(size, Image.Resampling.BILINEAR), dtype=np.float32
            )
        for cell in sorted({cell_size(*size), 4, 8}):
            if min(size) < 2 * cell:
                continue
            read = _read(image, key, cell, size)
            reads.append(read)
            bits = code.decode(read.soft)
            payload = _value(bits)
            mark_id, valid = key.read_payload(payload)
            score = _z(read.soft, code.encode(bits)) - DECODER_CHANCE
            found = WatermarkDetection(
                detected=valid,
                score=score,
                payload=f"{payload:016x}",
                payload_valid=valid,
                mark_id=mark_id if valid else None,
                matched_by="payload" if valid else None,
                size=size,
            )
            if valid:
                return found
            if best is None or found.score > best.score:
                best = found
    assert best is not None
    matched = _match_registry(reads, key, known_ids)
    if matched is not None:
        mark_id, score, size = matched
        best.detected = True
        best.mark_id = mark_id
        best.matched_by = "registry"
        best.score = score
        best.size = size
    return best


def _z(soft: np.ndarray, coded: np.ndarray) -> float:
    return float(np.dot(soft, 2.0 * coded - 1.0) / math.sqrt(len(soft)))


def _match_registry(
    reads: list[_Read], key: WatermarkKey, known_ids: Iterable[int]
) -> tuple[int, float, tuple[int, int]] | None:
    ids = np.fromiter((int(i) for i in known_ids), dtype=np.int64)
    if len(ids) == 0 or not reads:
        return None
    checks = np.array([key.check(int(i)) for i in ids], dtype=np.uint64)
    payloads = (ids.astype(np.uint64) << np.uint64(CHECK_BITS)) | checks
    shifts = np.arange(code.INFO_BITS - 1, -1, -1, dtype=np.uint64)
    bits = ((payloads[:, None] >> shifts) & np.uint64(1)).astype(np.int8)
    signs = 2.0 * code.encode_many(bits) - 1.0  # (ids, coded)
    soft = np.stack([read.soft for read in reads])  # (reads, coded)
    z = soft @ signs.T / math.sqrt(code.CODED_BITS)  # (reads, ids)
    r, i = np.unravel_index(np.argmax(z), z.shape)
    # The best of many comparisons is high by chance: raise the bar with their number.
    threshold = max(REGISTRY_THRESHOLD, math.sqrt(2 * math.log(z.size)) + 3.0)
    if z[r, i] < threshold:
        return None
    chance = math.sqrt(2 * math.log(z.size)) if z.size > 1 else 0.0
    return int(ids[i]), float(z[r, i]) - chance, reads[r].size
