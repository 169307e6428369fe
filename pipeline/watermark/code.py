"""The error-correcting code under the invisible watermark: a rate-1/3 convolutional code
(constraint length 7, the generators 171/133/165 octal used in satellite links) with a soft
Viterbi decoder.

Soft decoding over the whole clip is what lets a weak, compressed pattern carry 64 bits: at the
same embedding strength it decodes correctly where plain sign decisions fail on several bits.
The code is linear, so whole registries of payloads encode in one matrix product
(`encode_many`), which the registry match uses.
"""

from __future__ import annotations

import numpy as np

INFO_BITS = 64
CONSTRAINT = 7
GENERATORS = (0o171, 0o133, 0o165)
TAIL = CONSTRAINT - 1
CODED_BITS = (INFO_BITS + TAIL) * len(GENERATORS)  # 210

_STATES = 1 << TAIL


def _parity(value: int) -> int:
    return bin(value).count("1") & 1


# The trellis: a state is the last TAIL input bits, newest in bit 0.
_OUTPUT = np.zeros((_STATES, 2, len(GENERATORS)), np.int8)
_NEXT = np.zeros((_STATES, 2), np.int64)
for _state in range(_STATES):
    for _bit in (0, 1):
        _register = (_state << 1) | _bit
        _OUTPUT[_state, _bit] = [_parity(_register & g) for g in GENERATORS]
        _NEXT[_state, _bit] = _register & (_STATES - 1)
_SIGNS = 2.0 * _OUTPUT - 1.0


def encode(bits: np.ndarray) -> np.ndarray:
    """INFO_BITS bits (0/1) -> CODED_BITS bits (0/1), the encoder flushed back to state 0."""
    bits = np.asarray(bits, dtype=np.int8)
    if bits.shape != (INFO_BITS,):
        raise ValueError(f"expected {INFO_BITS} bits, got shape {bits.shape}")
    state = 0
    out = np.empty((INFO_BITS + TAIL, len(GENERATORS)), np.int8)
    for step, bit in enumerate(np.concatenate([bits, np.zeros(TAIL, np.int8)])):
        out[step] = _OUTPUT[state, bit]
        state = _NEXT[state, bit]
    return out.ravel()


def _generator_matrix() -> np.ndarray:
    rows = [encode(np.eye(INFO_BITS, dtype=np.int8)[i]) for i in range(INFO_BITS)]
    return np.stack(rows).astype(np.float32)


_GENERATOR = _generator_matrix()


def encode_many(bits: np.ndarray) -> np.ndarray:
    """(n, INFO_BITS) bits -> (n, CODED_BITS) codewords, by the code's generator matrix."""
    bits = np.asarray(bits, dtype=np.float32).reshape(-1, INFO_BITS)
    return (np.rint(bits @ _GENERATOR).astype(np.int64) & 1).astype(np.int8)


def decode(soft: np.ndarray) -> np.ndarray:
    """The most likely INFO_BITS bits for CODED_BITS soft values (positive means a coded 1)."""
    soft = np.asarray(soft, dtype=np.float64)
    if soft.shape != (CODED_BITS,):
        raise ValueError(f"expected {CODED_BITS} soft values, got shape {soft.shape}")
    received = soft.reshape(-1, len(GENERATORS))
    steps = len(received)
    nxt = np.arange(_STATES)
    bit = nxt & 1
    # Each state has two predecessors: its bits shifted right, with either oldest bit.
    from_low = nxt >> 1
    from_high = from_low | (_STATES >> 1)
    metric = np.full(_STATES, -np.inf)
    metric[0] = 0.0
    chose_high = np.zeros((steps, _STATES), bool)
    for step in range(steps):
        branch = _SIGNS @ received[step]  # (states, 2): correlation of each branch's output
        low = metric[from_low] + branch[from_low, bit]
        high = metric[from_high] + branch[from_high, bit]
        if step >= steps - TAIL:  # the tail is known to be zeros
            low = np.where(bit == 1, -np.inf, low)
            high = np.where(bit == 1, -np.inf, high)
        chose_high[step] = high > low
        metric = np.maximum(low, high)
    state = 0
    decoded = np.zeros(steps, np.int8)
    for step in range(steps - 1, -1, -1):
        decoded[step] = state & 1
        state = from_high[state] if chose_high[step, state] else from_low[state]
    return decoded[:INFO_BITS]
