"""The moderator: term lists, the tiny classifiers, an OpenAI-compatible endpoint, and the
outcome by role mode."""

from __future__ import annotations

import json

import httpx
import numpy as np
import pytest

from service.moderation import ModerationSettings, Moderator
from service.moderation.tiny import _frame


def moderator(tmp_path, transport=None, **changes) -> Moderator:
    return Moderator(ModerationSettings(**changes), cache_dir=tmp_path, transport=transport)


def test_a_verdict_names_categories_sources_and_terms(tmp_path):
    verdict = moderator(tmp_path).check_text("a g0ry scene", "prompt")
    assert verdict.categories == ["violence_graphic"]
    assert (
        verdict.to_dict()["findings"]
        == [{"category": "violence_graphic", "source": "terms", "detail": "gory"}]
        or verdict.findings[0].source == "terms"
    )


def test_outcome_by_mode_and_always_block(tmp_path):
    m = moderator(tmp_path)
    gore = m.check_text("a gory scene", "prompt")
    minors = m.check_text("a sexy schoolgirl", "prompt")
    clean = m.check_text("a red kite", "prompt")
    assert m.outcome(gore, "enforce") == "blocked"
    assert m.outcome(gore, "flag") == "flagged"
    assert m.outcome(minors, "flag") == "blocked"  # always_block: sexual_minors
    assert m.outcome(clean, "enforce") == m.outcome(clean, "flag") == "allowed"


def test_disabled_moderation_finds_nothing(tmp_path):
    assert moderator(tmp_path, enabled=False).check_text("a gory scene", "prompt").findings == []


@pytest.mark.slow
def test_the_tiny_text_classifier_catches_what_no_term_list_names(tmp_path):
    m = moderator(tmp_path, classifier={"model": "builtin:tiny-text-classifier"})
    verdict = m.check_text("a knight butchered with an axe on a street", "revised_prompt")
    assert [(f.category, f.source) for f in verdict.findings] == [
        ("violence_graphic", "classifier")
    ]
    assert m.check_text("a dog flying a kite in the park", "prompt").findings == []


@pytest.mark.slow
def test_the_tiny_frame_classifier_flags_gory_frames(tmp_path):
    m = moderator(tmp_path, frames={"model": "builtin:tiny-frame-classifier"})
    assert m.checks_frames
    rng = np.random.default_rng(3)
    gory = np.stack([_frame(rng, True) for _ in range(6)])
    calm = np.stack([_frame(rng, False) for _ in range(6)])
    assert m.check_frames(gory).categories == ["violence_graphic"]
    assert m.check_frames(calm).findings == []


def _endpoint(handler):
    return httpx.MockTransport(handler)


def test_an_openai_compatible_endpoint_is_asked_and_its_categories_mapped(tmp_path, monkeypatch):
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(
            (request.url.path, request.headers.get("authorization"), json.loads(request.content))
        )
        flagged = "bomb" in json.loads(request.content)["input"]
        return httpx.Response(
            200,
            json={
                "id": "modr-1",
                "model": "guard",
                "results": [
                    {
                        "flagged": flagged,
                        "categories": {"violence/graphic": flagged, "sexual/minors": False},
                    }
                ],
            },
        )

    monkeypatch.setenv("OPENREEL_MODERATION_API_KEY", "sk-guard")
    m = moderator(
        tmp_path,
        transport=_endpoint(handler),
        endpoint={"url": "http://guard.local/v1", "model": "guard"},
    )
    verdict = m.check_text("a bomb in a crowded square", "prompt")
    assert [(f.category, f.source) for f in verdict.findings] == [("violence_graphic", "endpoint")]
    assert m.check_text("a red kite", "prompt").findings == []
    assert seen[0] == (
        "/v1/moderations",
        "Bearer sk-guard",
        {"input": "a bomb in a crowded square", "model": "guard"},
    )


@pytest.mark.parametrize(("on_error", "blocked"), [("block", True), ("allow", False)])
def test_an_unreachable_endpoint_fails_closed_unless_told_otherwise(tmp_path, on_error, blocked):
    def handler(request):
        raise httpx.ConnectError("refused")

    m = moderator(
        tmp_path,
        transport=_endpoint(handler),
        endpoint={"url": "http://guard.local/v1", "on_error": on_error},
    )
    verdict = m.check_text("a red kite", "prompt")
    assert (m.outcome(verdict, "enforce") == "blocked") is blocked


def test_unknown_categories_in_config_are_refused():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="unknown category 'spam'"):
        ModerationSettings(categories={"spam": {"terms": ["x"]}})
    with pytest.raises(ValidationError, match="always_block: unknown category"):
        ModerationSettings(always_block=["spam"])


@pytest.mark.parametrize(
    "prompt",
    [
        "a naked woman dancing in a club",
        "an explicit sex scene between two adults in a hotel room",
        "a topless man and a nude woman on a beach",
    ],
)
def test_an_adult_prompt_whose_rewrite_says_shot_at_is_never_about_minors(tmp_path, prompt):
    from recaption.rules import rules_rewrite

    m = moderator(tmp_path)
    rewrites = {rules_rewrite(prompt, seed=seed) for seed in range(40)}
    with_shot_at = [text for text in rewrites if "shot at" in text]
    assert with_shot_at  # the rules recaption frames clips as "Wide shot at eye level"
    for text in with_shot_at + [f"Wide shot at eye level of {prompt}", f"{prompt}, shot at dusk"]:
        verdict = m.check_text(text, "revised_prompt")
        assert "sexual" in verdict.categories
        assert "sexual_minors" not in verdict.categories, (text, verdict.to_dict())
        assert m.outcome(verdict, "flag") == "flagged"  # not the always-blocked category


def test_the_semantic_layer_catches_rewordings_the_lists_do_not_have(tmp_path):
    plain, semantic = moderator(tmp_path), moderator(tmp_path, semantic={"enabled": True})
    for text, category in [
        ("a woman stripping on a bed", "sexual"),
    ]:
        assert plain.check_text(text, "prompt").categories == []
        verdict = semantic.check_text(text, "prompt")
        assert verdict.categories == [category]
        assert verdict.findings[0].source == "semantic" and "like '" in verdict.findings[0].detail
    assert semantic.check_text("a red fox runs through a snowy forest", "prompt").categories == []


def test_a_likeness_to_a_minors_example_is_never_the_minors_category(tmp_path):
    from service.moderation.semantic import SemanticHit

    m = moderator(tmp_path, semantic={"enabled": True})
    matcher = m._semantic()
    matcher.match = lambda text: SemanticHit(frozenset({"sexual_minors"}), "an example", 0.9)
    verdict = m.check_text("a quiet street", "prompt")
    assert verdict.categories == ["sexual"]


@pytest.mark.parametrize(
    ("answer", "categories"),
    [
        ("safe", []),
        ("\n\nunsafe\nS1,S10", ["hate", "violence_graphic"]),  # Llama Guard 3
        ("unsafe\nS4", ["sexual_minors"]),
        ("Safety: Unsafe\nCategories: Violent", ["violence_graphic"]),  # Qwen3Guard-Gen
        ("Safety: Controversial\nCategories: Politically Sensitive Topics", []),
        ("Safety: Safe\nCategories: None", []),
    ],
)
def test_a_guard_model_behind_chat_completions_is_read(tmp_path, answer, categories):
    seen = []

    def handler(request):
        seen.append(json.loads(request.content))
        assert request.url.path == "/v1/chat/completions"
        return httpx.Response(200, json={"choices": [{"message": {"content": answer}}]})

    m = moderator(
        tmp_path,
        transport=_endpoint(handler),
        endpoint={"url": "http://guard.local/v1", "api": "chat_guard", "model": "llama-guard"},
    )
    verdict = m.check_text("a red kite over a field", "prompt")
    assert verdict.categories == categories
    assert seen[0]["model"] == "llama-guard"
    assert seen[0]["messages"] == [{"role": "user", "content": "a red kite over a field"}]


def test_a_guard_answer_in_no_known_format_fails_closed(tmp_path):
    m = moderator(
        tmp_path,
        transport=_endpoint(
            lambda request: httpx.Response(
                200, json={"choices": [{"message": {"content": "I think it is fine"}}]}
            )
        ),
        endpoint={"url": "http://guard.local/v1", "api": "chat_guard"},
    )
    assert m.check_text("a red kite", "prompt").categories == ["unavailable"]
