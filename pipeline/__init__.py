"""OpenReel's video pipeline: model families, loading through diffusers, generation, encoding.

A library in its own right: it knows nothing of HTTP, databases or users. The light modules
(families, config, request, errors) import without torch; `load_model`, `VideoModel` and
`render_video` import torch and diffusers on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline.config import EncodeOptions, ModelConfig
from pipeline.errors import (
    GenerationCancelled,
    InvalidRequestError,
    ModelConfigError,
    OutputMismatchError,
    PipelineError,
    UnknownModelError,
)
from pipeline.families import FAMILIES, ModelFamily, get_family
from pipeline.request import GenerationPlan, GenerationRequest, plan_generation

if TYPE_CHECKING:
    from pipeline.generate import GeneratedVideo, ProgressEvent, VideoModel
    from pipeline.loading import load_model
    from pipeline.render import RenderedVideo, render_video

_LAZY = {
    "load_model": "pipeline.loading",
    "VideoModel": "pipeline.generate",
    "GeneratedVideo": "pipeline.generate",
    "ProgressEvent": "pipeline.generate",
    "render_video": "pipeline.render",
    "RenderedVideo": "pipeline.render",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")


__all__ = [
    "FAMILIES",
    "EncodeOptions",
    "GeneratedVideo",
    "GenerationCancelled",
    "GenerationPlan",
    "GenerationRequest",
    "InvalidRequestError",
    "ModelConfig",
    "ModelConfigError",
    "ModelFamily",
    "OutputMismatchError",
    "PipelineError",
    "ProgressEvent",
    "RenderedVideo",
    "UnknownModelError",
    "VideoModel",
    "get_family",
    "load_model",
    "plan_generation",
    "render_video",
]
