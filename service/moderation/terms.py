"""Term lists compiled to patterns over normalised text.

Each letter of a term may repeat (nuuude), and one space may stand between any two of its
letters (n u d e, n.u.d.e, childporn and child porn alike). A match must start and end at
word boundaries, so a term inside a longer word (Essex, sextant) does not match.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from service.moderation.config import CategoryTerms
from service.moderation.normalize import normalize_term, variants


@dataclass(frozen=True)
class TermMatch:
    category: str
    term: str


def _pattern(term: str) -> str:
    wildcard = term.rstrip().endswith("*")
    letters = normalize_term(term.rstrip().rstrip("*")).replace(" ", "")
    body = " ?".join(re.escape(char) + "+" for char in letters)
    return rf"(?<![a-z0-9]){body}" + (r"[a-z0-9]*" if wildcard else r"(?![a-z0-9])")


def _compile(terms: list[str]) -> list[tuple[str, re.Pattern[str]]]:
    return [
        (term, re.compile(_pattern(term))) for term in terms if normalize_term(term.rstrip("*"))
    ]


class TermLists:
    def __init__(self, categories: Mapping[str, CategoryTerms]) -> None:
        self._any = {name: _compile(c.terms) for name, c in categories.items()}
        self._all = {
            name: [_compile(group) for group in c.all_of] for name, c in categories.items()
        }

    def match(self, text: str) -> list[TermMatch]:
        """The categories `text` falls in, each with the term (or terms) that put it there."""
        texts = variants(text)
        found: list[TermMatch] = []
        for category, patterns in self._any.items():
            term = _first(patterns, texts)
            if term is not None:
                found.append(TermMatch(category, term))
                continue
            groups = self._all[category]
            if groups:
                hits = [_first(group, texts) for group in groups]
                if all(hit is not None for hit in hits):
                    found.append(TermMatch(category, " + ".join(hits)))
        return found


def _first(patterns: list[tuple[str, re.Pattern[str]]], texts: list[str]) -> str | None:
    for term, pattern in patterns:
        if any(pattern.search(text) for text in texts):
            return term
    return None
