"""Each check on LLM output, through the recaptioner with a scripted backend."""

from __future__ import annotations

import pytest

from recaption.rules import rules_rewrite
from tests.recaption.conftest import WAN

CAT = "a cat sleeping on a red sofa"
GOOD = (
    "A cat sleeping on a red sofa in a quiet living room, seen in a medium shot at eye "
    "level. Soft afternoon light falls across the sofa's fabric while the camera holds "
    "steady. Warm tones, shallow depth of field and a realistic film look."
)


def test_a_good_rewrite_is_used_as_it_is(scripted):
    recaptioner, backend = scripted(GOOD)
    result = recaptioner.recaption(CAT, WAN, seed=3)
    assert (result.status, result.prompt, result.reasons) == ("rewritten", GOOD, ())
    assert (result.backend, result.model, result.template_version) == ("scripted", "script-1", "v1")
    assert result.tokens is not None and len(backend.calls) == 1


@pytest.mark.parametrize(
    "answer", ["REFUSE", "REFUSE.", "  REFUSE\n", "I'm sorry, but I can't help with that."]
)
def test_a_refusal_blocks_and_never_falls_back(scripted, answer):
    recaptioner, backend = scripted(answer, GOOD)
    result = recaptioner.recaption(CAT, WAN)
    assert result.status == "blocked" and result.prompt is None
    assert result.reasons == ("refused",)
    assert len(backend.calls) == 1  # no retry, no rules rewrite of a refused prompt


@pytest.mark.parametrize(
    ("answer", "note"),
    [
        (f"<think>The user wants a cat on a sofa. Keep it.</think>{GOOD}", "stripped_thinking"),
        (f"Sure! Here is the expanded prompt:\n{GOOD}", "stripped_preamble"),
        (f"```\n{GOOD}\n```", "stripped_formatting"),
    ],
)
def test_wrapped_answers_are_cleaned_and_used(scripted, answer, note):
    recaptioner, _ = scripted(answer)
    result = recaptioner.recaption(CAT, WAN)
    assert result.status == "rewritten" and result.prompt == GOOD
    assert note in result.reasons


FRENCH = (
    "Un chat dort sur un canapé rouge dans un salon calme, filmé en plan moyen. La lumière "
    "douce de l'après-midi glisse sur le tissu du canapé pendant que la caméra reste fixe."
)
CHINESE = "一只猫睡在红色沙发上,午后柔和的光线洒在布料上,镜头保持稳定,画面温暖而真实,细节丰富。"
ADDED_MAN = GOOD.replace("quiet living room", "quiet living room while a man reads nearby")
ADDED_BLOOD = GOOD.replace("red sofa in", "red sofa stained with blood in")
# Long and varied (no repetition): in whole sentences, and as one run-on sentence.
SENTENCES = GOOD + (
    " Dust drifts slowly through a beam of light above the armrest. A folded wool blanket"
    " hangs over the back of the sofa, its fringe moving slightly in a draft. Behind the"
    " sofa, sheer curtains glow with pale daylight and soften every edge in the room. The"
    " polished wooden floor reflects a faint warm sheen near the window. Houseplants in"
    " clay pots stand on a low shelf, their leaves catching small highlights. Late in the"
    " shot, the light warms toward gold as a cloud passes outside. The framing stays"
    " balanced, with the sofa slightly left of center and calm negative space to the right."
)
RUN_ON = (
    "A cat sleeping on a red sofa " + " ".join(SENTENCES.split()[10:]).replace(".", ",")
).rstrip(",")
DROPPED = "A quiet living room seen in a medium shot at eye level, with soft afternoon light, warm tones and a realistic film look throughout."


@pytest.mark.parametrize(
    ("prompt", "answer", "reason"),
    [
        (CAT, FRENCH, "wrong_language"),
        (CAT, CHINESE, "wrong_language"),
        (CAT, "xq zzkr vbnm qwrtp xcvb plkjh mnbv zxcv qwrt lkjh gfds", "gibberish"),
        (CAT, "\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd", "gibberish"),
        (CAT, ("a cat on a sofa " * 12).strip(), "repetition"),
        (CAT, "A cat on a red sofa.", "too_short"),
        (CAT, RUN_ON, "too_long"),
        (
            'a shop front that says "OPEN 24H"',
            "A shop front glowing in the rain at night, seen in a wide shot at eye level, with a sign that says OPEN and soft reflections on the wet street, cinematic style.",
            "dropped_quote",
        ),
        (
            "three red balloons rise over a field",
            "Red balloons rise slowly over a wide green field in soft morning light, seen in a wide shot from a low angle as the camera tilts up, realistic style with rich color.",
            "dropped_number",
        ),
        (CAT, DROPPED, "dropped_content"),
        (CAT, ADDED_MAN, "added_subject"),
        (CAT, ADDED_BLOOD, "added_sensitive_term"),
    ],
)
def test_a_failing_answer_gets_one_greedy_retry_then_the_rules_rewrite(
    scripted, prompt, answer, reason
):
    recaptioner, backend = scripted(answer, answer)
    result = recaptioner.recaption(prompt, WAN, seed=5)
    assert result.status == "fallback"
    assert reason in result.reasons
    assert result.backend == "rules"
    assert result.prompt == rules_rewrite(prompt, seed=5)
    assert [call["greedy"] for call in backend.calls] == [False, True]
    assert "previous answer was rejected" in backend.calls[1]["messages"][-1]["content"]


def test_a_retry_that_passes_is_used_and_says_it_retried(scripted):
    recaptioner, backend = scripted("A cat.", GOOD)
    result = recaptioner.recaption(CAT, WAN)
    assert result.status == "rewritten" and result.prompt == GOOD
    assert "retried" in result.reasons
    assert "too short" in backend.calls[1]["messages"][-1]["content"]


def test_counts_written_as_words_or_digits_are_the_same_count(scripted):
    answer = (
        "3 red balloons rise slowly over a wide green field in soft morning light, seen in "
        "a wide shot from a low angle as the camera tilts up, realistic style."
    )
    recaptioner, _ = scripted(answer)
    assert recaptioner.recaption("three red balloons rise over a field", WAN).status == "rewritten"


def test_a_subject_the_prompt_names_may_be_repeated(scripted):
    answer = (
        "A man reads a newspaper on a park bench, seen in a medium shot at eye level. The man "
        "turns a page slowly while soft morning light filters through, realistic style."
    )
    recaptioner, _ = scripted(answer)
    assert (
        recaptioner.recaption("a man reads a newspaper on a park bench", WAN).status == "rewritten"
    )


def test_a_long_answer_is_cut_at_a_sentence_boundary_to_fit(scripted):
    long_answer = SENTENCES  # about 160 words in whole sentences
    recaptioner, _ = scripted(long_answer)
    result = recaptioner.recaption(CAT, WAN)
    assert result.status == "rewritten"
    assert "trimmed_to_budget" in result.reasons
    assert len(result.prompt.split()) <= 120 and result.prompt.endswith(".")
    assert long_answer.startswith(result.prompt)


# A rewrite that keeps every word of its prompt and adds what the user did not ask for.
BENCH = "a man reads a newspaper on a park bench"
KEPT_AND_NAMED = (
    "A man reads a newspaper on a park bench, seen in a medium shot at eye level. The man, "
    "Barack Obama, turns a page slowly while soft morning light filters through the trees."
)
KEPT_AND_GORY = (
    "A man reads a newspaper on a park bench, seen in a medium shot at eye level. Beside him "
    "lies a decapitated body, and soft morning light filters through the trees, realistic."
)


def test_a_rewrite_that_adds_a_name_falls_back_whatever_it_kept(scripted):
    recaptioner, _ = scripted(KEPT_AND_NAMED, KEPT_AND_NAMED)
    result = recaptioner.recaption(BENCH, WAN, seed=2)
    assert result.status == "fallback" and "added_name" in result.reasons
    assert "Obama" not in result.prompt


def test_names_the_prompt_has_and_sentence_starts_are_not_added_names(scripted):
    answer = (
        "A man reads Le Monde on a park bench in Paris, seen in a medium shot at eye level. "
        "Soft morning light filters through the trees while the man turns a page, realistic."
    )
    recaptioner, _ = scripted(answer)
    result = recaptioner.recaption("a man reads Le Monde on a park bench in paris", WAN)
    assert result.status == "rewritten", result.reasons


def test_a_screen_catches_added_content_its_own_list_does_not_name(tmp_path):
    from recaption import RecaptionConfig, Recaptioner
    from tests.recaption.conftest import ScriptedBackend

    def screen(text):
        return ["violence_graphic"] if "decapitated" in text else []

    backend = ScriptedBackend(KEPT_AND_GORY, KEPT_AND_GORY)
    recaptioner = Recaptioner(
        RecaptionConfig(backend="transformers", mode="on"),
        backend=backend,
        cache_dir=tmp_path,
        screen=screen,
    )
    result = recaptioner.recaption(BENCH, WAN, seed=2)
    assert result.status == "fallback" and "added_sensitive_term" in result.reasons
    assert "decapitated" not in result.prompt
