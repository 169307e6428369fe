"""Load a video model from its config: once, then reuse it for every request.

Every model, real or tiny, goes through `DiffusionPipeline.from_pretrained`. Options this
machine cannot honour are refused before any weights are read, with a ModelConfigError that
names the option.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import diffusers
import torch
from diffusers import DiffusionPipeline

from pipeline.builtins import builtin_source
from pipeline.config import ModelConfig
from pipeline.errors import ModelConfigError
from pipeline.generate import VideoModel
from pipeline.weights import weights_digest

logger = logging.getLogger(__name__)

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}

_CACHE_CONFIGS = {
    "first_block": "FirstBlockCacheConfig",
    "pyramid_attention_broadcast": "PyramidAttentionBroadcastConfig",
    "faster": "FasterCacheConfig",
    "mag": "MagCacheConfig",
    "taylorseer": "TaylorSeerCacheConfig",
}


def load_model(name: str, config: ModelConfig, *, cache_dir: Path | None = None) -> VideoModel:
    """Load the model `name` described by `config`, ready to generate."""
    family = config.family_spec

    # 1. Check what the machine must offer before reading any weights
    device = resolve_device(config.device)
    _check_options_for_device(config, device)

    # 2. Find the weights
    source = _resolve_source(config, cache_dir)

    # 3. Load with diffusers, and check it is the family's pipeline
    try:
        pipe = DiffusionPipeline.from_pretrained(
            source,
            dtype={
                "default": _DTYPES[config.dtype],
                **{name: _DTYPES[dtype] for name, dtype in config.component_dtypes.items()},
            },
            revision=config.revision,
            variant=config.variant,
        )
    except Exception as exc:  # diffusers raises OSError, ValueError, HTTP errors ...
        raise ModelConfigError(f"cannot load {source}: {exc}", option="source") from exc
    # Any of the family's pipelines: the others are made from it (`from_pipe`)
    expected = {family.mode_pipeline(mode) for mode in family.supported_modes}
    if type(pipe).__name__ not in expected:
        raise ModelConfigError(
            f"{source} holds a {type(pipe).__name__}, but family {family.name} needs one of "
            f"{', '.join(sorted(expected))}",
            option="family",
        )
    if family.experts == 2 and getattr(pipe, "transformer_2", None) is None:
        raise ModelConfigError(
            f"{source} has one transformer; family {family.name} needs two experts", option="family"
        )
    if family.call_style == "cogvideox":
        expected_tokens = pipe.transformer.config.max_text_seq_length
        if config.text_max_tokens != expected_tokens:
            raise ModelConfigError(
                f"{source} reads exactly {expected_tokens} text tokens, not "
                f"{config.text_max_tokens}",
                option="text_max_tokens",
            )
    pipe.set_progress_bar_config(disable=True)

    # 4. Scheduler shift
    if config.flow_shift is not None:
        _set_flow_shift(pipe, config.flow_shift)

    # 5. Memory: where the weights live while generating
    _place(pipe, config, device)

    # 6. Speed: cache hooks and regional compilation
    _apply_speed_options(pipe, config)

    # 7. Provenance: which exact files these are
    digest = weights_digest(source, revision=config.revision, cache_dir=cache_dir)

    logger.info("loaded %s (%s) from %s on %s", name, family.name, source, device)
    return VideoModel(
        name=name,
        config=config,
        pipe=pipe,
        device=device,
        source=str(source),
        weights_digest=digest,
    )


def load_tokenizer(config: ModelConfig, *, cache_dir: Path | None = None):
    """The text encoder's tokenizer of a model, without its weights: for counting tokens."""
    from transformers import AutoTokenizer

    source = _resolve_source(config, cache_dir)
    try:
        return AutoTokenizer.from_pretrained(
            source, subfolder="tokenizer", revision=config.revision
        )
    except Exception as exc:
        raise ModelConfigError(
            f"cannot load the tokenizer of {source}: {exc}", option="source"
        ) from exc


def resolve_device(device: str) -> torch.device:
    """`auto` -> the accelerator if there is one, else the CPU; others are checked to exist."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise ModelConfigError(
            f"{device!r} is not a device name ({exc})", option="device"
        ) from None
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ModelConfigError("CUDA is not available on this machine", option="device")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ModelConfigError(
                f"{device} does not exist; this machine has {torch.cuda.device_count()} GPU(s)",
                option="device",
            )
    elif resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ModelConfigError("MPS is not available on this machine", option="device")
    elif resolved.type not in ("cpu", "cuda", "mps"):
        raise ModelConfigError(f"unsupported device type {resolved.type!r}", option="device")
    return resolved


def _check_options_for_device(config: ModelConfig, device: torch.device) -> None:
    on_cpu = device.type == "cpu"
    if on_cpu and config.memory.cpu_offload != "none":
        raise ModelConfigError(
            f"{config.memory.cpu_offload} CPU offload moves weights onto an accelerator while "
            "they run, and this model runs on the CPU; use none, or group_offload",
            option="memory.cpu_offload",
        )
    if device.type != "cuda" and config.memory.group_offload_use_stream:
        raise ModelConfigError(
            "streams need a CUDA device", option="memory.group_offload_use_stream"
        )
    if on_cpu and "float16" in (config.dtype, *config.component_dtypes.values()):
        raise ModelConfigError(
            "float16 is not supported by several video layers on the CPU; use float32 or bfloat16",
            option="dtype",
        )
    cache = config.speed.cache
    if cache is not None:
        call_style = config.family_spec.call_style
        if cache.type == "faster" and call_style in ("wan", "ltx"):
            raise ModelConfigError(
                f"FasterCache does not work with {config.family_spec.title} pipelines",
                option="speed.cache.type",
            )
        if cache.type == "mag" and not (
            cache.params.get("mag_ratios") or cache.params.get("calibrate")
        ):
            raise ModelConfigError(
                "MagCache needs mag_ratios for this model, or calibrate: true to measure them",
                option="speed.cache.params",
            )
        if cache.type == "taylorseer" and not (
            cache.params.get("use_lite_mode") or cache.params.get("cache_identifiers")
        ):
            raise ModelConfigError(
                "TaylorSeer's default layer patterns match no video transformer; set "
                "use_lite_mode: true or cache_identifiers",
                option="speed.cache.params",
            )


def _resolve_source(config: ModelConfig, cache_dir: Path | None) -> str | Path:
    builtin = config.builtin_name
    if builtin is not None:
        return builtin_source(builtin, cache_dir)
    path = Path(config.source).expanduser()
    if path.is_dir():
        if not (path / "model_index.json").is_file():
            raise ModelConfigError(
                f"{path} is a directory without model_index.json, not a diffusers model",
                option="source",
            )
        return path
    looks_like_path = config.source.startswith((".", "/", "~")) or config.source.count("/") > 1
    if looks_like_path:
        raise ModelConfigError(f"{config.source} does not exist", option="source")
    return config.source  # a hub id, downloaded (or read from the hub cache) by diffusers


def _set_flow_shift(pipe: DiffusionPipeline, shift: float) -> None:
    scheduler_config = pipe.scheduler.config
    if scheduler_config.get("use_dynamic_shifting"):
        raise ModelConfigError(
            f"{type(pipe.scheduler).__name__} shifts dynamically with the resolution; "
            "a fixed flow_shift has no effect, leave it unset",
            option="flow_shift",
        )
    for key in ("flow_shift", "shift"):
        if key in scheduler_config:
            if scheduler_config[key] != shift:
                pipe.scheduler = type(pipe.scheduler).from_config(scheduler_config, **{key: shift})
            return
    raise ModelConfigError(
        f"{type(pipe.scheduler).__name__} has no shift; leave flow_shift unset", option="flow_shift"
    )


def _place(pipe: DiffusionPipeline, config: ModelConfig, device: torch.device) -> None:
    memory = config.memory
    if memory.cpu_offload == "model":
        pipe.enable_model_cpu_offload(device=device)
    elif memory.cpu_offload == "sequential":
        pipe.enable_sequential_cpu_offload(device=device)
    elif memory.group_offload != "none":
        pipe.enable_group_offload(
            onload_device=device,
            offload_device=torch.device("cpu"),
            offload_type=memory.group_offload,
            num_blocks_per_group=(
                memory.group_offload_blocks if memory.group_offload == "block_level" else None
            ),
            use_stream=memory.group_offload_use_stream,
        )
    else:
        pipe.to(device)
    if memory.vae_tiling:
        pipe.vae.enable_tiling()
    if memory.vae_slicing:
        pipe.vae.enable_slicing()


def _denoisers(pipe: DiffusionPipeline) -> list[torch.nn.Module]:
    return [m for m in (pipe.transformer, getattr(pipe, "transformer_2", None)) if m is not None]


def _apply_speed_options(pipe: DiffusionPipeline, config: ModelConfig) -> None:
    speed = config.speed
    if speed.cache is not None:
        for transformer in _denoisers(pipe):
            transformer.enable_cache(_cache_config(pipe, speed.cache.type, speed.cache.params))
    if speed.compile_repeated_blocks:
        for transformer in _denoisers(pipe):
            if not getattr(transformer, "_repeated_blocks", None):
                raise ModelConfigError(
                    f"{type(transformer).__name__} declares no repeated blocks to compile",
                    option="speed.compile_repeated_blocks",
                )
            transformer.compile_repeated_blocks(fullgraph=speed.compile_fullgraph)


def _cache_config(pipe: DiffusionPipeline, kind: str, params: dict[str, Any]):
    config_class = getattr(diffusers, _CACHE_CONFIGS[kind])
    # YAML has no tuples; the diffusers configs take (start, end) ranges as tuples.
    kwargs = {
        k: tuple(v) if isinstance(v, list) and k != "mag_ratios" else v for k, v in params.items()
    }
    if kind in ("pyramid_attention_broadcast", "faster"):
        kwargs.setdefault("current_timestep_callback", lambda: pipe.current_timestep)
    if kind == "first_block" and pipe.transformer.config.get("num_layers", 2) < 2:
        raise ModelConfigError(
            "FirstBlockCache needs a transformer with at least 2 layers", option="speed.cache.type"
        )
    try:
        return config_class(**kwargs)
    except TypeError as exc:
        raise ModelConfigError(f"{exc}", option="speed.cache.params") from None
