"""The semantic layer: a prompt is compared, as a sentence embedding, with labelled example
prompts; when its nearest disallowed example is close enough, and closer than any benign
example by a margin, the prompt takes that example's categories.

It catches what the term lists have no entry for (other wordings of the same request). The
encoder is WordLlama's `l2_supercat_256` (static token embeddings from Llama 2, averaged; MIT):
16 MB of weights inside the `wordllama` wheel, so nothing is downloaded at run time, and
about 0.1 ms a prompt on one core. It is English-centric: other languages are understood
through the words they share with English and the examples in that language.

An example never votes on its own text, so that `openreel moderation eval` over the same
labelled prompts measures each one against the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from service.moderation.evaluation import Case

_IDENTICAL = 1.0 - 1e-6


@dataclass(frozen=True)
class SemanticHit:
    categories: frozenset[str]
    example: str
    score: float
    """Cosine similarity with the example."""


def _encoder():
    from safetensors import safe_open
    from tokenizers import Tokenizer
    from wordllama.inference import WordLlamaInference

    package = resources.files("wordllama")
    with resources.as_file(package / "tokenizers" / "l2_supercat_tokenizer_config.json") as path:
        tokenizer = Tokenizer.from_file(str(path))
    with resources.as_file(package / "weights" / "l2_supercat_256.safetensors") as path:
        with safe_open(str(Path(path)), framework="np", device="cpu") as weights:
            embedding = weights.get_tensor("embedding.weight")
    return WordLlamaInference(embedding, tokenizer)


class SemanticMatcher:
    def __init__(self, examples: list[Case], *, threshold: float, margin: float) -> None:
        self.threshold = threshold
        self.margin = margin
        self._encoder = _encoder()
        self._texts = [case.text for case in examples]
        self._labels = [case.categories for case in examples]
        self._benign = np.array([case.benign for case in examples])
        self._vectors = self._embed(self._texts)

    def _embed(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._encoder.embed(texts, norm=True), dtype=np.float32)

    def match(self, text: str) -> SemanticHit | None:
        scores = self._vectors @ self._embed([text])[0]
        scores[scores >= _IDENTICAL] = -1.0  # an example does not vote on itself
        harmful = np.where(~self._benign, scores, -1.0)
        best = int(harmful.argmax())
        nearest_benign = float(np.where(self._benign, scores, -1.0).max())
        score = float(harmful[best])
        if score < self.threshold or score - nearest_benign < self.margin:
            return None
        return SemanticHit(self._labels[best], self._texts[best], score)
