"""Misspelt terms: a word that is no word of the six languages, one edit (a letter left out,
added, changed, or two swapped) from a term's word ("undresed", "brests", "decapitaed").

Whether a word exists comes from `wordfreq` (word frequencies of 40 languages, from
subtitles, Wikipedia, books and the web): a real word is never read as another one, so
"laughter" is not "slaughter" nor "beading" "beheading". Candidates are found as SymSpell
does, by the words' single-letter deletions."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from functools import cache, lru_cache

LANGUAGES = ("en", "fr", "es", "de", "it", "pt")
MIN_LENGTH = 5
"""Shorter words are too close to too many others for one edit to say which was meant."""
ANY_EDIT_LENGTH = 6
"""Below this, only two letters swapped ("nakde"): one letter changed makes "citty" of
"titty"."""
KNOWN_ZIPF = 1.5
"""A word this frequent in any of the languages (Zipf scale: 1.5 is about one in 30 million
words) is a word of its own, not a misspelling."""
COMMON_WORDS = 200_000
"""Words per language, most frequent first, whose accents are taken off to know them in
normalised text (about 1.5 s once per process)."""


@lru_cache(maxsize=1 << 16)
def is_word(token: str) -> bool:
    from wordfreq import zipf_frequency

    return token in _folded_words() or any(
        zipf_frequency(token, language) >= KNOWN_ZIPF for language in LANGUAGES
    )


@cache
def _folded_words() -> frozenset[str]:
    """The languages' common words that have accents, as normalised text has them: "bañera"
    is read "banera", which is a word, not a misspelling of "beaner"."""
    from wordfreq import top_n_list

    folded = set()
    for language in LANGUAGES:
        for word in top_n_list(language, COMMON_WORDS):
            if not word.isascii():
                stripped = unicodedata.normalize("NFKD", word)
                folded.add("".join(c for c in stripped if not unicodedata.combining(c)).casefold())
    return frozenset(folded)


def warm_word_lists() -> None:
    is_word("openreel")


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _one_edit(form: str, word: str) -> bool:
    """Damerau: at most one letter left out, added, changed, or two neighbours swapped (only
    the swap for a short `form`)."""
    a, b = form, word
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1 or len(form) < ANY_EDIT_LENGTH and len(a) != len(b):
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return (len(diff) == 1 and len(form) >= ANY_EDIT_LENGTH) or (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


class TypoIndex:
    """Term words (whole, or the stem before a `*`) by their single-letter deletions."""

    def __init__(self, forms: Iterable[tuple[str, bool]]) -> None:
        self._by_deletion: dict[tuple[str, bool], set[str]] = defaultdict(set)
        self._prefix_lengths: set[int] = set()
        for form, prefix in forms:
            if len(form) < MIN_LENGTH or not form.isalpha():
                continue
            for key in _deletions(form) | {form}:
                self._by_deletion[key, prefix].add(form)
            if prefix:
                self._prefix_lengths.add(len(form))

    def near(self, token: str) -> list[tuple[str, bool]]:
        """(form, prefix) of the term words `token` misspells; none for a real word."""
        if len(token) < MIN_LENGTH or not token.isalpha() or is_word(token):
            return []
        found = {(form, False) for form in self._candidates(token, False) if _one_edit(form, token)}
        # A misspelt stem: the token's start, as long as the stem or one letter more or less
        for length in self._prefix_lengths:
            for cut in {length - 1, length, length + 1}:
                if MIN_LENGTH - 1 <= cut <= len(token):
                    start = token[:cut]
                    found |= {
                        (form, True)
                        for form in self._candidates(start, True)
                        if len(form) == length and form != start and _one_edit(form, start)
                    }
        return sorted(found)

    def _candidates(self, word: str, prefix: bool) -> set[str]:
        out: set[str] = set()
        for key in _deletions(word) | {word}:
            out |= self._by_deletion.get((key, prefix), set())
        return out
