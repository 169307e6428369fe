"""The attribute reader is an oracle only if it reads the synthetic clips themselves right."""

from __future__ import annotations

import random

from pipeline.toy import clips
from pipeline.toy.measure import measure


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
