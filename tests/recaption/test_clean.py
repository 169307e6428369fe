"""Cleaning LLM answers: what wraps the rewrite goes, the rewrite stays."""

from __future__ import annotations

import pytest

from recaption.clean import clean_output

BODY = "A cat sleeps on a red sofa in soft afternoon light."


@pytest.mark.parametrize(
    ("raw", "note"),
    [
        (f"<think>The user wants a cat. I should add light.</think>\n{BODY}", "stripped_thinking"),
        (f"<thinking>plan</thinking>{BODY}", "stripped_thinking"),
        (f"reasoning that lost its opening tag</think>{BODY}", "stripped_thinking"),
        (f"Sure! Here is the expanded prompt:\n\n{BODY}", "stripped_preamble"),
        (f"Expanded prompt: {BODY}", "stripped_preamble"),
        (f"**Prompt:** {BODY}", "stripped_preamble"),
        (f"```\n{BODY}\n```", "stripped_formatting"),
        (f"```text\n{BODY}\n```", "stripped_formatting"),
        (f'"{BODY}"', "stripped_formatting"),
        (f"\u201c{BODY}\u201d", "stripped_formatting"),
        (f"{BODY}\n\nNote: I kept the cat as the only subject.", "stripped_formatting"),
        (f"<prompt>{BODY}</prompt>", "stripped_formatting"),
    ],
)
def test_wrappers_are_removed_and_noted(raw, note):
    text, notes = clean_output(raw)
    assert text == BODY
    assert note in notes


def test_an_unfinished_thought_leaves_nothing():
    assert clean_output("<think>Let me think about cats and")[0] == ""


def test_quotes_inside_the_answer_are_kept():
    text, notes = clean_output('A shop front with a sign reading "OPEN" glows in the rain.')
    assert text == 'A shop front with a sign reading "OPEN" glows in the rain.'
    assert notes == []
