"""Strip what LLMs wrap around an answer: <think> blocks, code fences, preambles, labels,
markdown and surrounding quotes. Returns the text and notes of what was removed."""

from __future__ import annotations

import re

from recaption.result import STRIPPED_FORMATTING, STRIPPED_PREAMBLE, STRIPPED_THINKING
from recaption.templates import PROMPT_CLOSE, PROMPT_OPEN

_THINK = re.compile(r"<think(?:ing)?>.*?</think(?:ing)?>", re.IGNORECASE | re.DOTALL)
# An unclosed <think> at the very start: the model never finished thinking.
_UNCLOSED_THINK = re.compile(r"^\s*<think(?:ing)?>.*\Z", re.IGNORECASE | re.DOTALL)
# A closing tag with no opening one (some servers strip the opening tag): drop up to it.
_ORPHAN_CLOSE = re.compile(r"^.*?</think(?:ing)?>", re.IGNORECASE | re.DOTALL)
_FENCE = re.compile(r"```[\w-]*\n?(.*?)```", re.DOTALL)
_PREAMBLES = [
    re.compile(r"^(?:sure|certainly|of course|okay|ok|absolutely|great)\b[!,.]*\s*", re.I),
    re.compile(r"^here(?:'s|\u2019s| is| are)\b[^:\n]{0,100}:\s*", re.I),
    re.compile(
        r"^(?:the\s+)?(?:expanded|rewritten|revised|enhanced|detailed|improved|final|new)?\s*"
        r"(?:video\s+)?(?:prompt|description|caption|output|answer|result|version)\s*:\s*",
        re.I,
    ),
]
_BOLD_LABEL = re.compile(r"^\*\*[^*\n]{1,60}\*\*:?\s*")
_HEADING = re.compile(r"^#{1,6}\s+[^\n]*\n+")
_TRAILING_NOTE = re.compile(r"\n\s*\(?(?:note|notes|explanation)\s*:.*\Z", re.I | re.DOTALL)
_QUOTE_PAIRS = [('"', '"'), ("\u201c", "\u201d"), ("'", "'"), ("\u00ab", "\u00bb")]


def clean_output(raw: str) -> tuple[str, list[str]]:
    notes: list[str] = []
    text = raw.strip()

    # 1. Reasoning the model wrote before its answer
    stripped = _THINK.sub("", text)
    stripped = _UNCLOSED_THINK.sub("", stripped)
    if re.search(r"</think(?:ing)?>", stripped, re.I):
        stripped = _ORPHAN_CLOSE.sub("", stripped)
    if stripped != text:
        notes.append(STRIPPED_THINKING)
        text = stripped.strip()

    # 2. Code fences, markdown headings, echoed delimiters, trailing notes
    before = text
    fence = _FENCE.search(text)
    if fence:
        text = fence.group(1).strip()
    text = _HEADING.sub("", text)
    text = _TRAILING_NOTE.sub("", text)
    text = text.replace(PROMPT_OPEN, " ").replace(PROMPT_CLOSE, " ").strip()
    formatting_removed = text != before

    # 3. Preambles and labels ("Sure! Here is the expanded prompt:"), repeatedly
    while True:
        before = text
        for pattern in (*_PREAMBLES, _BOLD_LABEL):
            text = pattern.sub("", text, count=1).lstrip()
        if text == before:
            break
        if STRIPPED_PREAMBLE not in notes:
            notes.append(STRIPPED_PREAMBLE)

    # 4. Quotes around the whole answer (quotes inside it are the prompt's and stay)
    for left, right in _QUOTE_PAIRS:
        if len(text) > 1 and text.startswith(left) and text.endswith(right):
            inner = text[1:-1]
            if left not in inner and right not in inner:
                text = inner.strip()
                formatting_removed = True
                break

    if formatting_removed:
        notes.append(STRIPPED_FORMATTING)
    return " ".join(text.split()), notes
