"""A misspelt term is still the term; a real word is never read as a misspelling."""

from __future__ import annotations

import pytest

from service.moderation.config import ModerationSettings
from service.moderation.terms import TermLists
from service.moderation.typos import TypoIndex

LISTS = TermLists(ModerationSettings().categories)


def categories(text: str) -> set[str]:
    return {match.category for match in LISTS.match(text)}


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("a woman getting undresed on a bed", "sexual"),  # a letter left out of a stem
        ("a nakde woman", "sexual"),  # two letters swapped
        ("showing her brests", "sexual"),
        ("a man decapitaed with a sword", "violence_graphic"),
        ("a suicde note on the table", "self_harm"),
    ],
)
def test_misspelt_terms_are_found(text, category):
    assert category in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "laughter in the park",  # a word one letter from "slaughter"
        "a girl beading a necklace",  # ... from "beheading"
        "una bomba de baño en la bañera",  # "banera", accents off, is a word, not "beaner"
        "a walk in the citty at night",  # one letter changed in a short word is not enough
        "a striper jumping out of the water",  # the fish
    ],
)
def test_real_words_are_not_misspellings(text):
    assert categories(text) == set()


def test_an_edit_is_one_letter_and_only_for_words_that_do_not_exist():
    index = TypoIndex([("breasts", False), ("undress", True)])
    assert index.near("brests") == [("breasts", False)]
    assert index.near("undresing") == [("undress", True)]
    assert index.near("brsts") == []  # two letters off
    assert index.near("breast") == []  # a word of its own
