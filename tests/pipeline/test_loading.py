"""Loading: the real from_pretrained path, and options this machine cannot honour refused
at load time with a message naming the option."""

from __future__ import annotations

import pytest
import torch

from pipeline.errors import ModelConfigError
from pipeline.loading import load_model
from pipeline.request import GenerationRequest
from pipeline.tiny import tiny_model_config


def tiny(name: str = "tiny-wan", **changes):
    return tiny_model_config(name).model_copy(update=changes)


def with_options(name: str = "tiny-wan", **sections):
    data = tiny_model_config(name).model_dump()
    for section, values in sections.items():
        if isinstance(values, dict):
            data[section] = {**(data.get(section) or {}), **values}
        else:
            data[section] = values
    return type(tiny_model_config(name)).model_validate(data)


def test_tiny_model_loads_through_from_pretrained(load_tiny):
    model = load_tiny("tiny-wan")
    assert type(model.pipe).__name__ == "WanPipeline"
    assert model.device == torch.device("cpu")
    assert model.source.endswith("tiny-wan-v1")
    assert "tiny" in model.source  # a directory on disk, read back like real weights


@pytest.mark.parametrize(
    ("config", "option", "message"),
    [
        (with_options(memory={"cpu_offload": "model"}), "memory.cpu_offload", "runs on the CPU"),
        (
            with_options(memory={"cpu_offload": "sequential"}),
            "memory.cpu_offload",
            "runs on the CPU",
        ),
        (
            with_options(memory={"group_offload": "leaf_level", "group_offload_use_stream": True}),
            "memory.group_offload_use_stream",
            "CUDA",
        ),
        (tiny(dtype="float16"), "dtype", "float16"),
        (tiny(component_dtypes={"vae": "float16"}), "dtype", "float16"),
        (
            with_options(speed={"cache": {"type": "faster"}}),
            "speed.cache.type",
            "FasterCache does not work",
        ),
        (with_options(speed={"cache": {"type": "mag"}}), "speed.cache.params", "mag_ratios"),
        (
            with_options(speed={"cache": {"type": "taylorseer"}}),
            "speed.cache.params",
            "use_lite_mode",
        ),
        (
            with_options(speed={"cache": {"type": "first_block", "params": {"thresold": 0.1}}}),
            "speed.cache.params",
            "thresold",
        ),
        (
            with_options("tiny-cogvideox", speed={"compile_repeated_blocks": True}),
            "speed.compile_repeated_blocks",
            "no repeated blocks",
        ),
        (tiny("tiny-ltx", flow_shift=3.0), "flow_shift", "shifts dynamically"),
        (tiny("tiny-cogvideox", flow_shift=3.0), "flow_shift", "has no shift"),
        (tiny(source="builtin:tiny-sora"), "source", "no built-in model 'tiny-sora'"),
        (tiny(source="/nonexistent/wan"), "source", "does not exist"),
        (
            tiny(family="ltx-video", sizes=["128x128"]),
            "family",
            "needs one of LTXConditionPipeline, LTXPipeline",
        ),
        (tiny(family="wan2.2-a14b", sizes=["128x128"]), "family", "needs two experts"),
    ],
)
def test_options_that_cannot_be_honoured_fail_at_load_naming_the_option(config, option, message):
    with pytest.raises(ModelConfigError, match=message) as raised:
        load_model("m", config)
    assert raised.value.option == option
    assert str(raised.value).startswith(option)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_device_without_cuda_is_refused():
    with pytest.raises(ModelConfigError, match="CUDA is not available") as raised:
        load_model("m", tiny(device="cuda"))
    assert raised.value.option == "device"


def test_directory_that_is_not_a_diffusers_model_is_refused(tmp_path):
    with pytest.raises(ModelConfigError, match="without model_index.json"):
        load_model("m", tiny(source=str(tmp_path)))


def test_local_directory_source_loads_like_a_hub_model(load_tiny):
    directory = load_tiny("tiny-wan").source
    model = load_model("local", tiny(source=directory))
    assert type(model.pipe).__name__ == "WanPipeline"


def test_flow_shift_from_config_reaches_the_scheduler():
    model = load_model("m", tiny(flow_shift=7.0))
    assert model.pipe.scheduler.config.flow_shift == 7.0


def test_memory_and_speed_options_are_applied_and_generation_still_works():
    config = with_options(
        memory={"group_offload": "block_level", "vae_tiling": True, "vae_slicing": True},
        speed={"cache": {"type": "first_block", "params": {"threshold": 0.05}}},
    )
    model = load_model("m", config)
    assert model.pipe.vae.use_tiling and model.pipe.vae.use_slicing
    assert model.pipe.transformer.is_cache_enabled
    plan = model.plan(GenerationRequest("a kite", seconds=0.5, size="64x64", steps=3, seed=1))
    assert model.generate(plan).frames.shape == (9, 64, 64, 3)
