"""Long clips, extensions, image to video and edits, rendered for real on the tiny models:
window by window, each kept as it is made, so that a render stopped midway resumes after
the last kept window and makes the same clip."""

from __future__ import annotations

import av
import numpy as np
import pytest

from pipeline.encode import encode_mp4
from pipeline.errors import GenerationCancelled
from pipeline.render import render_video
from pipeline.request import GenerationRequest
from pipeline.windows import FileSource, ScratchWindows

FAST = {"size": "64x64", "steps": 4, "seed": 7}


def decode(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(stream)])
        return frames, stream.average_rate, stream.codec_context.name


def counting(model, monkeypatch):
    """Count the model calls a render makes."""
    calls = []
    real = model.generate

    def generate(plan, **kwargs):
        calls.append(kwargs["window"].index)
        return real(plan, **kwargs)

    monkeypatch.setattr(model, "generate", generate)
    return calls


def test_a_long_clip_is_one_h264_stream_of_exactly_its_frames(i2v, tmp_path):
    plan = i2v.plan(GenerationRequest("a red kite over the sea", seconds=2.5625, **FAST))
    assert len(plan.windows) == 5
    events = []
    rendered = render_video(
        i2v, plan, tmp_path / "long.mp4", thumbnail_path=tmp_path / "t.webp",
        spritesheet_path=tmp_path / "s.jpg", fingerprint=True, on_progress=events.append,
    )  # fmt: skip
    frames, rate, codec = decode(rendered.video_path)
    assert frames.shape == (41, 64, 64, 3) and rate == 16 and codec == "h264"
    assert [w["made"] for w in rendered.windows] == ["now"] * 5
    assert len(rendered.fingerprint) == 24
    assert (tmp_path / "t.webp").stat().st_size > 0 and (tmp_path / "s.jpg").stat().st_size > 0
    # progress names the window: every step of every window, in order
    denoised = [(e.window, e.step) for e in events if e.stage == "denoise"]
    assert denoised == [(w, s) for w in range(1, 6) for s in (1, 2, 3, 4)]
    assert {e.windows for e in events} == {5}


def test_a_render_stopped_midway_resumes_after_its_kept_windows_and_makes_the_same_clip(
    i2v, tmp_path, monkeypatch
):
    plan = i2v.plan(GenerationRequest("a red kite", seconds=2.5625, **FAST))
    whole = render_video(i2v, plan, tmp_path / "whole.mp4")

    store = ScratchWindows(tmp_path)
    calls = counting(i2v, monkeypatch)

    def stop_in_window_3():
        return calls == [0, 1, 2]

    with pytest.raises(GenerationCancelled):
        render_video(i2v, plan, tmp_path / "stopped.mp4", store=store,
                     should_cancel=stop_in_window_3)  # fmt: skip
    assert not (tmp_path / "stopped.mp4").exists()
    assert sorted(store.kept()) == [0, 1]  # window 3 was lost, windows 1-2 were kept

    calls.clear()
    resumed = render_video(i2v, plan, tmp_path / "resumed.mp4", store=store)
    assert calls == [2, 3, 4]  # windows 1-2 were not made again
    assert [w["made"] for w in resumed.windows] == ["kept", "kept", "now", "now", "now"]
    np.testing.assert_array_equal(decode(resumed.video_path)[0], decode(whole.video_path)[0])


def test_image_to_video_is_conditioned_on_the_image(i2v, tmp_path):
    plan = i2v.plan(GenerationRequest("a kite", seconds=0.5, mode="image", **FAST))
    red = np.zeros((1, 64, 64, 3), np.uint8)
    red[..., 0] = 230
    blue = np.zeros((1, 64, 64, 3), np.uint8)
    blue[..., 2] = 230
    one = decode(render_video(i2v, plan, tmp_path / "red.mp4", image=red).video_path)[0]
    other = decode(render_video(i2v, plan, tmp_path / "blue.mp4", image=blue).video_path)[0]
    assert one.shape == (9, 64, 64, 3)
    # same seed, same prompt: only the image differs (random weights follow it only so far)
    assert np.abs(one.astype(int) - other).mean() > 0.5


def test_an_extension_is_the_source_then_the_new_frames(i2v, tmp_path):
    source_plan = i2v.plan(GenerationRequest("a kite", seconds=1, **FAST))
    source = render_video(i2v, source_plan, tmp_path / "source.mp4").video_path
    source_frames = decode(source)[0]
    plan = i2v.plan(GenerationRequest("a kite", seconds=1, mode="extend",
                                      source_frames=len(source_frames), **FAST))  # fmt: skip
    extended = render_video(i2v, plan, tmp_path / "ext.mp4", source=FileSource(source, 16))
    frames = decode(extended.video_path)[0]
    assert len(frames) == len(source_frames) + 16
    # the source's frames come first, re-encoded once
    difference = np.abs(frames[: len(source_frames)].astype(int) - source_frames).mean()
    assert difference < 4


def test_an_edit_keeps_the_sources_length_and_is_made_from_it(load_tiny, tmp_path):
    wan = load_tiny("tiny-wan")
    sources = []
    for level in (20, 235):  # a dark clip and a bright one
        path = tmp_path / f"source-{level}.mp4"
        encode_mp4(np.full((17, 64, 64, 3), level, np.uint8), 16, path)
        sources.append(path)
    plan = wan.plan(GenerationRequest("a blue kite", mode="edit", source_frames=17, **FAST))
    edits = [
        decode(
            render_video(
                wan, plan, tmp_path / f"edit-{n}.mp4", source=FileSource(source, 16)
            ).video_path
        )[0]  # fmt: skip
        for n, source in enumerate(sources)
    ]
    assert edits[0].shape == (17, 64, 64, 3)
    # the same edit (prompt, seed, strength) of two sources: two clips
    assert np.abs(edits[0].astype(int) - edits[1]).mean() > 0.5


def test_ltx_conditions_chain_windows_on_nine_frames_and_start_from_an_image(tmp_path):
    from pipeline.loading import load_model
    from pipeline.tiny import tiny_model_config

    config = tiny_model_config("tiny-ltx").model_copy(update={"window_frames": 17})
    ltx = load_model("tiny-ltx", config)
    plan = ltx.plan(GenerationRequest("a kite", seconds=2, **FAST))
    assert [(w.kind, w.drop, w.keep) for w in plan.windows] == [
        ("text", 0, 17),
        *[("extend", 9, 8)] * 3,
        ("extend", 9, 7),
    ]
    frames, rate, _ = decode(render_video(ltx, plan, tmp_path / "long.mp4").video_path)
    assert frames.shape == (48, 64, 64, 3) and rate == 24
    first = np.full((1, 64, 64, 3), 200, np.uint8)
    image = ltx.plan(GenerationRequest("a kite", seconds=0.5, mode="image", **FAST))
    assert (
        len(decode(render_video(ltx, image, tmp_path / "i.mp4", image=first).video_path)[0]) == 17
    )


def test_diffusion_forcing_continues_each_window_from_the_last_17_frames(tmp_path):
    from pipeline.loading import load_model
    from pipeline.tiny import tiny_model_config

    config = tiny_model_config("tiny-skyreels-df").model_copy(update={"window_frames": 33})
    skyreels = load_model("tiny-skyreels-df", config)
    plan = skyreels.plan(GenerationRequest("a kite", seconds=3, **FAST))
    assert [(w.kind, w.drop, w.keep) for w in plan.windows] == [
        ("text", 0, 33), ("extend", 17, 16), ("extend", 17, 16), ("extend", 17, 7)
    ]  # fmt: skip
    frames, rate, _ = decode(render_video(skyreels, plan, tmp_path / "long.mp4").video_path)
    assert frames.shape == (72, 64, 64, 3) and rate == 24
