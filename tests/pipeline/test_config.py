"""Model configs are checked against their family's rules when they are read."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pipeline.config import EncodeOptions, ModelConfig


def make(**fields) -> ModelConfig:
    return ModelConfig(**{"family": "wan2.1", "source": "org/model", **fields})


def test_unset_fields_take_the_family_recommendations():
    config = make(family="wan2.2-a14b")
    assert config.sizes == ["1280x720", "720x1280", "832x480", "480x832"]
    assert config.default_size == "1280x720"
    assert (config.steps, config.guidance, config.guidance_2, config.flow_shift) == (
        40,
        4.0,
        3.0,
        12.0,
    )


def test_sizes_are_written_canonically():
    config = make(sizes=["832X480", " 480x832 "], default_size="832X480")
    assert config.sizes == ["832x480", "480x832"]
    assert config.default_size == "832x480"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"family": "sora-2"}, "unknown model family 'sora-2'"),
        ({"source": "  "}, "source must name"),
        ({"sizes": ["830x480"]}, "size 830x480: width and height must be multiples of 16"),
        ({"sizes": ["832x480"], "default_size": "480x832"}, "default_size 480x832 is not one of"),
        ({"sizes": []}, "at least one size"),
        ({"default_seconds": 6}, "over Wan 2.1's 5.0625 s per call"),
        ({"steps": 200}, "steps 200 is over max_steps 100"),
        ({"guidance_2": 3.0}, "guidance_2 is for two-expert families"),
        ({"call_kwargs": {"num_frames": 9}}, "num_frames come from the request"),
        ({"memory": {"cpu_offload": "model", "group_offload": "leaf_level"}}, "cannot be combined"),
        ({"dtype": "int8"}, "Input should be"),
        ({"speed": {"cache": {"type": "magic"}}}, "Input should be"),
        ({"memory": {"vae_tilling": True}}, "Extra inputs are not permitted"),
    ],
)
def test_invalid_model_configs_are_refused_with_the_reason(fields, message):
    with pytest.raises(ValidationError, match=message):
        make(**fields)


def test_builtin_source_is_recognised():
    assert make(source="builtin:tiny-wan").builtin_name == "tiny-wan"
    assert make(source="Wan-AI/Wan2.1-T2V-1.3B-Diffusers").builtin_name is None


def test_encode_options_are_bounded():
    with pytest.raises(ValidationError):
        EncodeOptions(crf=60)
    with pytest.raises(ValidationError):
        EncodeOptions(preset="placebo-plus")
