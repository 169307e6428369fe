"""Built-in tiny models are built offline once and then loaded like real weights."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipeline.tiny import TINY_MODELS, ensure_tiny_model, tiny_model_config


@pytest.mark.parametrize("name", TINY_MODELS)
def test_tiny_model_is_a_saved_diffusers_directory(name):
    path = ensure_tiny_model(name, Path(os.environ["OPENREEL_CACHE_DIR"]))
    index = json.loads((path / "model_index.json").read_text())
    family = tiny_model_config(name).family_spec
    assert index["_class_name"] in {family.mode_pipeline(m) for m in family.supported_modes}
    assert any(path.glob("transformer/*.safetensors"))
    assert (path / "tokenizer").is_dir()


def test_tiny_model_is_built_once_then_reused(tmp_path):
    first = ensure_tiny_model("tiny-cogvideox", tmp_path)
    stamp = (first / "model_index.json").stat().st_mtime_ns
    second = ensure_tiny_model("tiny-cogvideox", tmp_path)
    assert second == first
    assert (second / "model_index.json").stat().st_mtime_ns == stamp
    assert [p.name for p in (tmp_path / "tiny").iterdir()] == [first.name]  # no scratch left


def test_tiny_weights_are_the_same_on_every_build(tmp_path):
    from safetensors.torch import load_file

    a = ensure_tiny_model("tiny-wan", tmp_path / "a")
    b = ensure_tiny_model("tiny-wan", tmp_path / "b")
    for part in (
        "transformer/diffusion_pytorch_model.safetensors",
        "text_encoder/model.safetensors",
    ):
        left, right = load_file(a / part), load_file(b / part)
        assert left.keys() == right.keys()
        assert all((left[k] == right[k]).all() for k in left)


def test_unknown_builtin_is_refused(tmp_path):
    with pytest.raises(KeyError, match="built-in models: tiny-wan"):
        ensure_tiny_model("tiny-sora", tmp_path)
