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
    verdict = m.check_text("a knight amid the carnage on a street", "revised_prompt")
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
