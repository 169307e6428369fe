"""Does the toy model follow prompts? Held-out combinations (colour x shape x motion x
background never seen together in training) are rendered from short prompts, with recaption
(the short prompt mapped into the caption style) and without (fed raw); each clip's
attributes are read back from its frames and compared with the prompt's.

Long clips (`seconds`) are rendered window by window through the service's own path
(`pipeline.render.render_video`) and read back one second at a time: every second must
show what the prompt asks, the last ten as well as the first ten (drift)."""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.request import GenerationRequest
from pipeline.toy import clips
from pipeline.toy.measure import measure

ATTRIBUTES = ("colour", "shape", "motion", "background")
TARGETS = {"colour": 0.9, "motion": 0.9, "background": 0.9, "shape": 0.75}
LONG_TARGETS = {"colour": 0.95, "motion": 0.9, "background": 0.95, "shape": 0.75}
DRIFT_TARGET = 0.05
"""The most any attribute's accuracy may fall from a long clip's first ten seconds to its
last ten."""
MODES = ("recaption", "raw")


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


def render_long(
    model, prompt: str, *, seconds: float, seed: int, steps: int | None = None
) -> np.ndarray:
    """A clip of `seconds` as the service renders it, window by window, each window after
    the first continuing the one before; (frames, height, width, 3) uint8, unmarked."""
    from pipeline.render import render_video

    plan = model.plan(GenerationRequest(prompt, seconds=seconds, seed=seed, steps=steps))
    frames: list[np.ndarray] = []
    with tempfile.TemporaryDirectory(prefix="openreel-toy-eval-") as scratch:
        render_video(
            model, plan, Path(scratch) / "clip.mp4", check_frames=lambda f: frames.append(f.copy())
        )
    return np.concatenate(frames)


def seconds_of(frames: np.ndarray, fps: int) -> list[np.ndarray]:
    """The clip cut into whole seconds (a last part shorter than a second is left out)."""
    return [frames[i : i + fps] for i in range(0, len(frames) - fps + 1, fps)]


def _prompts(n: int, seed: int) -> list[tuple[tuple[str, str, str, str], str]]:
    """n held-out combinations, each with a short prompt for it."""
    _, held = clips.split_combinations(seed)
    rng = random.Random(seed + 1)
    return [
        (held[index % len(held)], clips.short_prompt(*held[index % len(held)], rng))
        for index in range(n)
    ]


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
    hits = {mode: dict.fromkeys(ATTRIBUTES, 0) for mode in MODES}
    for index, (combo, short) in enumerate(_prompts(n, seed)):
        want = dict(zip(ATTRIBUTES, combo, strict=True))
        for mode, prompt in (("recaption", recaption(short)), ("raw", short)):
            got = measure(render(model, prompt, seed=seed + index, steps=steps)).as_dict()
            for attribute in ATTRIBUTES:
                hits[mode][attribute] += got[attribute] == want[attribute]
        if progress is not None:
            progress(index + 1, n)
    accuracy = {mode: {a: hits[mode][a] / n for a in ATTRIBUTES} for mode in hits}
    return Evaluation(n=n, accuracy=accuracy)


@dataclass
class LongEvaluation:
    """Accuracy per one-second window of long clips."""

    n: int
    seconds: int
    """Whole seconds read per clip."""
    hits: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    """{mode: {attribute: [clips right in second 0, second 1, ...]}}"""

    @property
    def span(self) -> int:
        """Seconds at each end that drift compares: ten, or half the clip if shorter."""
        return max(1, min(10, self.seconds // 2))

    def accuracy(self, mode: str, attribute: str, part: str = "all") -> float:
        per_second = self.hits[mode][attribute]
        chosen = {
            "all": per_second,
            "first": per_second[: self.span],
            "last": per_second[-self.span :],
        }[part]
        return sum(chosen) / (self.n * len(chosen))

    def drift(self, mode: str, attribute: str) -> float:
        """How far accuracy fell from the first seconds to the last (negative: it rose)."""
        return self.accuracy(mode, attribute, "first") - self.accuracy(mode, attribute, "last")

    def met(self) -> bool:
        return all(
            self.accuracy("recaption", a) >= LONG_TARGETS[a]
            and self.drift("recaption", a) <= DRIFT_TARGET
            for a in ATTRIBUTES
        )

    def table(self) -> str:
        span = self.span
        lines = [
            f"{self.n} clips of {self.seconds} s, read per one-second window "
            f"({self.n * self.seconds} windows per row)",
            f"{'':22s}" + "".join(f"{a:>12s}" for a in ATTRIBUTES),
        ]
        for mode in MODES:
            for label, part in ((mode, "all"), (f"  first {span} s", "first"),
                                (f"  last {span} s", "last")):  # fmt: skip
                lines.append(
                    f"{label:22s}"
                    + "".join(f"{self.accuracy(mode, a, part) * 100:11.1f}%" for a in ATTRIBUTES)
                )
            lines.append(
                f"{'  drift (points)':22s}"
                + "".join(f"{self.drift(mode, a) * 100:12.1f}" for a in ATTRIBUTES)
            )
        lines.append(
            f"{'target':22s}"
            + "".join(f"{LONG_TARGETS[a] * 100:11.0f}%" for a in ATTRIBUTES)
            + f"   (with recaption; drift at most {DRIFT_TARGET * 100:.0f} points)"
        )
        lines.append(f"targets {'met' if self.met() else 'NOT met'}")
        return "\n".join(lines)

    def as_json(self) -> dict:
        return {
            mode: {
                attribute: {
                    "accuracy": round(self.accuracy(mode, attribute), 4),
                    "first": round(self.accuracy(mode, attribute, "first"), 4),
                    "last": round(self.accuracy(mode, attribute, "last"), 4),
                    "drift": round(self.drift(mode, attribute), 4),
                }
                for attribute in ATTRIBUTES
            }
            for mode in MODES
        } | {"n": self.n, "seconds": self.seconds, "met": self.met()}


def score_long(
    model, recaption: Callable[[str], str], index: int, *, seconds: float, seed: int, steps: int
) -> dict[str, dict[str, list[bool]]]:
    """One held-out prompt's long clip, recaptioned and raw: {mode: {attribute: [right in
    second 0, second 1, ...]}}."""
    combo, short = _prompts(index + 1, seed)[index]
    want = dict(zip(ATTRIBUTES, combo, strict=True))
    out: dict[str, dict[str, list[bool]]] = {}
    for mode, prompt in (("recaption", recaption(short)), ("raw", short)):
        frames = render_long(model, prompt, seconds=seconds, seed=seed + index, steps=steps)
        got = [measure(part).as_dict() for part in seconds_of(frames, model.family.fps)]
        out[mode] = {a: [g[a] == want[a] for g in got] for a in ATTRIBUTES}
    return out


def evaluate_long(
    scores: Callable[[int], dict[str, dict[str, list[bool]]]],
    *,
    n: int,
    progress=None,
    map_=map,
) -> LongEvaluation:
    """Gather `scores(index)` (see `score_long`) of prompts 0 .. n - 1; `map_` may spread
    them over processes."""
    result: LongEvaluation | None = None
    for done, scored in enumerate(map_(scores, range(n)), start=1):
        if result is None:
            seconds = len(scored["recaption"]["colour"])
            result = LongEvaluation(
                n=n,
                seconds=seconds,
                hits={m: {a: [0] * seconds for a in ATTRIBUTES} for m in MODES},
            )
        for mode in MODES:
            for attribute in ATTRIBUTES:
                for second, right in enumerate(scored[mode][attribute]):
                    result.hits[mode][attribute][second] += right
        if progress is not None:
            progress(done, n)
    assert result is not None
    return result
