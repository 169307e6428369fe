"""Optional classifiers through transformers: one for prompts, one for output frames.

Any text-classification or image-classification model works (hub id or local path); its
labels name categories directly (violence_graphic) or through `labels` in the config.
`builtin:tiny-text-classifier` and `builtin:tiny-frame-classifier` are trained here, in
seconds, for tests (see tiny.py).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from service.moderation.defaults import CATEGORIES

BUILTIN_PREFIX = "builtin:"


@dataclass(frozen=True)
class LabelScore:
    category: str
    label: str
    score: float


def _resolve(model: str, cache_dir: Path) -> str:
    if model.startswith(BUILTIN_PREFIX):
        from service.moderation.tiny import ensure_tiny_classifier

        return str(ensure_tiny_classifier(model.removeprefix(BUILTIN_PREFIX), cache_dir))
    return model


def _categories(
    id2label: Mapping[int, str], labels: Mapping[str, str]
) -> dict[int, tuple[str, str]]:
    """Output index -> (category, label), for the labels that name a category."""
    out = {}
    for index, label in id2label.items():
        category = labels.get(label, label.lower().replace("/", "_").replace("-", "_"))
        if category in CATEGORIES:
            out[int(index)] = (category, label)
    return out


class TextClassifier:
    def __init__(
        self, model: str, *, cache_dir: Path, threshold: float, labels: Mapping[str, str]
    ) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        path = _resolve(model, cache_dir)
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModelForSequenceClassification.from_pretrained(path).eval()
        self.threshold = threshold
        self.categories = _categories(self.model.config.id2label, labels)
        self._lock = threading.Lock()  # one forward pass at a time: the API has many threads

    def classify(self, text: str) -> list[LabelScore]:
        """The categories scoring at least the threshold."""
        import torch

        inputs = self.tokenizer(text, return_tensors="pt", truncation=True, max_length=512)
        with self._lock, torch.inference_mode():
            logits = self.model(**inputs).logits[0]
        scores = _scores(logits, self.model.config.problem_type)
        return [
            LabelScore(category, label, float(scores[index]))
            for index, (category, label) in self.categories.items()
            if scores[index] >= self.threshold
        ]


class FrameClassifier:
    def __init__(
        self,
        model: str,
        *,
        cache_dir: Path,
        threshold: float,
        samples: int,
        labels: Mapping[str, str],
    ) -> None:
        from transformers import AutoImageProcessor, AutoModelForImageClassification

        path = _resolve(model, cache_dir)
        self.processor = AutoImageProcessor.from_pretrained(path)
        self.model = AutoModelForImageClassification.from_pretrained(path).eval()
        self.threshold = threshold
        self.samples = samples
        self.categories = _categories(self.model.config.id2label, labels)
        self._lock = threading.Lock()

    def classify(self, frames: np.ndarray) -> list[LabelScore]:
        """The categories that any of the sampled frames scores at least the threshold on,
        each with its highest score."""
        import torch

        picks = np.linspace(0, len(frames) - 1, num=min(self.samples, len(frames))).round()
        images = [frames[int(i)] for i in sorted(set(picks))]
        inputs = self.processor(images=images, return_tensors="pt")
        with self._lock, torch.inference_mode():
            logits = self.model(**inputs).logits
        scores = np.stack([_scores(row, self.model.config.problem_type) for row in logits])
        best = scores.max(axis=0)
        return [
            LabelScore(category, label, float(best[index]))
            for index, (category, label) in self.categories.items()
            if best[index] >= self.threshold
        ]


def _scores(logits, problem_type: str | None) -> np.ndarray:
    if problem_type == "multi_label_classification":
        return logits.sigmoid().float().numpy()
    return logits.softmax(-1).float().numpy()
