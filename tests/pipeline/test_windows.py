"""Long clips as windows: the frame arithmetic, exact and reported, and the rules a model
config must keep."""

from __future__ import annotations

import pytest

from pipeline.config import ModelConfig
from pipeline.errors import InvalidRequestError, TooLongForModel
from pipeline.families import get_family
from pipeline.request import GenerationRequest, plan_generation
from pipeline.tiny import tiny_model_config
from pipeline.windows import plan_windows

WAN = get_family("wan2.1")


def plan(name="tiny-wan-i2v", **request):
    config = tiny_model_config(name)
    return plan_generation(GenerationRequest("a red kite", **request), model=name, config=config)


def test_twenty_seconds_at_16_fps_are_exactly_320_frames_in_four_windows():
    long = plan(seconds=20)
    windows = long.windows
    assert long.num_frames == 320 and long.duration == 20.0
    assert [w.kind for w in windows] == ["text", "extend", "extend", "extend"]
    assert [w.keep for w in windows] == [81, 80, 80, 79]
    assert sum(w.keep for w in windows) == 320
    # each later window repeats the last frame of the one before, and drops it
    assert [w.drop for w in windows] == [0, 1, 1, 1]
    assert [w.first for w in windows] == [0, 81, 161, 241]
    # every call renders a legal frame count; the last one's extra frame is reported
    assert all(WAN.is_legal_frame_count(w.render) for w in windows)
    assert [w.trimmed for w in windows] == [0, 0, 0, 1]


@pytest.mark.parametrize("seconds", [5.5, 12, 20, 33.3, 60])
def test_windows_cover_the_clip_once_with_legal_calls(seconds):
    long = plan(seconds=seconds)
    assert long.num_frames == round(seconds * 16)
    position = 0
    for window in long.windows:
        assert window.first == position
        assert window.render <= 81 and WAN.is_legal_frame_count(window.render)
        assert 0 <= window.trimmed < WAN.frame_step
        position += window.keep
    assert position == long.num_frames


def test_one_call_keeps_the_short_clip_rule_of_the_smallest_legal_count():
    short = plan(seconds=2)
    assert short.num_frames == 33 and len(short.windows) == 1
    assert short.windows[0].render == 33 and short.windows[0].trimmed == 0


def test_an_extension_starts_with_the_source_and_adds_exactly_its_seconds():
    extended = plan(seconds=4, mode="extend", source_frames=33)
    assert extended.num_frames == 33 + 64
    assert extended.new_frames == 64 and extended.generated_seconds == 4.0
    first, *rest = extended.windows
    assert (first.kind, first.keep, first.render) == ("source", 33, 0)
    assert [w.kind for w in rest] == ["extend"]
    assert (rest[0].first, rest[0].drop, rest[0].keep) == (33, 1, 64)


def test_an_edit_transforms_the_whole_source_window_by_window():
    edited = plan(name="tiny-wan", mode="edit", source_frames=200)
    assert edited.num_frames == 200 and edited.strength == 0.7
    assert [w.keep for w in edited.windows] == [81, 81, 38]
    assert [w.render for w in edited.windows] == [81, 81, 41]


def test_a_model_that_cannot_continue_refuses_a_clip_over_one_call_naming_its_longest():
    with pytest.raises(TooLongForModel, match=r"tiny-wan .*at most 81 frames \(5.0625 s\)"):
        plan(name="tiny-wan", seconds=20)


@pytest.mark.parametrize(
    ("name", "mode", "param"),
    [("tiny-wan", "image", "input_reference"), ("tiny-ltx", "edit", "video")],
)
def test_a_mode_the_model_does_not_serve_is_refused_naming_what_it_does(name, mode, param):
    with pytest.raises(InvalidRequestError, match="it serves") as refused:
        plan(name=name, mode=mode, source_frames=17)
    assert refused.value.param == param


def test_an_extension_over_the_cap_counts_its_source():
    with pytest.raises(InvalidRequestError, match="over the 60 s cap"):
        plan(seconds=30, mode="extend", source_frames=16 * 40)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"window_frames": 20}, "window_frames 20 is not a frame count"),
        ({"window_frames": 85}, "at most 81"),
        ({"overlap_frames": 5}, "exactly 1 frame"),
        ({"modes": ["text", "sing"]}, "modes"),
        ({"family": "ltx-video", "modes": ["edit"], "sizes": ["128x128"]}, "has no pipeline"),
        (
            {"family": "ltx-video", "overlap_frames": 4, "sizes": ["128x128"], "modes": None},
            "8k\\+1",
        ),
    ],
)
def test_window_settings_a_family_cannot_honour_are_config_errors(changes, message):
    raw = {**tiny_model_config("tiny-wan").model_dump(), **changes}
    with pytest.raises(ValueError, match=message):
        ModelConfig.model_validate(raw)


def test_plan_windows_rejects_an_empty_clip():
    with pytest.raises(ValueError, match="at least 1"):
        plan_windows(WAN, mode="text", new_frames=0, window_frames=81, overlap=1)
