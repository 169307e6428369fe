"""The recaptioner: (prompt, target model, seed, mode) -> a checked rewrite.

mode off               -> status off, the prompt as written
mode auto, long prompt -> status skipped, the prompt as written
backend rules          -> status rewritten
an LLM backend         -> cache, or the LLM; its answer is validated
    refusal                  -> status blocked: nothing is rendered, no fallback
    passes                   -> status rewritten (and cached)
    fails                    -> one greedy retry, told what was wrong; then
    fails again, or an error -> status fallback: the rules rewrite, with every reason
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from recaption import result as codes
from recaption.backends import BackendError, LLMBackend
from recaption.cache import CachedRewrite, RecaptionCache, cache_key
from recaption.config import Mode, RecaptionConfig
from recaption.result import RecaptionResult, RecaptionTarget
from recaption.rules import rules_rewrite
from recaption.styled import styled_rewrite
from recaption.templates import WordTarget, build_messages, template_text, word_target
from recaption.text import normalize, word_count
from recaption.validate import check_rewrite, describe_failures

logger = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    if os.environ.get("OPENREEL_CACHE_DIR"):
        return Path(os.environ["OPENREEL_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "openreel"


class Recaptioner:
    """Thread-safe; build one per process and share it (the LLM is loaded once)."""

    def __init__(
        self,
        config: RecaptionConfig | None = None,
        *,
        backend: LLMBackend | None = None,
        cache_dir: Path | None = None,
        screen: Callable[[str], Iterable[str]] | None = None,
    ) -> None:
        """`screen`: categories of concern of a text; a rewrite that falls in one its prompt
        does not is refused like one that adds a sensitive term (see validate.check_rewrite)."""
        self.config = config or RecaptionConfig()
        self._screen = screen
        self._backend = backend
        self._backend_lock = threading.Lock()
        self._cache_dir = cache_dir or default_cache_dir()
        self._cache = RecaptionCache(self.config.cache) if self.config.cache.enabled else None
        text = template_text(self.config)
        self._template_hash = hashlib.sha256(text.encode()).hexdigest()[:12]
        # Everything in the config that can change an accepted rewrite, for cache keys.
        self._config_hash = cache_key(
            **self.config.model_dump(mode="json", exclude={"mode", "auto_min_words", "cache"})
        )

    def backend(self) -> LLMBackend:
        """The LLM backend of the config, built on first use."""
        with self._backend_lock:
            if self._backend is None:
                if self.config.backend == "transformers":
                    from recaption.local_lm import TransformersBackend

                    self._backend = TransformersBackend(
                        self.config.transformers, cache_dir=self._cache_dir
                    )
                elif self.config.backend == "openai":
                    from recaption.openai_api import OpenAIBackend

                    self._backend = OpenAIBackend(self.config.openai)
                else:
                    raise ValueError("the rules backend has no LLM")
            return self._backend

    def recaption(
        self, prompt: str, target: RecaptionTarget, *, seed: int = 0, mode: Mode | None = None
    ) -> RecaptionResult:
        mode = mode or self.config.mode
        if mode not in ("off", "auto", "on"):
            raise ValueError(f"mode must be off, auto or on, got {mode!r}")
        original = prompt
        bounds = word_target(self.config, target.token_budget)

        # 1. Modes that keep the prompt as written
        long_enough = mode == "auto" and word_count(original) >= self.config.auto_min_words
        if mode == "off" or long_enough:
            return RecaptionResult(
                original=original,
                prompt=original,
                status="off" if mode == "off" else "skipped",
                backend="none",
                tokens=target.tokens(original),
            )

        # 2. Rules: deterministic, safe by construction, nothing to validate. A model trained
        #    on one caption form gets that form (whatever the backend: an LLM would not know it).
        if target.caption_style is not None:
            return self._styled_result(original, target)
        if self.config.backend == "rules":
            return self._rules_result(original, target, bounds, seed, "rewritten", ())

        # 3. A validated rewrite made earlier
        backend = self.backend()
        key = cache_key(
            prompt=normalize(original),
            backend=self.config.backend,
            model=backend.model,
            template=self.config.template,
            template_hash=self._template_hash,
            config=self._config_hash,
            seed=seed,
            family=target.family,
            budget=target.token_budget,
            tokenizer=target.tokenizer_id,
        )
        if self._cache is not None and (hit := self._cache.get(key)) is not None:
            return self._llm_result(original, backend, hit.prompt, hit.tokens, hit.reasons, True)

        # 4. The LLM, and one greedy retry that is told what was wrong
        reasons: list[str] = []
        feedback: str | None = None
        for attempt in (1, 2):
            messages = build_messages(self.config, original, bounds, feedback=feedback)
            try:
                raw = backend.complete(messages, seed=seed, greedy=attempt == 2)
            except BackendError as exc:
                logger.warning("recaption backend %s failed: %s", backend.name, exc.detail)
                reasons.append(exc.code)
                return self._rules_result(
                    original, target, bounds, seed, "fallback", reasons, detail=exc.detail
                )
            verdict = check_rewrite(
                original,
                raw,
                config=self.config,
                target=target,
                bounds=bounds,
                screen=self._screen,
            )
            if verdict.refused:
                return RecaptionResult(
                    original=original,
                    prompt=None,
                    status="blocked",
                    reasons=(codes.REFUSED,),
                    backend=backend.name,
                    model=backend.model,
                    template_version=self.config.template,
                )
            if verdict.ok:
                notes = (*verdict.notes, codes.RETRIED) if attempt == 2 else tuple(verdict.notes)
                if self._cache is not None:
                    self._cache.put(key, CachedRewrite(verdict.text, verdict.tokens, notes))
                return self._llm_result(original, backend, verdict.text, verdict.tokens, notes)
            reasons.extend(code for code in verdict.failures if code not in reasons)
            feedback = describe_failures(verdict.failures)

        # 5. Fall back to the rules rewrite, saying why
        detail = f"{backend.name} model {backend.model}: both answers failed validation"
        return self._rules_result(
            original, target, bounds, seed, "fallback", reasons, detail=detail
        )

    def _styled_result(self, original: str, target: RecaptionTarget) -> RecaptionResult:
        assert target.caption_style is not None
        styled = styled_rewrite(original, target.caption_style)
        reasons = []
        if styled.unknown_words:
            reasons.append(codes.UNKNOWN_WORDS)
        if styled.ignored:
            reasons.append(codes.IGNORED_WORDS)
        if styled.defaulted:
            reasons.append(codes.DEFAULTED_SLOTS)
        return RecaptionResult(
            original=original,
            prompt=styled.text,
            status="rewritten",
            reasons=tuple(reasons),
            backend="rules",
            tokens=target.tokens(styled.text),
            detail=styled.summary(),
        )

    def _rules_result(
        self,
        original: str,
        target: RecaptionTarget,
        bounds: WordTarget,
        seed: int,
        status: str,
        reasons: tuple[str, ...] | list[str],
        *,
        detail: str | None = None,
    ) -> RecaptionResult:
        def fits(text: str) -> bool:
            if word_count(text) > max(bounds.max_words, word_count(original)):
                return False
            return target.token_budget is None or target.tokens(text) <= target.token_budget

        prompt = rules_rewrite(original, seed=seed, fits=fits)
        tokens = target.tokens(prompt)
        reasons = list(reasons)
        if target.token_budget is not None and tokens > target.token_budget:
            reasons.append(
                codes.OVER_TOKEN_BUDGET
            )  # the prompt alone is over: the pipeline cuts it
        return RecaptionResult(
            original=original,
            prompt=prompt,
            status=status,
            reasons=tuple(reasons),
            backend="rules",
            tokens=tokens,
            detail=detail,
        )

    def _llm_result(
        self,
        original: str,
        backend: LLMBackend,
        prompt: str,
        tokens: int | None,
        reasons: tuple[str, ...],
        cached: bool = False,
    ) -> RecaptionResult:
        return RecaptionResult(
            original=original,
            prompt=prompt,
            status="rewritten",
            reasons=reasons,
            backend=backend.name,
            model=backend.model,
            template_version=self.config.template,
            tokens=tokens,
            cached=cached,
        )
