"""The transformers backend with the built-in tiny-llm: a real local LM that writes
gibberish, so every answer fails validation and the rules rewrite is used."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from recaption import RecaptionConfig, Recaptioner
from recaption.config import TransformersOptions
from recaption.local_lm import TransformersBackend
from recaption.rules import rules_rewrite
from recaption.tiny_llm import ensure_tiny_llm
from tests.recaption.conftest import WAN


@pytest.fixture(scope="module")
def cache_dir() -> Path:
    return Path(os.environ["OPENREEL_CACHE_DIR"])


@pytest.fixture(scope="module")
def tiny_backend(cache_dir):
    return TransformersBackend(
        TransformersOptions(model="tiny-llm", max_new_tokens=48), cache_dir=cache_dir
    )


def test_tiny_llm_is_a_saved_model_with_a_chat_template(cache_dir):
    path = ensure_tiny_llm(cache_dir)
    assert (path / "config.json").is_file() and (path / "tokenizer.json").is_file()
    from transformers import AutoTokenizer

    assert AutoTokenizer.from_pretrained(path).chat_template


def test_tiny_llm_output_fails_validation_and_falls_back_to_rules(tiny_backend, cache_dir):
    config = RecaptionConfig(backend="transformers", mode="on")
    recaptioner = Recaptioner(config, backend=tiny_backend, cache_dir=cache_dir)
    result = recaptioner.recaption("a cat", WAN, seed=11)
    assert result.status == "fallback"
    assert result.reasons and set(result.reasons) <= {
        "empty", "wrong_language", "gibberish", "repetition", "too_short", "dropped_content",
    }  # fmt: skip
    assert result.prompt == rules_rewrite("a cat", seed=11)
    assert result.backend == "rules" and "tiny-llm" in result.detail


def test_greedy_answers_repeat_and_the_model_is_loaded_once(tiny_backend):
    messages = [{"role": "user", "content": "<prompt>\na cat\n</prompt>"}]
    first = tiny_backend.complete(messages, seed=1, greedy=True)
    model_object = tiny_backend._lm
    assert tiny_backend.complete(messages, seed=2, greedy=True) == first
    assert tiny_backend._lm is model_object
    assert first  # gibberish, but not nothing


def test_sampling_is_seeded(cache_dir):
    backend = TransformersBackend(
        TransformersOptions(model="tiny-llm", sample=True, temperature=1.0, max_new_tokens=32),
        cache_dir=cache_dir,
    )
    messages = [{"role": "user", "content": "a cat"}]
    assert backend.complete(messages, seed=5, greedy=False) == backend.complete(
        messages, seed=5, greedy=False
    )
    assert backend.complete(messages, seed=5, greedy=False) != backend.complete(
        messages, seed=6, greedy=False
    )


def test_offload_after_call_leaves_the_weights_on_the_cpu(cache_dir):
    backend = TransformersBackend(
        TransformersOptions(model="tiny-llm", offload_after_call=True, max_new_tokens=32),
        cache_dir=cache_dir,
    )
    backend.complete([{"role": "user", "content": "a cat"}], seed=0, greedy=True)
    assert next(backend._lm.parameters()).device.type == "cpu"


def test_a_model_that_cannot_be_loaded_falls_back_with_backend_error(tmp_path):
    config = RecaptionConfig(
        backend="transformers", mode="on", transformers={"model": str(tmp_path / "no-such-model")}
    )
    result = Recaptioner(config, cache_dir=tmp_path).recaption("a cat", WAN)
    assert result.status == "fallback" and result.reasons == ("backend_error",)
    assert "cannot load" in result.detail
