"""The recaptioner's flow: modes, the cache, backend errors, token budgets."""

from __future__ import annotations

import string

import pytest

from recaption import BackendError, RecaptionConfig, Recaptioner, RecaptionTarget
from recaption.rules import rules_rewrite
from tests.recaption.conftest import WAN, ScriptedBackend
from tests.recaption.test_validate import CAT, GOOD

LONG_PROMPT = " ".join(["a slow tracking shot along a rainy neon street"] * 4)


@pytest.mark.parametrize(
    ("config_mode", "request_mode", "prompt", "status"),
    [
        ("off", None, CAT, "off"),
        ("on", "off", CAT, "off"),  # the request overrides the config
        ("auto", None, CAT, "rewritten"),
        ("auto", None, LONG_PROMPT, "skipped"),
        ("on", None, LONG_PROMPT, "rewritten"),
        ("off", "auto", CAT, "rewritten"),
    ],
)
def test_modes_decide_whether_to_rewrite(config_mode, request_mode, prompt, status):
    recaptioner = Recaptioner(RecaptionConfig(mode=config_mode))
    result = recaptioner.recaption(prompt, WAN, mode=request_mode)
    assert result.status == status
    if status in ("off", "skipped"):
        assert result.prompt == prompt and result.backend == "none"
    else:
        assert result.prompt == rules_rewrite(prompt, seed=0)


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="mode must be off, auto or on"):
        Recaptioner().recaption(CAT, WAN, mode="sometimes")


def test_rules_is_the_default_backend_and_needs_no_llm():
    result = Recaptioner().recaption("a cat", WAN, seed=7)
    assert (result.status, result.backend, result.model) == ("rewritten", "rules", None)
    assert "cat" in result.prompt and len(result.prompt) > len("a cat")


def test_validated_rewrites_are_cached_by_everything_that_changes_them(scripted):
    recaptioner, backend = scripted(GOOD, GOOD, GOOD, GOOD)
    first = recaptioner.recaption(CAT, WAN, seed=1)
    again = recaptioner.recaption(f"  {CAT} ", WAN, seed=1)  # same prompt once normalised
    assert (first.cached, again.cached) == (False, True)
    assert again.prompt == first.prompt and len(backend.calls) == 1
    recaptioner.recaption(CAT, WAN, seed=2)  # another seed
    recaptioner.recaption(CAT, RecaptionTarget(family="ltx-video", token_budget=128), seed=1)
    recaptioner.recaption(CAT, RecaptionTarget(family="wan2.1", token_budget=256), seed=1)
    assert len(backend.calls) == 4


def test_fallbacks_and_refusals_are_not_cached(scripted):
    recaptioner, backend = scripted("??", "??", "REFUSE", GOOD)
    assert recaptioner.recaption(CAT, WAN).status == "fallback"
    assert recaptioner.recaption(CAT, WAN).status == "blocked"
    assert recaptioner.recaption(CAT, WAN).status == "rewritten"
    assert len(backend.calls) == 4


def test_the_sqlite_cache_survives_a_restart(tmp_path):
    config = RecaptionConfig(
        backend="transformers", mode="on", cache={"sqlite_path": tmp_path / "cache.sqlite3"}
    )
    first_backend = ScriptedBackend(GOOD)
    Recaptioner(config, backend=first_backend, cache_dir=tmp_path).recaption(CAT, WAN)
    restarted_backend = ScriptedBackend()
    result = Recaptioner(config, backend=restarted_backend, cache_dir=tmp_path).recaption(CAT, WAN)
    assert result.cached and result.prompt == GOOD
    assert restarted_backend.calls == []


def test_cache_can_be_turned_off(tmp_path):
    backend = ScriptedBackend(GOOD, GOOD)
    config = RecaptionConfig(backend="transformers", mode="on", cache={"enabled": False})
    recaptioner = Recaptioner(config, backend=backend, cache_dir=tmp_path)
    recaptioner.recaption(CAT, WAN)
    assert recaptioner.recaption(CAT, WAN).cached is False and len(backend.calls) == 2


def test_a_backend_error_falls_back_at_once_with_its_code_and_detail(scripted):
    recaptioner, backend = scripted(BackendError("backend_unavailable", "HTTP 503 from x"))
    result = recaptioner.recaption(CAT, WAN, seed=4)
    assert result.status == "fallback" and result.reasons == ("backend_unavailable",)
    assert result.detail == "HTTP 503 from x"
    assert result.prompt == rules_rewrite(CAT, seed=4)
    assert len(backend.calls) == 1


def tiny_t5_tokenizer():
    from transformers import T5Tokenizer

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]
    pieces += [(c, -3.0) for c in string.ascii_letters + string.digits + string.punctuation]
    return T5Tokenizer(vocab=pieces, extra_ids=0)


def test_token_budget_is_counted_with_the_target_tokenizer_and_cut_at_a_sentence():
    tokenizer = tiny_t5_tokenizer()  # one token per character: budgets bite quickly

    def count(text: str) -> int:
        return len(tokenizer.encode(text))

    target = RecaptionTarget(family="cogvideox", token_budget=120, count_tokens=count)
    result = Recaptioner().recaption("a cat", target, seed=3)
    assert result.tokens == count(result.prompt) <= 120
    assert result.prompt.endswith(".")
    full = rules_rewrite("a cat", seed=3)
    assert full.startswith(result.prompt) and len(result.prompt) < len(full)


def test_a_prompt_over_the_budget_by_itself_is_kept_and_flagged():
    target = RecaptionTarget(family="cogvideox", token_budget=3, count_tokens=lambda t: len(t))
    result = Recaptioner().recaption("a cat on a sofa", target)
    assert result.prompt == "A cat on a sofa." and "over_token_budget" in result.reasons
