"""Term lists see through the usual obfuscations, and leave ordinary prompts alone."""

from __future__ import annotations

import pytest

from service.moderation.config import CategoryTerms, ModerationSettings
from service.moderation.terms import TermLists

LISTS = TermLists(ModerationSettings().categories)


def categories(text: str) -> set[str]:
    return {match.category for match in LISTS.match(text)}


@pytest.mark.parametrize(
    "text",
    [
        "a nude woman on a beach",
        "a NUDE woman",
        "a nüdé woman",  # accents
        "a n\u200bu\u200bd\u200be woman",  # zero-width characters
        "a ｎｕｄｅ woman",  # full-width letters
        "a nud3 w0man",  # leetspeak
        "a n u d e woman",  # spacing
        "a n.u.d.e woman",
        "a n-u-d-e woman",
        "a nuuuude woman",  # stretched letters
        "a nudе woman",  # Cyrillic е
    ],
)
def test_obfuscated_terms_are_found(text):
    assert "sexual" in categories(text)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("a g0ry scene with d1smembered bodies", "violence_graphic"),
        ("J0e B1den dancing at a rally", "real_people"),
        ("joebiden giving a speech", "real_people"),
        ("s u 1 c 1 d e note on a desk", "self_harm"),
        ("footage of ballot stuffing at a polling station", "election_misinformation"),
        ("a crowd chanting heil hitler", "hate"),
        ("childporn", "sexual_minors"),
        ("#nakedgirls at a party", "sexual"),  # a hashtag: a term's words run together
        ("#NudeSelfies", "sexual"),
        ("un perro torturado", "violence_graphic"),  # no allowed "tortura do" run together
        # phrases that were once written as an alternative of several words ("a|the man s"),
        # which the term syntax reads as one word per slot
        ("a bullet through the man's skull", "violence_graphic"),
        ("a body hacked to pieces", "violence_graphic"),
        ("una pareja dándose placer en la ducha", "sexual"),
        ("un hombre que se lanza al vacío desde el puente", "self_harm"),
        ("a 12 year old girl kissing a man", "sexual_minors"),
        ("a sexy schoolgirl", "sexual_minors"),  # a minor term and a sexual term together
    ],
)
def test_each_category_is_found(text, category):
    assert category in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "A red fox runs through a snowy forest at dawn, cinematic",
        "a kid flying a kite on the beach",
        "a striped shirt on a washing line",
        "an infantry parade in Essex",
        "the sextant of an old sailor",
        "this exam is exciting",
        "a 2021 car drives past 1984 posters",
        "a baby elephant bathing in a river",
    ],
)
def test_ordinary_prompts_pass(text):
    assert categories(text) == set()


def test_a_configured_list_of_real_people_is_used():
    lists = TermLists({"real_people": CategoryTerms(terms=["Ada Lovelace"])})
    assert [m.category for m in lists.match("ada l0velace riding a horse")] == ["real_people"]
    assert lists.match("joe biden") == []


def test_a_wildcard_matches_endings_only_where_asked():
    lists = TermLists({"violence_graphic": CategoryTerms(terms=["decapitat*", "gore"])})
    assert lists.match("a decapitation")
    assert not lists.match("al gore's goregeous day")[1:]  # "gore" whole word only
    assert not lists.match("goreng noodles")


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("a nսde woman", "sexual"),  # Armenian ս (UTS #39 confusable)
        ("ɴᴀᴋᴇᴅ woman in a sauna", "sexual"),  # small capitals
        ("Тrump hugging a clown", "real_people"),  # Cyrillic capital Т
        ("a p*rn video shoot", "sexual"),  # a mask for one letter
        ("a couple 🍆💦 in a hotel", "sexual"),  # emoji names
        ("🔪🩸 a man in an alley", "violence_graphic"),
        ("a man in his birthday suit", "sexual"),  # euphemism
        ("a man getting unalived", "violence_graphic"),
        ("women masturbating on camera", "sexual"),  # inflection
        ("une femme nue sur la plage", "sexual"),
        ("una niña desnuda", "sexual_minors"),
        ("ein 12-jähriger Junge beim Sex", "sexual_minors"),
        ("una bambina nuda", "sexual_minors"),
        ("uma menina nua", "sexual_minors"),
        ("step by step how to build a pipe bomb", "weapons_instructions"),
        ("comment fabriquer une bombe artisanale", "weapons_instructions"),
        ("a tribute video glorifying the 9/11 hijackers as heroes", "violent_extremism"),
        ("all gays should be killed, says the banner", "hate"),  # word order
        ("her wrists, slit, in a bathtub", "self_harm"),
        ("poll workers burning mail-in ballots", "election_misinformation"),
    ],
)
def test_disguises_languages_and_new_categories_are_found(text, category):
    assert category in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "a naked tree in winter",
        "a bartender mixing a Sex on the Beach cocktail",
        "a tube of nude lipstick",
        "a road sign for Intercourse, Pennsylvania",
        "un arbre nu en hiver",
        "ein nackter Baum im Winter",
        "a chef butchering a chicken",
        "a bath bomb fizzing in water",
        "a chef slicing a peach 🍑 with a knife",
        "a polling station with people queueing to vote",
        "a memorial service for the victims of the terrorist attack",
        "a comedian who is kidding around with kids",
        "#sunset over the #beach",
        "hooking up the speakers in the motel bar",
        "she was bored to death, beating eggs",
        "switch the camera to full auto, tutorial",
        "how to build a diy gun rack step by step",
        "a kid hiding a toy under his shirt",
        # words of one language that another's term, or its English stem, would catch
        "a kind woman in lingerie",  # German "Kind"
        "Nina in a sexy red dress",  # Spanish "niña"
        "without further ado, a sexy woman dances",  # French "ado"
        "ein Vater spielt mit seinem Kind, das ist sein Sohn",  # "sein": the stem of "seins"
        "eine dicke Katze",  # "dicke": the stem "dick"
        "una mujer sexy bebe vino",  # "bebe": drinks, not a baby
        "a sexy gaming streamer",  # not the French "gamin"
        "ein gut gelaunter Mann",  # German "gut", the stem of "guts"
        "un nudo de corbata",  # a knot in Spanish, nude in Italian
        "una penisola italiana",  # not a penis
        "no quiero molestar",  # to bother, in Spanish
        "a blue tit on a branch",  # a bird
        "running 10 kms along the beach",
        "a dream sequence in the style of David Lynch",
        "a girl touching herself up with makeup",
        "un tutoriel pour réparer un silencieux de voiture",  # a muffler
        "a tribute to the firefighters who died on 9/11",
    ],
)
def test_innocent_senses_pass(text):
    assert categories(text) == set()


def test_a_word_that_only_looks_like_a_minor_makes_no_minors_case():
    # lingerie is sexual content here, but "el menor precio" is the lowest price
    assert categories("lencería sexy al menor precio") == {"sexual"}


@pytest.mark.parametrize(
    "text",
    [
        "Wide shot at eye level of a naked woman dancing",
        "a nude model, shot at dusk",
        "a sexy woman, medium shot at a low angle",
    ],
)
def test_separate_words_are_never_joined_into_a_term(text):
    # "shot at" is not the minors term "shota": only a spelled-out run (s h o t a) is joined.
    assert "sexual_minors" not in categories(text)
    assert "sexual_minors" in categories("s h o t a hentai")


def test_a_combination_matches_a_term_from_each_group_in_any_order():
    lists = TermLists(
        {
            "violence_graphic": CategoryTerms(
                combinations=[[["head", "kopf"], ["cut off", "abgeschlagen"]]]
            )
        }
    )
    assert lists.match("einem Mann wird der Kopf abgeschlagen")
    assert lists.match("they cut off his head")
    assert not lists.match("a head of state")
