"""A scripted LLM backend: answers (or errors) in order, and a record of every call."""

from __future__ import annotations

import pytest

from recaption import RecaptionConfig, Recaptioner, RecaptionTarget


class ScriptedBackend:
    name = "scripted"
    model = "script-1"

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def complete(self, messages, *, seed, greedy):
        self.calls.append({"messages": messages, "seed": seed, "greedy": greedy})
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


WAN = RecaptionTarget(family="wan2.1", token_budget=512)


@pytest.fixture
def scripted(tmp_path):
    """scripted(*answers, **config) -> (Recaptioner, backend)."""

    def make(*answers, **config):
        backend = ScriptedBackend(*answers)
        settings = RecaptionConfig(backend="transformers", mode="on", **config)
        return Recaptioner(settings, backend=backend, cache_dir=tmp_path), backend

    return make
