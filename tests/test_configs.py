"""Every shipped config parses, names a known family, and its defaults obey the family's
rules. Real weights are never loaded here."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from pipeline.families import FAMILIES, parse_size
from pipeline.request import GenerationRequest, plan_generation
from service.core.settings import load_settings

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml"))
PRESETS = [
    "wan2.1-t2v-1.3b",
    "wan2.1-t2v-14b",
    "wan2.1-i2v-14b-480p",
    "skyreels-v2-df-1.3b-540p",
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
    # The default request plans without error: legal frame count, size, steps (from an
    # image, for a model that renders from images only).
    mode = "text" if model.serves("text") else "image"
    plan = plan_generation(
        GenerationRequest("a red kite over a green hill", seed=0, mode=mode),
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


def header_comment(path: Path) -> str:
    """The comment block a config file starts with."""
    lines = path.read_text().splitlines()
    return "\n".join(line for line in itertools.takewhile(lambda l: l.startswith("#"), lines))


@pytest.mark.parametrize("stem", PRESETS)
def test_each_preset_starts_with_its_model_cards_recommendations(stem):
    """Operators tune these files: each preset opens with a comment block that cites its
    model card and states the settings the card recommends, which the preset then sets."""
    path = next(p for p in CONFIGS if p.stem == stem)
    header = header_comment(path)
    _, model = load_settings(path).resolve_model()
    assert f"huggingface.co/{model.source}" in header, "the model card of the weights loaded"
    assert f"{model.steps} steps" in header
    assert f"guidance {model.guidance}" in header
    if model.flow_shift is not None:
        assert f"shift {model.flow_shift}" in header


def test_default_yaml_starts_with_a_comment_block():
    assert header_comment(next(p for p in CONFIGS if p.stem == "default")).count("\n") >= 3


@pytest.mark.parametrize("stem", PRESETS)
def test_real_presets_recaption_with_a_small_local_instruct_model(stem):
    path = next(p for p in CONFIGS if p.stem == stem)
    settings = load_settings(path)
    assert settings.recaption.backend == "transformers"
    assert "Instruct" in settings.recaption.transformers.model
    assert "# backend: openai" in path.read_text()  # the vLLM alternative, commented
