"""Models that come with OpenReel: the tiny random ones (built in code on first use, for
tests) and toy-shapes (trained here, shipped in pipeline/toy/weights)."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import ModelConfig
from pipeline.errors import ModelConfigError
from pipeline.tiny import TINY_MODELS, ensure_tiny_model, tiny_model_config
from pipeline.toy import preset

BUILTIN_MODELS = (*TINY_MODELS, preset.NAME)


def builtin_config(name: str) -> ModelConfig:
    if name == preset.NAME:
        return preset.toy_model_config()
    return tiny_model_config(name)


def builtin_source(name: str, cache_dir: Path | None) -> Path:
    if name == preset.NAME:
        if not (preset.WEIGHTS / "model_index.json").is_file():
            raise ModelConfigError(
                f"the {name} weights are missing from {preset.WEIGHTS}; rebuild them with "
                f"`openreel toy train {preset.WEIGHTS}`",
                option="source",
            )
        return preset.WEIGHTS
    if name not in TINY_MODELS:
        raise ModelConfigError(
            f"no built-in model {name!r}; built-in models: {', '.join(BUILTIN_MODELS)}",
            option="source",
        )
    return ensure_tiny_model(name, cache_dir)
