"""Every shipped config parses, names a known family, and its defaults obey the family's
rules. Real weights are never loaded here."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.families import FAMILIES, parse_size
from pipeline.request import GenerationRequest, plan_generation
from service.core.settings import load_settings

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml"))
PRESETS = [
    "wan2.1-t2v-1.3b",
    "wan2.1-t2v-14b",
    "wan2.2-ti2v-5b",
    "wan2.2-t2v-a14b",
    "ltx-video",
    "cogvideox-5b",
    "hunyuanvideo",
]


def test_every_required_preset_ships():
    names = {path.stem for path in CONFIGS}
    assert {"default", *PRESETS} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_config_is_valid_and_its_defaults_are_legal(path):
    settings = load_settings(path)
    name, model = settings.resolve_model()
    family = FAMILIES[model.family]
    for size in model.sizes:
        assert family.size_problem(*parse_size(size)) is None
    # The default request plans without error: legal frame count, size, steps.
    plan = plan_generation(
        GenerationRequest("a red kite over a green hill", seed=0),
        model=name,
        config=model,
        max_seconds=settings.limits.max_seconds,
    )
    assert family.is_legal_frame_count(plan.num_frames)
    assert plan.num_frames <= family.max_frames
    assert plan.size == model.default_size


@pytest.mark.parametrize("stem", PRESETS)
def test_real_presets_point_at_real_weights_on_an_accelerator(stem):
    settings = load_settings(next(p for p in CONFIGS if p.stem == stem))
    _, model = settings.resolve_model()
    assert model.builtin_name is None and "/" in model.source
    assert model.device == "cuda"
    assert model.dtype in ("bfloat16", "float16")


def test_every_config_line_that_sets_a_model_field_is_commented():
    """Operators tune these files: each preset starts with a comment block citing its model card."""
    for path in CONFIGS:
        head = path.read_text().splitlines()[0]
        assert head.startswith("#"), path
        if path.stem in PRESETS:
            assert "huggingface.co" in path.read_text(), path


@pytest.mark.parametrize("stem", PRESETS)
def test_real_presets_recaption_with_a_small_local_instruct_model(stem):
    path = next(p for p in CONFIGS if p.stem == stem)
    settings = load_settings(path)
    assert settings.recaption.backend == "transformers"
    assert "Instruct" in settings.recaption.transformers.model
    assert "# backend: openai" in path.read_text()  # the vLLM alternative, commented
