"""Text as a term list sees it: the obfuscations people use to slip words past a filter undone.

- case and width: NFKC folds full-width and styled letters (ｎｕｄｅ, 𝐧𝐮𝐝𝐞) to plain ones,
  then casefold;
- accents: NFKD, combining marks dropped (nüdé -> nude);
- look-alike letters from other scripts (Cyrillic а, Greek ο ...) mapped to Latin;
- zero-width and invisible characters removed (n\u200bude -> nude);
- leetspeak, in words that have a letter: 0->o, 1->i or l, 3->e, 4->a, 5->s, 7->t, 8->b,
  @->a, $->s, |->l, +->t, and ! between letters ->i;
- spacing tricks: every run of other characters becomes one space, and the matcher allows one
  space between any two letters of a term (n u d e, n.u.d.e, n-u-d-e).
Because 1 reads as i or l, `variants` gives both readings.
"""

from __future__ import annotations

import re
import unicodedata

_INVISIBLE = dict.fromkeys(
    map(
        ord,
        "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
        "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u206a\u206b\u206c\u206d"
        "\u206e\u206f\u3164\ufeff\uffa0",
    ),
    None,
)

_LOOKALIKES = str.maketrans(
    {
        # Cyrillic
        "а": "a",
        "в": "b",
        "е": "e",
        "ё": "e",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "ѕ": "s",
        "і": "i",
        "ї": "i",
        "ј": "j",
        "һ": "h",
        "ԁ": "d",
        "ԛ": "q",
        "ԝ": "w",
        "ɡ": "g",
        # Greek
        "α": "a",
        "β": "b",
        "ε": "e",
        "η": "n",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
        "ω": "w",
    }
)

_LEET = str.maketrans(
    {
        "0": "o",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "8": "b",
        "@": "a",
        "$": "s",
        "+": "t",
        "|": "l",
    }
)
_ONE_AS = ("i", "l")

_OTHER = re.compile(r"[^a-z0-9]+")
_WORD = re.compile(r"\S+")
_BANG_INSIDE = re.compile(r"(?<=[a-z])!+(?=[a-z])")


def _unleet(word: str, one: str, *, spelled_out: bool = False) -> str:
    # Only words with a letter in them are leetspeak ("2021" and "$5" stay numbers), or a
    # lone character among lone letters (s u 1 c 1 d e).
    if not spelled_out and not any("a" <= char <= "z" for char in word):
        return word
    return _BANG_INSIDE.sub("i", word.replace("1", one)).translate(_LEET)


def _unleet_words(text: str, one: str) -> str:
    words = _WORD.findall(text)

    def lone_letter(index: int) -> bool:
        return 0 <= index < len(words) and len(words[index]) == 1 and words[index].isalpha()

    return " ".join(
        _unleet(
            word, one, spelled_out=len(word) == 1 and (lone_letter(i - 1) or lone_letter(i + 1))
        )
        for i, word in enumerate(words)
    )


def _base(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).casefold()
    text = "".join(
        char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char)
    )
    return text.translate(_LOOKALIKES)


def variants(text: str) -> list[str]:
    """The normalised readings of `text`: lowercase ASCII letters and digits, single spaces."""
    base = _base(text)
    readings = []
    for one in _ONE_AS:
        words = _unleet_words(base, one)
        reading = _OTHER.sub(" ", words).strip()
        if reading not in readings:
            readings.append(reading)
    return readings


def normalize_term(term: str) -> str:
    """A term from a list, normalised the way text is (its first reading)."""
    return variants(term)[0]
