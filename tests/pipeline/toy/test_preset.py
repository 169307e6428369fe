"""toy-shapes as a built-in preset: its plan, its caption style, and a clear error when its
weights are not installed."""

from __future__ import annotations

import pytest

from pipeline.builtins import BUILTIN_MODELS, builtin_config, builtin_source
from pipeline.errors import ModelConfigError
from pipeline.request import GenerationRequest, plan_generation
from pipeline.toy import preset
from service.core.settings import Settings


def test_toy_shapes_is_a_built_in_with_its_own_plan():
    assert "toy-shapes" in BUILTIN_MODELS and "toy-shapes" in Settings().model_names()
    config = builtin_config("toy-shapes")
    plan = plan_generation(
        GenerationRequest("a red circle moves up on a black background", seed=0),
        model="toy-shapes",
        config=config,
        max_seconds=60,
    )
    assert (plan.width, plan.height, plan.num_frames, plan.fps) == (32, 32, 9, 16)
    assert config.text_max_tokens == 16 and config.caption_style is not None
    assert config.provenance_problem() is None and config.license


def test_missing_weights_name_the_command_that_makes_them(tmp_path, monkeypatch):
    monkeypatch.setattr(preset, "WEIGHTS", tmp_path / "weights")
    with pytest.raises(ModelConfigError, match="openreel toy train"):
        builtin_source("toy-shapes", None)
