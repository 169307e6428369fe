"""The attribute reader is an oracle only if it reads the synthetic clips themselves right."""

from __future__ import annotations

import random

from pipeline.toy import clips
from pipeline.toy.measure import measure
from pipeline.toy.prompts import to_caption


def test_measure_reads_every_attribute_of_rendered_clips():
    rng = random.Random(0)
    wrong = []
    combos = clips.all_combinations()
    for combo in combos:
        spec = clips.random_spec(combo, rng)
        got = measure(clips.render(spec)).as_dict()
        want = dict(zip(("colour", "shape", "motion", "background"), combo, strict=True))
        wrong += [(combo, a) for a in want if got[a] != want[a]]
    # shape is the hard one at 32x32; the others must be exact
    assert [w for w in wrong if w[1] != "shape"] == []
    assert len(wrong) <= len(combos) * 0.1


def test_short_prompts_map_to_the_training_caption_style():
    rng = random.Random(1)
    for combo in clips.all_combinations():
        short = clips.short_prompt(*combo, rng)
        assert to_caption(short).caption == clips.caption(*combo), short
    mapped = to_caption("a green triangle moving up on a white background")
    assert mapped.caption == "a green triangle moves up on a white background"
    assert mapped.unknown_words == [] and mapped.defaulted == []


def test_unknown_words_and_missing_attributes_are_reported():
    mapped = to_caption("red ball zooming right")
    assert mapped.unknown_words == ["zooming"]
    assert mapped.defaulted == ["background"]
    assert mapped.caption == "a red circle moves to the right on a black background"
