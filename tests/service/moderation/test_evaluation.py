"""`openreel moderation eval` over the project's labelled prompts meets its targets, and a bad
set is refused with one line."""

from __future__ import annotations

import pytest

from service.cli import main
from service.moderation import ModerationSettings, Moderator
from service.moderation.defaults import CATEGORIES
from service.moderation.evaluation import DEFAULT_SET, EvalSetError, evaluate, load_cases

LANGUAGES = {"en", "fr", "es", "de", "it", "pt"}
DISGUISES = {
    "confusable", "emoji", "euphemism", "inflection", "leet", "mask", "smallcaps", "spacing",
    "wordorder",
}  # fmt: skip


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    moderator = Moderator(ModerationSettings(), cache_dir=tmp_path_factory.mktemp("cache"))
    cases = load_cases(DEFAULT_SET, CATEGORIES)
    return cases, evaluate(cases, lambda text: moderator.check_text(text, "prompt").categories)


def test_the_set_covers_every_category_language_and_disguise(report):
    cases, _ = report
    assert len(cases) >= 300
    for category in CATEGORIES:
        assert {c.language for c in cases if category in c.categories} == LANGUAGES, category
    assert {c.language for c in cases if c.benign} == LANGUAGES
    assert DISGUISES <= {c.disguise for c in cases if not c.benign}
    assert sum(c.disguise == "lookalike" for c in cases) >= 100


def test_recall_and_false_positives_meet_the_targets_per_category_and_language(report):
    _, result = report
    for name, tally in [*result.categories.items(), *result.languages.items()]:
        assert tally.recall is None or tally.recall >= 0.95, (name, result.misses)
        assert tally.false_positive_rate is None or tally.false_positive_rate <= 0.05, (
            name,
            result.false_alarms,
        )
    assert result.meets(0.95, 0.05)


def test_the_command_prints_the_tables_and_exits_0(capsys):
    assert main(["moderation", "eval"]) == 0
    out = capsys.readouterr().out
    assert "sexual_minors" in out and "recall" in out and "false pos." in out
    assert "\npt " in out and "\nconfusable " in out


def test_the_command_exits_1_when_a_target_is_missed(tmp_path, capsys):
    misses = tmp_path / "set.tsv"
    misses.write_text(
        "categories\tlanguage\tdisguise\ttext\n"
        "violence_graphic\ten\tplain\ta perfectly calm lake\n"
        "-\ten\tordinary\ta red kite\n",
        encoding="utf-8",
    )
    assert main(["moderation", "eval", "--file", str(misses), "--show"]) == 1
    assert "missed [violence_graphic] a perfectly calm lake" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("text\n", "header"),
        ("categories\tlanguage\tdisguise\ttext\nsexual\ten\n", ":2: expected 4"),
        ("categories\tlanguage\tdisguise\ttext\nlewd\ten\tplain\tx\n", "unknown category 'lewd'"),
        ("categories\tlanguage\tdisguise\ttext\n", "no prompts"),
    ],
)
def test_a_bad_set_is_a_usage_error(tmp_path, capsys, content, message):
    path = tmp_path / "bad.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(EvalSetError, match=message):
        load_cases(path, CATEGORIES)
    assert main(["moderation", "eval", "--file", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("openreel moderation: error:") and err.count("\n") == 1


def test_a_missing_set_is_a_usage_error(tmp_path, capsys):
    assert main(["moderation", "eval", "--file", str(tmp_path / "nope.tsv")]) == 2
    assert "nope.tsv" in capsys.readouterr().err
