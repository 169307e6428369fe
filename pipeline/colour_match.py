"""Colour anchoring for long clips: the frames that condition a window, matched channel by
channel to the histogram of the clip's first conditioning frames.

Each window of a long clip starts from the decoded end of the one before, so a small colour
error of one window is the next window's starting point, and errors add up over a minute
(the toy's shape drifting from green to blue, its background from white to grey). Matching
the conditioning frames' colour distribution to the first window's before they are encoded
puts every window back on the first one's palette; long-video workflows for Wan and
SkyReels do the same ("color match" of each chained segment to the first). It assumes the
clip keeps its palette: a prompt whose scene changes colour over the minute should run with
it off (`window_color_match: off`, the default for real models)."""

from __future__ import annotations

import numpy as np


def match_histograms(frames: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """`frames` (..., 3) uint8 with each channel's values remapped so that their
    distribution is `reference`'s (quantile to quantile); same shape and dtype."""
    if frames.dtype != np.uint8 or reference.dtype != np.uint8:
        raise ValueError(
            f"match_histograms takes uint8 frames, not {frames.dtype} and {reference.dtype}"
        )
    matched = np.empty_like(frames)
    for channel in range(frames.shape[-1]):
        source = frames[..., channel].ravel()
        source_quantiles = np.cumsum(np.bincount(source, minlength=256)) / source.size
        levels, counts = np.unique(reference[..., channel], return_counts=True)
        # each source level goes to the reference level at the same quantile
        lookup = np.interp(source_quantiles, np.cumsum(counts) / counts.sum(), levels)
        matched[..., channel] = (
            lookup.round().clip(0, 255).astype(np.uint8)[source].reshape(frames.shape[:-1])
        )
    return matched
