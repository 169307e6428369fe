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
   projects them on the key's rows and decodes the code softly. Each fold is read as it is
   and flipped (left-right, top-bottom, both), so flipped clips read too.
4. A clip that was scaled is first resized back to each of the service's output sizes of its
   shape. Any other scale, a change of aspect or a rotation of a few degrees is measured from
   the clip itself: the tile repeats, so the autocorrelation of the whitened luma peaks on the
   tile's lattice; its two vectors give scale and angle, and the clip is resampled to undo
   them before the read (`_lattices`, `_unwarp`).
5. Clips under 64 px on their shorter side carry no mark (`MIN_SIDE`).

The checksum makes a random read pass with probability 2^-16 per try. `detect` can also
compare the soft read with the codewords of known mark ids (the service's registry), which
finds marks too weak to decode on their own.

It resists re-encoding, flips, scaling (0.5x to 2x), small rotations and cropping, not a
determined attacker who averages many clips of the same key or knows the key.
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


MIN_SIDE = 64
"""Frames whose shorter side is below this carry no invisible mark: one tile of 4-px cells
is 64 px, and less than a tile cannot be read back (at 32x32 the mark only cost 27 dB of
PSNR). Such clips are known by their C2PA credentials and perceptual hash."""


def carries_mark(width: int, height: int) -> bool:
    return min(width, height) >= MIN_SIDE


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
        strength follows the clip, not the window. Frames smaller than MIN_SIDE are left
        as they are."""
        count, height, width, _ = frames.shape
        if not carries_mark(width, height):
            return frames
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


def _high_pass(luma: np.ndarray, cell: int) -> np.ndarray:
    """The picture taken out; its strong edges (and the borders of a rotated clip's black
    corners) clipped to three robust deviations, so they do not drown the mark."""
    high = luma - _box_blur(luma, 2 * cell)
    spread = 1.4826 * float(np.median(np.abs(high))) or 1.0
    return np.clip(high, -3 * spread, 3 * spread)


def _folded(luma: np.ndarray, cell: int) -> np.ndarray:
    return _fold(_high_pass(luma, cell), GRID * cell)


def _read(folded: np.ndarray, key: WatermarkKey, cell: int, size: tuple[int, int]) -> _Read:
    """Read one folded tile. A flipped clip folds to the flipped tile, up to a cyclic shift
    that the sync search finds, so flips are read from the same fold."""
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


ORIENTATIONS = ("as is", "mirrored", "upside down", "turned half")
"""A clip's frames read as they are, flipped left-right, top-bottom, and both (180 degrees)."""


def _orient(image: np.ndarray, orientation: str) -> np.ndarray:
    if orientation == "mirrored":
        return image[:, ::-1]
    if orientation == "upside down":
        return image[::-1]
    if orientation == "turned half":
        return image[::-1, ::-1]
    return image


LATTICE_MIN_LAG = 24
"""Shortest tile period looked for: a tile of 4-px cells at half size is 32 px."""
LATTICE_MAX_ANGLE = 8.0
"""Rotations looked for, in degrees either way."""
LATTICE_MAX_STRETCH = 1.5
"""Changes of aspect looked for: one axis scaled up to this much more than the other (a 4:3
clip stretched to 16:9 is 1.33)."""
LATTICE_SIDE = 640
"""The lattice is measured on a central crop at most this size (its cost grows with area)."""
WHITENING_RADIUS = 6
"""Half width, in frequency bins of the padded spectrum, of the local average a tile's
spectral lines are compared with."""
LATTICE_FLOOR = 6.0
"""Least height of a lattice peak, in robust deviations of the autocorrelation."""


def _lattice_image(luma: np.ndarray) -> np.ndarray:
    """The high-passed luma with the picture's strong edges clipped and flat areas (the black
    corners of a rotated clip, letterbox bars) zeroed: what is left is mostly the mark."""
    height, width = luma.shape
    top, left = max(0, (height - LATTICE_SIDE) // 2), max(0, (width - LATTICE_SIDE) // 2)
    luma = luma[top : top + LATTICE_SIDE, left : left + LATTICE_SIDE]
    high = luma - _box_blur(luma, 2)
    flat = _box_blur(np.abs(high), 2) < 0.05
    near_flat = _box_blur(flat.astype(np.float32), 3) > 0
    spread = 1.4826 * float(np.median(np.abs(high[~near_flat]))) if (~near_flat).any() else 0.0
    high = np.clip(high, -3 * spread, 3 * spread)
    high[near_flat] = 0.0
    return high - high[~near_flat].mean() * ~near_flat if (~near_flat).any() else high


def _autocorrelation(image: np.ndarray) -> np.ndarray:
    """Linear autocorrelation of the whitened image, normalised by overlap and by its spread,
    zero lag at the centre; lags with less than an eighth of the image overlapping are
    NaN (too noisy). Whitening (the power spectrum over its local average) keeps the narrow
    lines of a repeating tile and flattens the picture's broad spectrum, at any scale."""
    height, width = image.shape
    shape = (2 * height, 2 * width)
    spectrum = np.fft.rfft2(image, s=shape)
    power = (spectrum * spectrum.conj()).real
    envelope = _box_blur(np.fft.fftshift(power, axes=0), WHITENING_RADIUS)
    power = power / (np.fft.ifftshift(envelope, axes=0) + 1e-9 * float(power.mean()) + 1e-12)
    correlation = np.fft.irfft2(power, s=shape)
    ones = np.fft.rfft2(np.ones_like(image), s=shape)
    overlap = np.fft.irfft2((ones * ones.conj()).real, s=shape)
    # Over the square root of the overlap: noise then has the same spread at every lag, so a
    # long lag (little overlap) does not win by chance.
    correlation = np.fft.fftshift(correlation / np.sqrt(np.maximum(overlap, 1.0)))
    correlation[np.fft.fftshift(overlap) < height * width / 8] = np.nan
    # In units of its own spread away from the zero lag: a peak's height is its significance.
    lag_y, lag_x = np.ogrid[-height:height, -width:width]
    away = (np.hypot(lag_y, lag_x) >= LATTICE_MIN_LAG) & ~np.isnan(correlation)
    spread = 1.4826 * float(np.median(np.abs(correlation[away]))) if away.any() else 0.0
    return correlation / spread if spread > 0 else np.zeros_like(correlation)


def _peak_near(correlation: np.ndarray, centre: tuple[int, int], y: float, x: float):
    """The sub-pixel position and height of the highest point within 2 px of lag (y, x)."""
    cy, cx = centre
    iy, ix = int(round(y)) + cy, int(round(x)) + cx
    if not (2 <= iy < correlation.shape[0] - 2 and 2 <= ix < correlation.shape[1] - 2):
        return None
    window = correlation[iy - 2 : iy + 3, ix - 2 : ix + 3]
    if np.isnan(window).any():
        return None
    wy, wx = np.unravel_index(np.argmax(window), window.shape)
    py, px = iy - 2 + wy, ix - 2 + wx
    if not (1 <= py < correlation.shape[0] - 1 and 1 <= px < correlation.shape[1] - 1):
        return None

    def vertex(a: float, b: float, c: float) -> float:
        curvature = a - 2 * b + c
        return 0.5 * (a - c) / curvature if curvature < 0 else 0.0

    here = correlation[py, px]
    dy = vertex(correlation[py - 1, px], here, correlation[py + 1, px])
    dx = vertex(correlation[py, px - 1], here, correlation[py, px + 1])
    return py - cy + dy, px - cx + dx, float(here)


def _local_maxima(correlation: np.ndarray, mask: np.ndarray, count: int) -> list[tuple[int, int]]:
    padded = np.pad(correlation, 1, constant_values=-np.inf)
    neighbours = np.stack(
        [padded[1 + dy : 1 + dy + correlation.shape[0], 1 + dx : 1 + dx + correlation.shape[1]]
         for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]
    )  # fmt: skip
    with np.errstate(invalid="ignore"):
        peaks = mask & (correlation >= neighbours.max(axis=0)) & (correlation >= LATTICE_FLOOR)
    ys, xs = np.nonzero(peaks)
    order = np.argsort(-correlation[ys, xs])[:count]
    return [(int(ys[i]), int(xs[i])) for i in order]


def _lattices(luma: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Candidates, best first, for the two vectors (x, y), in pixels, by which the mark's tile
    repeats in this clip: the tile period times the clip's scale, turned by its rotation.
    Empty where no lattice shows.

    The tile repeats, so the clip's autocorrelation peaks at every point of its lattice. A
    pan or a stripe also peaks along one axis; only the lattice peaks at the sum of its two
    vectors as well, so candidate pairs are scored by their weakest of the three peaks. The
    pair's farthest multiples that still peak give the precision."""
    # A large clip is halved first: fewer pixels to correlate, and the tile, if the clip
    # was scaled up, back to a period the central crop holds several times.
    halved = min(luma.shape) > 3 * LATTICE_SIDE // 4
    if halved:
        rows, cols = luma.shape[0] // 2 * 2, luma.shape[1] // 2 * 2
        luma = luma[:rows, :cols].reshape(rows // 2, 2, cols // 2, 2).mean(axis=(1, 3))
    image = _lattice_image(luma)
    height, width = image.shape
    correlation = _autocorrelation(image)
    centre = (height, width)
    lag_y, lag_x = np.mgrid[-height:height, -width:width]
    radius = np.hypot(lag_y, lag_x)
    angle = np.degrees(np.arctan2(lag_y, lag_x))
    axes = []
    for axis in (0.0, 90.0):  # the vector near +x, the one near +y
        off_axis = np.abs((angle - axis + 180.0) % 360.0 - 180.0)
        mask = (off_axis <= LATTICE_MAX_ANGLE) & (radius >= LATTICE_MIN_LAG)
        axes.append([(y - height, x - width) for y, x in _local_maxima(correlation, mask, 16)])

    def height_at(y: float, x: float, unknown: float = -1.0) -> float:
        found = _peak_near(correlation, centre, y, x)
        return unknown if found is None else found[2]

    # The best pair of nearly equal length first (a uniform scale), then the best stretched
    # one: a stretch lets more chance pairs in, so it is tried only second.
    square: tuple[float, tuple] | None = None
    stretched: tuple[float, tuple] | None = None
    for ay, ax in axes[0]:
        for by, bx in axes[1]:
            ratio = math.hypot(ay, ax) / math.hypot(by, bx)
            cosine = (ax * bx + ay * by) / (math.hypot(ay, ax) * math.hypot(by, bx))
            if not 1 / LATTICE_MAX_STRETCH <= ratio <= LATTICE_MAX_STRETCH or abs(cosine) > 0.1:
                continue
            # On a small clip the sum of the two may lie past the lags that can be measured.
            score = min(
                height_at(ay, ax), height_at(by, bx), height_at(ay + by, ax + bx, unknown=np.inf)
            )
            if score < LATTICE_FLOOR:
                continue
            candidate = (score, ((ay, ax), (by, bx)))
            if 0.8 <= ratio <= 1.25:
                square = max(square, candidate, key=lambda c: -np.inf if c is None else c[0])
            else:
                stretched = max(stretched, candidate, key=lambda c: -np.inf if c is None else c[0])
    return [
        _refined(correlation, found[1], found[0], halved, height_at)
        for found in (square, stretched)
        if found is not None
    ]


def _refined(correlation, pair, score, halved, height_at) -> tuple[np.ndarray, np.ndarray]:
    """The pair's shortest divisor that still peaks, then its farthest multiple, for
    precision; in (x, y) pixels of the clip."""
    height, width = correlation.shape[0] // 2, correlation.shape[1] // 2
    centre = (height, width)
    (ay, ax), (by, bx) = pair
    for divisor in range(6, 1, -1):  # the shortest lattice that still peaks
        if min(math.hypot(ay, ax), math.hypot(by, bx)) / divisor < LATTICE_MIN_LAG:
            continue
        d = divisor
        if min(height_at(ay / d, ax / d), height_at(by / d, bx / d),
               height_at((ay + by) / d, (ax + bx) / d, unknown=np.inf)) >= 0.5 * score:  # fmt: skip
            (ay, ax), (by, bx) = (ay / d, ax / d), (by / d, bx / d)
            break
    vectors = []
    for y, x in ((ay, ax), (by, bx)):
        vector = np.array([x, y], dtype=np.float64)
        found = _peak_near(correlation, centre, y, x)
        if found is not None:
            vector = np.array([found[1], found[0]])
        for multiple in range(2, 12):
            found = _peak_near(correlation, centre, multiple * vector[1], multiple * vector[0])
            if found is None or found[2] < 0.5 * score:
                break
            vector = np.array([found[1], found[0]]) / multiple
        vectors.append(2 * vector if halved else vector)
    return vectors[0], vectors[1]


def _unwarp(luma: np.ndarray, vectors: tuple[np.ndarray, np.ndarray], cell: int) -> np.ndarray:
    """The clip resampled so that its lattice is square with period GRID * cell: scale,
    rotation and any change of aspect undone."""
    period = GRID * cell
    forward = np.stack(vectors, axis=1) / period  # corrected (x, y) -> clip (x, y)
    height, width = luma.shape
    corners = np.linalg.inv(forward) @ np.array([[0, width, 0, width], [0, 0, height, height]])
    low, high = corners.min(axis=1), corners.max(axis=1)
    size = np.maximum(np.round(high - low).astype(int), 2 * cell)
    # PIL's affine maps each output pixel to an input one: x_in = a x + b y + c.
    offset = forward @ low
    coefficients = (
        forward[0, 0], forward[0, 1], offset[0], forward[1, 0], forward[1, 1], offset[1],
    )  # fmt: skip
    warped = Image.fromarray(luma).transform(
        (int(size[0]), int(size[1])),
        Image.Transform.AFFINE,
        coefficients,
        resample=Image.Resampling.BILINEAR,
        fillcolor=float(luma.mean()),
    )
    return np.asarray(warped, dtype=np.float32)


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

    def candidates():
        # 1. The clip as it is, or resized back to an output size of its shape
        for size in _sizes_to_try(width, height, sizes):
            image = luma
            if size != (width, height):
                image = np.asarray(
                    Image.fromarray(luma).resize(size, Image.Resampling.BILINEAR),
                    dtype=np.float32,
                )
            for cell in sorted({cell_size(*size), 4, 8}):
                if min(size) >= 2 * cell:
                    folded = _folded(image, cell)
                    for orientation in ORIENTATIONS:
                        yield _orient(folded, orientation), cell, size
        # 2. Any other scale, aspect or small rotation: undone from the tile's own lattice
        for vectors in _lattices(luma):
            for cell in (4, 8):
                image = _unwarp(luma, vectors, cell)
                if min(image.shape) >= 2 * cell:
                    folded = _folded(image, cell)
                    for orientation in ORIENTATIONS:
                        yield _orient(folded, orientation), cell, (width, height)

    for folded, cell, size in candidates():
        read = _read(folded, key, cell, size)
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
    if best is None:  # a clip too small for even one read
        return WatermarkDetection(detected=False, score=0.0)
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
