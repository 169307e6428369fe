"""The moderator: every configured check on a text or on frames, and one verdict.

Stages: `prompt` (the user's words, before queueing), `revised_prompt` (after recaption,
before the model) and `output` (sampled frames, before anything is stored). A verdict's
outcome depends on the role's mode: enforce blocks; flag lets the job run, recorded and
confidential, except for the categories in `always_block`.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import numpy as np

from service.moderation.config import ModerationSettings
from service.moderation.defaults import IMPLIES
from service.moderation.endpoint import EndpointError, ModerationEndpoint
from service.moderation.terms import TermLists
from service.moderation.typos import warm_word_lists

logger = logging.getLogger(__name__)

Stage = Literal["prompt", "revised_prompt", "output"]
Outcome = Literal["allowed", "blocked", "flagged"]

BLOCKED_MESSAGE = "Your request was blocked by our moderation system."


@dataclass(frozen=True)
class Finding:
    category: str
    source: str
    """terms, semantic, classifier, endpoint or frames."""
    detail: str
    """The term, the label and score, or the endpoint's category."""


@dataclass
class Verdict:
    stage: Stage
    findings: list[Finding] = field(default_factory=list)

    @property
    def categories(self) -> list[str]:
        return sorted({finding.category for finding in self.findings})

    def outcome(self, mode: str, always_block: list[str]) -> Outcome:
        if not self.findings:
            return "allowed"
        if mode == "flag" and not set(self.categories) & set(always_block):
            return "flagged"
        return "blocked"

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "categories": self.categories,
            "findings": [
                {"category": f.category, "source": f.source, "detail": f.detail}
                for f in self.findings
            ],
        }


def flagged_categories(record: list[dict[str, Any]]) -> list[str]:
    """The categories flagged (not blocked) in a job's stored verdicts, sorted."""
    return sorted(
        {
            category
            for verdict in record
            if verdict.get("outcome") == "flagged"
            for category in verdict["categories"]
        }
    )


class Moderator:
    def __init__(
        self,
        settings: ModerationSettings,
        *,
        cache_dir: Path,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.cache_dir = cache_dir
        self.terms = TermLists(settings.categories)
        if settings.enabled:
            # the word lists that tell a misspelling from a word load here, at start, not in
            # the first request (about a second)
            warm_word_lists()
        self.endpoint = (
            ModerationEndpoint(settings.endpoint, transport=transport)
            if settings.enabled and settings.endpoint.url
            else None
        )
        self._semantic_matcher = None
        self._text_classifier = None
        self._frame_classifier = None
        self._loading = threading.Lock()

    def outcome(self, verdict: Verdict, mode: str) -> Outcome:
        return verdict.outcome(mode, self.settings.always_block)

    def check_text(self, text: str, stage: Stage) -> Verdict:
        verdict = Verdict(stage)
        if not self.settings.enabled:
            return verdict
        found = set()
        for match in self.terms.match(text):
            verdict.findings.append(Finding(match.category, "terms", match.term))
            found.add(match.category)
        semantic = self._semantic()
        hit = semantic.match(text) if semantic is not None else None
        if hit is not None:
            # A likeness is not evidence of a minor: the always-blocked categories come only
            # from the terms, the classifier or the endpoint (an example of one counts as
            # the category it implies: sexual_minors as sexual).
            categories = {
                implied
                for category in hit.categories
                for implied in (
                    IMPLIES.get(category, frozenset())
                    if category in self.settings.always_block
                    else {category}
                )
            }
            for category in sorted(categories - found):
                verdict.findings.append(
                    Finding(category, "semantic", f"like {hit.example!r} ({hit.score:.2f})")
                )
        classifier = self._text()
        if classifier is not None:
            for hit in classifier.classify(text):
                verdict.findings.append(
                    Finding(hit.category, "classifier", f"{hit.label} {hit.score:.2f}")
                )
        if self.endpoint is not None:
            try:
                for category in self.endpoint.flagged_categories(text):
                    verdict.findings.append(Finding(category, "endpoint", category))
            except EndpointError as exc:
                logger.warning("moderation endpoint failed: %s", exc)
                if self.settings.endpoint.on_error == "block":
                    verdict.findings.append(
                        Finding("unavailable", "endpoint", f"no answer (fails closed): {exc}")
                    )
        return verdict

    def check_frames(self, frames: np.ndarray) -> Verdict:
        verdict = Verdict("output")
        classifier = self._frames() if self.settings.enabled else None
        if classifier is not None:
            for hit in classifier.classify(frames):
                verdict.findings.append(
                    Finding(hit.category, "frames", f"{hit.label} {hit.score:.2f}")
                )
        return verdict

    @property
    def checks_frames(self) -> bool:
        return self.settings.enabled and self.settings.frames.model is not None

    def _semantic(self):
        config = self.settings.semantic
        if not config.enabled:
            return None
        with self._loading:
            if self._semantic_matcher is None:
                from service.moderation.defaults import CATEGORIES
                from service.moderation.evaluation import DEFAULT_SET, load_cases
                from service.moderation.semantic import SemanticMatcher

                examples = load_cases(config.examples or DEFAULT_SET, CATEGORIES)
                self._semantic_matcher = SemanticMatcher(
                    examples, threshold=config.threshold, margin=config.margin
                )
        return self._semantic_matcher

    def _text(self):
        config = self.settings.classifier
        if config.model is None:
            return None
        with self._loading:
            if self._text_classifier is None:
                from service.moderation.classifiers import TextClassifier

                self._text_classifier = TextClassifier(
                    config.model,
                    cache_dir=self.cache_dir,
                    threshold=config.threshold,
                    labels=config.labels,
                )
        return self._text_classifier

    def _frames(self):
        config = self.settings.frames
        if config.model is None:
            return None
        with self._loading:
            if self._frame_classifier is None:
                from service.moderation.classifiers import FrameClassifier

                self._frame_classifier = FrameClassifier(
                    config.model,
                    cache_dir=self.cache_dir,
                    threshold=config.threshold,
                    samples=config.samples,
                    labels=config.labels,
                )
        return self._frame_classifier
