"""Does the toy model follow prompts? Held-out combinations (colour x shape x motion x
background never seen together in training) are rendered from short prompts, with recaption
(the short prompt mapped into the caption style) and without (fed raw); each clip's
attributes are read back from its frames and compared with the prompt's."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.request import GenerationRequest
from pipeline.toy import clips
from pipeline.toy.measure import measure

ATTRIBUTES = ("colour", "shape", "motion", "background")
TARGETS = {"colour": 0.9, "motion": 0.9, "background": 0.9, "shape": 0.75}


@dataclass
class Evaluation:
    n: int
    accuracy: dict[str, dict[str, float]]
    """{"recaption": {attribute: accuracy}, "raw": {...}}"""

    def table(self) -> str:
        lines = [f"{'':10s}" + "".join(f"{a:>12s}" for a in ATTRIBUTES)]
        for mode in ("recaption", "raw"):
            lines.append(
                f"{mode:10s}"
                + "".join(f"{self.accuracy[mode][a] * 100:11.1f}%" for a in ATTRIBUTES)
            )
        lines.append(
            f"{'target':10s}"
            + "".join(f"{TARGETS[a] * 100:11.0f}%" for a in ATTRIBUTES)
            + "   (with recaption)"
        )
        return "\n".join(lines)

    def as_json(self) -> dict:
        return {
            "recaption": {a: round(v, 4) for a, v in self.accuracy["recaption"].items()},
            "raw": {a: round(v, 4) for a, v in self.accuracy["raw"].items()},
            "n": self.n,
        }


def load_toy(source: str | Path):
    """The toy model in `source`, through the normal loader, with the toy-shapes preset."""
    from pipeline.loading import load_model
    from pipeline.toy.preset import NAME, toy_model_config

    return load_model(NAME, toy_model_config().model_copy(update={"source": str(source)}))


def render(model, prompt: str, *, seed: int, steps: int | None = None) -> np.ndarray:
    """A clip as the service renders it: the preset's size, frames, guidance and text budget."""
    plan = model.plan(GenerationRequest(prompt, seed=seed, steps=steps))
    return model.generate(plan).frames


def evaluate(
    model,
    recaption: Callable[[str], str],
    *,
    n: int = 100,
    seed: int = 0,
    steps: int = 20,
    progress=None,
) -> Evaluation:
    """`recaption` maps a short prompt to what the model gets (the rules recaptioner with the
    preset's caption style, in `openreel toy eval`)."""
    _, held = clips.split_combinations(seed)
    rng = random.Random(seed + 1)
    hits = {mode: dict.fromkeys(ATTRIBUTES, 0) for mode in ("recaption", "raw")}
    for index in range(n):
        colour, shape, motion, background = combo = held[index % len(held)]
        short = clips.short_prompt(*combo, rng)
        want = {"colour": colour, "shape": shape, "motion": motion, "background": background}
        for mode, prompt in (("recaption", recaption(short)), ("raw", short)):
            got = measure(render(model, prompt, seed=seed + index, steps=steps)).as_dict()
            for attribute in ATTRIBUTES:
                hits[mode][attribute] += got[attribute] == want[attribute]
        if progress is not None:
            progress(index + 1, n)
    accuracy = {mode: {a: hits[mode][a] / n for a in ATTRIBUTES} for mode in hits}
    return Evaluation(n=n, accuracy=accuracy)
