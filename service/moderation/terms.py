"""Term lists matched over the tokens of normalised text (`normalize.py`).

A term is one or more words. A word matches a token when
- it is the same word, or an English inflection of it: the same Snowball stem (kills, killing
  and killed match kill; plurals in -s of the other languages too: desnudas matches desnuda).
  Other languages' terms list their forms or end in `*`: Romance stemmers strip final vowels,
  so across languages they join words that are not the same ("shot" and "shota");
- it ends in `*` and the token starts with it (`pedo*` matches pedophile);
- the token stretches its letters (nuuude) or hides some behind masks (p*rn, one mask for
  one letter);
- it is `a|b|c`: any of those;
- the token is no word of the six languages and one letter off a word of the term
  ("undresed", "brests": `typos.py`).
The words of a term match consecutive tokens, or the term written as one word (childporn,
joebiden), or a stretch of a spelled-out run (n u d e). A term never matches across words the
text does not have ("shot at" is not "shota").

A category's `allow` phrases are its innocent senses: tokens they cover are not looked at for
that category ("a naked tree", "nude lipstick", "Sex on the Beach").
"""

from __future__ import annotations

import itertools
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache

import snowballstemmer

from service.moderation.config import CategoryTerms
from service.moderation.normalize import MASKS, Token, normalize_term, readings
from service.moderation.typos import TypoIndex

_STEMMER = snowballstemmer.stemmer("english")
_MIN_STEM = 3
_STRETCHED = re.compile(r"(.)\1\1")
_SQUEEZE = re.compile(r"(.)\1+")

Key = tuple[str, str]

_CACHED_WORDS = 1 << 16

_MAX_JOINED = 256
"""A term of several words, each of three letters or more, is matched run together too when
its alternatives make at most this many combinations (an allowed phrase only as written)."""


@dataclass(frozen=True)
class TermMatch:
    category: str
    term: str
    """The words that matched, normalised (for an all_of match, one per group, joined by +)."""


@dataclass(frozen=True)
class _Alternative:
    form: str
    prefix: bool


@cache
def _stems(word: str) -> frozenset[Key]:
    stem = _STEMMER.stemWord(word)
    return frozenset({("stem", stem)}) if len(stem) >= _MIN_STEM else frozenset()


def _keys(alternative: _Alternative, *, base_only: bool = False) -> frozenset[Key]:
    """`base_only`: the word covers its inflections only when it is itself a base form (an
    allowed "kidding" must not cover "kid")."""
    if alternative.prefix:
        return frozenset({("prefix", alternative.form)})
    stems = _stems(alternative.form)
    if base_only and stems != {("stem", alternative.form)}:
        stems = frozenset()
    return frozenset(
        {("word", alternative.form), ("squeezed", _SQUEEZE.sub(r"\1", alternative.form))} | stems
    )


@cache
def _token_keys(word: str) -> frozenset[Key]:
    keys = {("word", word)} | _stems(word)
    keys |= {("prefix", word[:end]) for end in range(1, len(word) + 1)}
    if _STRETCHED.search(word):
        squeezed = _SQUEEZE.sub(r"\1", word)
        keys |= {("squeezed", squeezed)} | {
            ("prefix", squeezed[:e]) for e in range(1, len(squeezed) + 1)
        }
    return frozenset(keys)


@dataclass(frozen=True)
class _Term:
    text: str
    words: tuple[tuple[_Alternative, ...], ...]
    keys: tuple[frozenset[Key], ...]


def _parse(term: str, base_only: bool) -> list[_Term]:
    """A term as written, and, when it has several words and no alternatives, the same words
    run together as one."""
    words = []
    for raw in term.split():
        alternatives = []
        for part in raw.split("|"):
            prefix = part.endswith("*")
            form = normalize_term(part.rstrip("*")).replace(" ", "")
            if form:
                alternatives.append(_Alternative(form, prefix))
        if alternatives:
            words.append(tuple(alternatives))
    if not words:
        return []
    parsed = [_Term(term, tuple(words), tuple(_word_keys(word, base_only) for word in words))]
    single = all(len(word) == 1 for word in words)
    if len(words) > 1 and (
        single
        or not base_only
        and math.prod(len(word) for word in words) <= _MAX_JOINED
        and all(len(a.form) >= 3 for word in words for a in word)
    ):
        # Run together ("childporn", "#nakedgirls"), the words are matched as written (no
        # stems: "nudisco" is not "nude"), each combination of the alternatives; short words
        # are left out of combinations ("tortura do" would be "torturado").
        joined = tuple(
            _Alternative("".join(a.form for a in combo), combo[-1].prefix)
            for combo in itertools.product(*words)
        )
        keys = frozenset().union(*(_keys(a) if a.prefix else {("word", a.form)} for a in joined))
        parsed.append(_Term(term, (joined,), (keys,)))
    return parsed


def _word_keys(word: tuple[_Alternative, ...], base_only: bool) -> frozenset[Key]:
    return frozenset().union(*(_keys(a, base_only=base_only) for a in word))


class _Compiled:
    """One list of terms, indexed by the keys of each term's first word."""

    def __init__(self, terms: Iterable[str], *, base_only: bool = False) -> None:
        self.terms = [parsed for term in terms for parsed in _parse(term, base_only)]
        self.index: dict[Key, list[int]] = defaultdict(list)
        for number, term in enumerate(self.terms):
            for key in term.keys[0]:
                self.index[key].append(number)
        self.first_keys = frozenset(self.index)
        self.forms = {
            (alternative.form, alternative.prefix)
            for term in self.terms
            for word in term.words
            for alternative in word
        }

    def spans(
        self, keys: list[frozenset[Key]], skip: set[int], every: frozenset[Key] | None = None
    ) -> Iterable[tuple[_Term, int, int]]:
        """Each match as (term, first token, end token), tokens in `skip` not matched.
        `every`: the union of `keys`, when known (most lists share no key with a prompt)."""
        if every is not None and self.first_keys.isdisjoint(every):
            return
        for start, token_keys in enumerate(keys):
            if start in skip:
                continue
            found = token_keys & self.index.keys()  # in C: a token has many keys, few in the index
            if not found:
                continue
            candidates = sorted({n for key in found for n in self.index[key]})
            for number in candidates:
                term = self.terms[number]
                end = start + len(term.words)
                if end > len(keys) or any(i in skip for i in range(start, end)):
                    continue
                if all(term.keys[j] & keys[start + j] for j in range(1, len(term.words))):
                    yield term, start, end


class TermLists:
    def __init__(self, categories: Mapping[str, CategoryTerms]) -> None:
        self._any = {name: _Compiled(c.terms) for name, c in categories.items()}
        self._all = {
            name: [
                [_Compiled(group) for group in rule]
                for rule in ([c.all_of] if c.all_of else []) + c.combinations
            ]
            for name, c in categories.items()
        }
        self._allow = {name: _Compiled(c.allow, base_only=True) for name, c in categories.items()}
        self._forms = set().union(
            *(compiled.forms for compiled in self._any.values()),
            *(group.forms for rules in self._all.values() for rule in rules for group in rule),
            *(compiled.forms for compiled in self._allow.values()),
        )
        self._typos = TypoIndex(self._forms)
        # bounded: a server sees an endless stream of new words
        self._typo_keys = lru_cache(maxsize=_CACHED_WORDS)(self._misspelt_keys)

    def match(self, text: str) -> list[TermMatch]:
        """The categories `text` falls in, each with the term (or terms) that put it there."""
        keyed = []
        for reading in readings(text):
            keys = [self._keys_of(token) for token in reading]
            keyed.append((reading, keys, frozenset().union(*keys)))
        found: list[TermMatch] = []
        for category, compiled in self._any.items():
            allow = self._allow[category]
            hit = None
            for reading, keys, every in keyed:
                skip = {i for _, s, e in allow.spans(keys, set(), every) for i in range(s, e)}
                hit = _first(compiled, reading, keys, skip, every)
                for rule in self._all[category] if hit is None else ():
                    hits = [_first(group, reading, keys, skip, every) for group in rule]
                    if all(h is not None for h in hits):
                        hit = " + ".join(hits)  # type: ignore[arg-type]
                        break
                if hit is not None:
                    break
            if hit is not None:
                found.append(TermMatch(category, hit))
        return found

    def _keys_of(self, token: Token) -> frozenset[Key]:
        if token.masked:
            return self._unmasked_keys(token.text)
        keys = _token_keys(token.text)
        if token.spelled:
            keys = keys | self._inside_keys(token.text)
        return keys | self._typo_keys(token.text)

    def _misspelt_keys(self, word: str) -> frozenset[Key]:
        found: set[Key] = set()
        for form, prefix in self._typos.near(word):
            found |= {("prefix", form)} if prefix else {("word", form)} | _stems(form)
        return frozenset(found)

    def _unmasked_keys(self, word: str) -> frozenset[Key]:
        def fits(form: str) -> bool:
            return all(w == f or w in MASKS for w, f in zip(word, form, strict=False))

        keys: set[Key] = set()
        for form, prefix in self._forms:
            if prefix and len(word) >= len(form) and fits(form):
                keys.add(("prefix", form))
            elif not prefix and len(word) == len(form) and fits(form):
                keys |= {("word", form)} | _stems(form)
        return frozenset(keys)

    def _inside_keys(self, run: str) -> frozenset[Key]:
        keys: set[Key] = set()
        for form, prefix in self._forms:
            if len(form) >= _MIN_STEM and form in run:
                keys.add(("prefix", form) if prefix else ("word", form))
        return frozenset(keys)


def _first(
    compiled: _Compiled,
    reading: tuple[Token, ...],
    keys: list[frozenset[Key]],
    skip: set[int],
    every: frozenset[Key] | None = None,
) -> str | None:
    """The words of the first match, as the text has them (normalised)."""
    for _, start, end in compiled.spans(keys, skip, every):
        return " ".join(token.text for token in reading[start:end])
    return None
