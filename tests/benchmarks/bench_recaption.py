"""Benchmark: the time of one recaption.

Run:  OMP_NUM_THREADS=1 python tests/benchmarks/bench_recaption.py

Target: a `rules` rewrite in under 1 ms per prompt (counting tokens with the tiny-wan
tokenizer, as `generate` does). A tiny-llm rewrite (two LLM answers, both rejected, then
the rules fallback) is measured and printed, with no target.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

torch.set_num_threads(1)

from pipeline.loading import load_tokenizer  # noqa: E402
from pipeline.tiny import tiny_model_config  # noqa: E402
from recaption import RecaptionConfig, Recaptioner, RecaptionTarget  # noqa: E402
from service.jobs.recaptioning import recaption_target  # noqa: E402

PROMPTS = [
    "a cat",
    "a red kite over a green hill",
    "two dogs play in the snow at night",
    'a neon shop front that says "OPEN" in the rain',
    "waves crash on black rocks, aerial drone shot",
    "steam rises from a cup of coffee, close-up, warm light",
    "a paper boat drifts down a flooded street",
    "an empty train platform at dawn, fog",
]


def per_prompt_ms(recaptioner: Recaptioner, target: RecaptionTarget, rounds: int) -> float:
    times = []
    for seed in range(rounds):
        started = time.perf_counter()
        for prompt in PROMPTS:
            recaptioner.recaption(prompt, target, seed=seed)
        times.append((time.perf_counter() - started) / len(PROMPTS))
    return min(times) * 1000


def main() -> None:
    config = tiny_model_config("tiny-wan")
    target = recaption_target(config, load_tokenizer(config))
    rules_ms = per_prompt_ms(Recaptioner(), target, rounds=50)
    rules_no_tokenizer_ms = per_prompt_ms(
        Recaptioner(), RecaptionTarget(family="wan2.1", token_budget=512), rounds=50
    )
    with tempfile.TemporaryDirectory() as scratch:
        llm = Recaptioner(
            RecaptionConfig(backend="transformers", mode="on", cache={"enabled": False}),
            cache_dir=Path(os.environ.get("OPENREEL_CACHE_DIR", scratch)),
        )
        llm.recaption("a cat", target)  # load the model once, outside the timing
        llm_times = []
        for prompt in PROMPTS[:4]:
            started = time.perf_counter()
            result = llm.recaption(prompt, target)
            llm_times.append(time.perf_counter() - started)
    tiny_llm_ms = statistics.median(llm_times) * 1000
    print(
        f"rules rewrite, tokens counted with the tiny-wan tokenizer: {rules_ms:.3f} ms/prompt (target < 1)"
    )
    print(f"rules rewrite, tokens estimated from words: {rules_no_tokenizer_ms:.3f} ms/prompt")
    print(
        f"tiny-llm rewrite (2 answers + fallback), median of 4: {tiny_llm_ms:.0f} ms/prompt ({result.status})"
    )
    print(
        json.dumps(
            {
                "rules_ms": round(rules_ms, 3),
                "rules_estimated_tokens_ms": round(rules_no_tokenizer_ms, 3),
                "tiny_llm_ms": round(tiny_llm_ms, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
