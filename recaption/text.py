"""Small text tools shared by the rules rewriter and the validator: words, content words,
numbers, quoted strings, whole-word terms and sentence-boundary cuts."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")
NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
QUOTED = [
    re.compile(r'"([^"\n]+)"'),
    re.compile(r"\u201c([^\u201d\n]+)\u201d"),
    re.compile(r"\u00ab\s*([^\u00bb\n]+?)\s*\u00bb"),
    re.compile(r"(?:(?<=\s)|^)'([^'\n]+)'(?=[\s.,;:!?]|$)"),
]

STOPWORDS = frozenset(
    """
    a an the and or but nor so yet of in on at to from by for with without within into onto
    over under above below across along around through between behind beside near past
    up down off out about against among upon than then as while when where which who whom
    whose that this these those it its itself they them their there here is are was were be
    been being has have had do does did will would shall should can could may might must
    very really just also too only even more most less least much many some any each every
    all both few other such own same not no yes into toward towards onto via per
    i me my we us our you your he him his she her
    """.split()
)

# English function words: descriptive English prose is 20-40 % function words.
ENGLISH_FUNCTION_WORDS = frozenset(
    "the of and in with is are its their this that as at by from into over under while "
    "through an to on against across".split()
)

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100, "thousand": 1000,
    "dozen": 12, "single": 1, "pair": 2, "twin": 2, "twins": 2,
}  # fmt: skip


def normalize(text: str) -> str:
    """Unicode NFC and single spaces: two prompts that differ only there are the same prompt."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def words(text: str) -> list[str]:
    return WORD.findall(text)


_SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+|\n)[\"'\u201c\u2018(\[]*$")


def names(text: str) -> set[str]:
    """Capitalised words that do not start a sentence ("Barack", "Obama" in "a man, Barack
    Obama, ..."), casefolded: what a rewrite must not add."""
    found = set()
    for match in WORD.finditer(text):
        word = match.group()
        if len(word) < 2 or not word[0].isupper() or not word[1:].islower():
            continue  # lower case, or an acronym (HDR, IMAX), not a name
        if _SENTENCE_START.search(text[: match.start()]):
            continue
        found.add(word.casefold())
    return found


def word_count(text: str) -> int:
    return len(words(text)) + len(NUMBER.findall(text))


def stem(word: str) -> str:
    """A crude English stem, applied alike to both sides of a comparison."""
    word = word.lower().replace("\u2019", "'")
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def content_words(text: str) -> set[str]:
    """Stems of the words that carry meaning: not stopwords, not numbers, 3 letters or more."""
    return {
        stem(w)
        for w in words(text)
        if len(w) >= 3 and w.lower() not in STOPWORDS and w.lower() not in NUMBER_WORDS
    }


def numbers(text: str) -> set[int | str]:
    """Counts and numbers a text states: digits as written, number words as their value."""
    found: set[int | str] = set()
    for match in NUMBER.findall(text):
        found.add(int(match) if match.isdigit() else match)
    for word in words(text):
        value = NUMBER_WORDS.get(word.lower())
        if value is not None:
            found.add(value)
    return found


def quoted_strings(text: str) -> list[str]:
    found = []
    for pattern in QUOTED:
        found.extend(m.strip() for m in pattern.findall(text) if m.strip())
    return found


def _term_pattern(term: str) -> re.Pattern:
    return re.compile(rf"(?<![\w-]){re.escape(term)}(?:s|es)?(?![\w-])", re.IGNORECASE)


def terms_in(text: str, terms: Iterable[str]) -> set[str]:
    """Which of `terms` occur in `text` as whole words (plurals included, any case)."""
    return {term for term in terms if _term_pattern(term).search(text)}


def sentences(text: str) -> list[str]:
    return [part.strip() for part in SENTENCE_END.split(text.strip()) if part.strip()]


def cut_to_fit(text: str, fits: Callable[[str], bool]) -> str:
    """The longest run of whole sentences from the start that fits; "" if not even one does."""
    kept: list[str] = []
    for sentence in sentences(text):
        candidate = " ".join([*kept, sentence])
        if not fits(candidate):
            break
        kept.append(sentence)
    return " ".join(kept)
