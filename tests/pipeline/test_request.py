"""Planning a request: defaults, seconds -> frames, and every bad input named."""

from __future__ import annotations

import pytest

from pipeline.errors import InvalidRequestError
from pipeline.request import GenerationRequest, plan_generation
from pipeline.tiny import tiny_model_config


def plan(model: str = "tiny-wan", **fields):
    request = GenerationRequest(**{"prompt": "a red kite", **fields})
    return plan_generation(request, model=model, config=tiny_model_config(model))


def test_defaults_come_from_the_model_config():
    result = plan()
    assert (result.width, result.height) == (128, 128)
    assert result.num_frames == 33 and result.fps == 16
    assert result.steps == 8 and result.guidance == 5.0
    assert result.duration == pytest.approx(33 / 16)


def test_seed_is_random_when_not_given_and_always_reported():
    seeds = {plan().seed for _ in range(20)}
    assert len(seeds) > 1
    assert all(isinstance(seed, int) and seed >= 0 for seed in seeds)
    assert plan(seed=7).seed == 7


@pytest.mark.parametrize(
    ("model", "seconds", "frames", "fps"),
    [("tiny-wan", 2, 33, 16), ("tiny-ltx", 2, 49, 24), ("tiny-cogvideox", 2, 17, 8)],
)
def test_each_tiny_model_follows_its_family(model, seconds, frames, fps):
    result = plan(model, seconds=seconds)
    assert (result.num_frames, result.fps) == (frames, fps)
    assert result.duration >= seconds


@pytest.mark.parametrize(
    ("fields", "param", "message"),
    [
        ({"prompt": "   "}, "prompt", "prompt must not be empty"),
        ({"prompt": "x" * 4001}, "prompt", "limit is 4000"),
        ({"seconds": 0}, "seconds", "greater than 0"),
        ({"seconds": -1}, "seconds", "greater than 0"),
        ({"seconds": float("nan")}, "seconds", "must be a number"),
        ({"seconds": 61}, "seconds", "over the 60 s cap"),
        ({"seconds": 6}, "seconds", "at most 81 frames"),
        ({"size": "7x7"}, "size", "legal sizes: 128x128, 64x64"),
        ({"size": "832x480"}, "size", "not available for tiny-wan"),
        ({"size": "big"}, "size", "WIDTHxHEIGHT"),
        ({"steps": 0}, "steps", "from 1 to 50"),
        ({"steps": 51}, "steps", "from 1 to 50"),
        ({"guidance": -1.0}, "guidance", "from 0 to 50"),
        ({"seed": -1}, "seed", "seed must be an integer"),
        ({"seed": 2**63}, "seed", "seed must be an integer"),
        ({"seed": True}, "seed", "seed must be an integer"),
    ],
)
def test_bad_input_names_the_parameter(fields, param, message):
    with pytest.raises(InvalidRequestError, match=message) as raised:
        plan(**fields)
    assert raised.value.param == param


def test_the_global_cap_comes_from_the_caller():
    config = tiny_model_config("tiny-wan")
    with pytest.raises(InvalidRequestError, match="over the 1 s cap"):
        plan_generation(
            GenerationRequest("a kite", seconds=2), model="tiny-wan", config=config, max_seconds=1
        )
