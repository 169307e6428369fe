"""Check what an LLM wrote before it reaches a video model.

Every check runs and every failure is reported, so a fallback says all that was wrong.
The text that is checked for content is the text that will be used: after cleaning and
after any cut to fit the target text encoder's token budget.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from recaption import result as codes
from recaption.clean import clean_output
from recaption.config import RecaptionConfig
from recaption.result import RecaptionTarget
from recaption.templates import WordTarget
from recaption.text import (
    ENGLISH_FUNCTION_WORDS,
    content_words,
    cut_to_fit,
    names,
    numbers,
    quoted_strings,
    terms_in,
    word_count,
    words,
)

_REFUSE = re.compile(r"^\W*REFUSE\b")
_PROSE_REFUSAL = re.compile(
    r"^(?:i'?m sorry|i am sorry|sorry,|i can(?:not|'t|\u2019t)|i won'?t|i will not|"
    r"i'm unable|i am unable|as an ai\b)",
    re.IGNORECASE,
)
_SCRIPTS = {
    "zh": ("CJK",),
    "ja": ("CJK", "HIRAGANA", "KATAKANA"),
    "ko": ("HANGUL",),
    "ru": ("CYRILLIC",),
    "uk": ("CYRILLIC",),
}
_VOWELS = set("aeiouyàáâäãåèéêëìíîïòóôöõùúûüýÿæœø")


@dataclass
class Verdict:
    text: str
    """The usable rewrite (cleaned and cut to fit); meaningful only when `ok`."""
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    refused: bool = False
    tokens: int | None = None

    @property
    def ok(self) -> bool:
        return not self.failures and not self.refused


def check_rewrite(
    original: str,
    raw: str,
    *,
    config: RecaptionConfig,
    target: RecaptionTarget,
    bounds: WordTarget,
    screen: Callable[[str], Iterable[str]] | None = None,
) -> Verdict:
    """`screen`: the categories of concern a text falls in (the service passes its moderation
    term lists); a rewrite may not fall in one its original does not."""
    text, notes = clean_output(raw)
    verdict = Verdict(text=text, notes=notes)

    # 1. Something to use, and not a refusal
    if not text:
        verdict.failures.append(codes.EMPTY)
        return verdict
    if _REFUSE.match(text) or _PROSE_REFUSAL.match(text):
        verdict.refused = True
        return verdict

    # 2. Language and form
    if not _in_language(text, config.language):
        verdict.failures.append(codes.WRONG_LANGUAGE)
    if _is_gibberish(text):
        verdict.failures.append(codes.GIBBERISH)
    if _is_repetitive(text):
        verdict.failures.append(codes.REPETITION)
    if verdict.failures:
        return verdict  # content checks on gibberish would only add noise

    # 3. Length: cut at a sentence boundary to fit the word limit and the token budget
    def fits(candidate: str) -> bool:
        if word_count(candidate) > bounds.max_words:
            return False
        return target.token_budget is None or target.tokens(candidate) <= target.token_budget

    if not fits(text):
        cut = cut_to_fit(text, fits)
        if word_count(cut) < bounds.min_words:
            verdict.failures.append(codes.TOO_LONG)
            return verdict
        text = cut
        verdict.notes.append(codes.TRIMMED_TO_BUDGET)
    elif word_count(text) < bounds.min_words:
        verdict.failures.append(codes.TOO_SHORT)
    verdict.text = text
    verdict.tokens = target.tokens(text)

    # 4. What the prompt said must still be said, and nothing new of concern added
    if any(quote not in text for quote in quoted_strings(original)):
        verdict.failures.append(codes.DROPPED_QUOTE)
    if not numbers(original) <= numbers(text):
        verdict.failures.append(codes.DROPPED_NUMBER)
    wanted = content_words(original)
    if wanted and len(wanted & content_words(text)) / len(wanted) < config.min_content_overlap:
        verdict.failures.append(codes.DROPPED_CONTENT)
    if terms_in(text, config.subject_terms) - terms_in(original, config.subject_terms):
        verdict.failures.append(codes.ADDED_SUBJECT)
    added_sensitive = terms_in(text, config.sensitive_terms) - terms_in(
        original, config.sensitive_terms
    )
    if added_sensitive or (screen is not None and set(screen(text)) - set(screen(original))):
        verdict.failures.append(codes.ADDED_SENSITIVE_TERM)
    # Whatever words it kept: a name it brings in is a person, brand or place the user did
    # not ask for (a deepfake risk), and the name check does not depend on any list.
    original_words = {word.casefold() for word in words(original)}
    if names(text) - original_words:
        verdict.failures.append(codes.ADDED_NAME)
    return verdict


def describe_failures(failures: list[str]) -> str:
    """The failures in words, for the retry message to the LLM."""
    explanations = {
        codes.EMPTY: "it was empty",
        codes.WRONG_LANGUAGE: "it was not in the requested language",
        codes.GIBBERISH: "it was not readable prose",
        codes.REPETITION: "it repeated itself",
        codes.TOO_SHORT: "it was too short",
        codes.TOO_LONG: "it was too long",
        codes.DROPPED_QUOTE: "it did not keep the quoted text exactly",
        codes.DROPPED_NUMBER: "it changed or dropped a number or count",
        codes.DROPPED_CONTENT: "it dropped subjects or actions of the prompt",
        codes.ADDED_SUBJECT: "it added people, animals, text or objects",
        codes.ADDED_SENSITIVE_TERM: "it added sensitive content",
        codes.ADDED_NAME: "it added a name (a person, brand or place) the prompt did not have",
    }
    return "; ".join(explanations.get(code, code) for code in failures)


def _letters(text: str) -> list[str]:
    return [ch for ch in text if ch.isalpha()]


def _in_language(text: str, language: str) -> bool:
    letters = _letters(text)
    if not letters:
        return False
    scripts = _SCRIPTS.get(language, ("LATIN",))
    in_script = sum(any(s in unicodedata.name(ch, "") for s in scripts) for ch in letters)
    if in_script / len(letters) < 0.9:
        return False
    if language == "en":
        found = [w.lower() for w in words(text)]
        if len(found) >= 8:
            share = sum(w in ENGLISH_FUNCTION_WORDS for w in found) / len(found)
            return share >= 0.08
    return True


def _is_gibberish(text: str) -> bool:
    if "\ufffd" in text or any(unicodedata.category(ch) in ("Cc", "Co", "Cn") for ch in text):
        return True
    tokens = text.split()
    letters = _letters(text)
    if len(letters) < 0.6 * len(text.replace(" ", "")):
        return True

    def wordlike(token: str) -> bool:
        core = token.strip(".,;:!?\"'()[]\u201c\u201d\u2019-")
        if not core:
            return False
        if core.replace(".", "").replace(",", "").isdigit():
            return True
        if not all(part.isalpha() for part in re.split(r"['\u2019-]", core) if part):
            return False
        if len(core) > 25:
            return False
        is_latin = all("LATIN" in unicodedata.name(ch, "") for ch in core if ch.isalpha())
        return not is_latin or any(ch.lower() in _VOWELS for ch in core)

    return sum(wordlike(t) for t in tokens) / len(tokens) < 0.8


def _is_repetitive(text: str) -> bool:
    found = [w.lower() for w in words(text)]
    if len(found) < 6:
        return False
    # The same word four times in a row, or a three-word phrase that keeps coming back.
    if any(len(set(found[i : i + 4])) == 1 for i in range(len(found) - 3)):
        return True
    trigrams = Counter(zip(found, found[1:], found[2:], strict=False))
    return trigrams.most_common(1)[0][1] >= 4 or len(trigrams) / (len(found) - 2) < 0.7
