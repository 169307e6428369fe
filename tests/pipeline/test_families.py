"""The family table: frame-count rules, seconds -> frames, size rules."""

from __future__ import annotations

import pytest

from pipeline.families import FAMILIES, get_family, parse_size

# (family, seconds, frames): round(seconds x fps), then the smallest legal count >= that.
SECONDS_TO_FRAMES = [
    ("wan2.1", 1, 17),  # 16 -> 17 (4k+1)
    ("wan2.1", 2, 33),  # 32 -> 33
    ("wan2.1", 5, 81),  # 80 -> 81, the per-call maximum
    ("wan2.1", 0.01, 5),  # 0 -> the smallest legal count
    ("wan2.1", 1.03, 17),  # 16.48 -> 16 -> 17
    ("wan2.1", 1.04, 17),  # 16.64 -> 17 -> 17
    ("wan2.1", 1.07, 17),  # 17.12 -> 17, legal
    ("wan2.1", 1.1, 21),  # 17.6 -> 18 -> 21
    ("wan2.2-a14b", 5, 81),
    ("wan2.2-ti2v-5b", 5, 121),  # 120 -> 121 at 24 fps
    ("wan2.2-ti2v-5b", 2, 49),
    ("ltx-video", 2, 49),  # 48 -> 49 (8k+1)
    ("ltx-video", 1, 25),  # 24 -> 25
    ("ltx-video", 5, 121),
    ("ltx-video", 10.7, 257),  # 256.8 -> 257
    ("cogvideox", 6, 49),  # 48 -> 49 at 8 fps
    ("cogvideox", 2, 17),
    ("cogvideox", 1, 9),
    ("cogvideox1.5", 5, 81),  # 80 -> 81 (16k+1)
    ("cogvideox1.5", 10, 161),
    ("hunyuanvideo", 5, 121),
    ("hunyuanvideo", 5.3, 129),  # 127.2 -> 127 -> 129
]


@pytest.mark.parametrize(("family", "seconds", "frames"), SECONDS_TO_FRAMES)
def test_seconds_to_frames_follows_the_family_rule(family, seconds, frames):
    spec = get_family(family)
    assert spec.frames_for_seconds(seconds) == frames
    assert spec.is_legal_frame_count(frames)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_family_entry_is_consistent(family):
    spec = FAMILIES[family]
    assert spec.is_legal_frame_count(spec.max_frames)
    assert spec.frame_counts()[0] == spec.frame_step + 1
    assert spec.frame_counts()[-1] == spec.max_frames
    for size in spec.sizes:
        assert spec.size_problem(*parse_size(size)) is None
    assert spec.steps > 0 and spec.guidance >= 0 and spec.fps > 0
    assert (spec.guidance_2 is not None) == (spec.experts == 2)


def test_snap_frames_never_rounds_down():
    wan = get_family("wan2.1")
    for target in range(1, 90):
        snapped = wan.snap_frames(target)
        assert snapped >= target and wan.is_legal_frame_count(snapped)
        assert snapped - target < wan.frame_step or target < wan.min_frames


def test_size_rule_names_the_multiple():
    assert "multiples of 32" in get_family("ltx-video").size_problem(720, 480)
    assert get_family("wan2.1").size_problem(832, 480) is None


def test_unknown_family_lists_the_known_ones():
    with pytest.raises(ValueError, match="known families: wan2.1"):
        get_family("sora")


@pytest.mark.parametrize("bad", ["7", "x7", "7x", "axb", "7*7", "", "-8x8"])
def test_parse_size_refuses_what_is_not_widthxheight(bad):
    with pytest.raises(ValueError, match="WIDTHxHEIGHT"):
        parse_size(bad)
