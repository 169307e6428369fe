"""Fixtures of the pipeline tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def i2v(_isolated_cache):
    """tiny-wan-i2v in windows of 9 frames: a 2.5625 s clip (41 frames) takes 5 calls."""
    import torch

    torch.set_num_threads(1)
    from pipeline.loading import load_model
    from pipeline.tiny import tiny_model_config

    config = tiny_model_config("tiny-wan-i2v").model_copy(update={"window_frames": 9})
    return load_model("tiny-wan-i2v", config)
