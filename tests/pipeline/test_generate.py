"""Generation on each tiny family: files that decode as planned, seeds, progress, cancel."""

from __future__ import annotations

import threading

import av
import numpy as np
import pytest

from pipeline.errors import GenerationCancelled, OutputMismatchError
from pipeline.render import render_video
from pipeline.request import GenerationRequest
from pipeline.tiny import TINY_MODELS

# Small and short, so the whole matrix runs in seconds on one thread.
FAST = {"seconds": 1, "size": "64x64", "steps": 3}


def decode(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(stream)])
        return frames, stream


@pytest.mark.parametrize("name", TINY_MODELS)
def test_rendered_mp4_has_the_planned_frames_size_and_fps(load_tiny, tmp_path, name):
    model = load_tiny(name)
    plan = model.plan(GenerationRequest("a red kite over a green hill", seed=3, **FAST))
    result = render_video(
        model,
        plan,
        tmp_path / "clip.mp4",
        thumbnail_path=tmp_path / "thumb.webp",
        spritesheet_path=tmp_path / "sheet.jpg",
    )
    frames, stream = decode(result.video_path)
    assert frames.shape == (plan.num_frames, 64, 64, 3)
    assert plan.num_frames == model.family.frames_for_seconds(1)
    assert stream.average_rate == plan.fps
    assert stream.codec_context.name == "h264"
    assert stream.codec_context.pix_fmt == "yuv420p"
    # the muxer's timescale may round the last frame's duration by a fraction of a frame
    assert float(stream.duration * stream.time_base) == pytest.approx(
        plan.duration, abs=0.5 / plan.fps
    )
    assert set(result.timings) == {"denoise", "decode", "encode"}
    from PIL import Image

    assert Image.open(tmp_path / "thumb.webp").format == "WEBP"
    assert Image.open(tmp_path / "sheet.jpg").format == "JPEG"


@pytest.mark.parametrize("name", TINY_MODELS)
def test_same_seed_gives_identical_frames_and_another_seed_differs(load_tiny, name):
    model = load_tiny(name)
    first = model.generate(model.plan(GenerationRequest("a kite", seed=11, **FAST))).frames
    again = model.generate(model.plan(GenerationRequest("a kite", seed=11, **FAST))).frames
    other = model.generate(model.plan(GenerationRequest("a kite", seed=12, **FAST))).frames
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("name", TINY_MODELS)
def test_progress_fires_once_per_step_in_order_then_decode(load_tiny, name):
    model = load_tiny(name)
    events = []
    model.generate(
        model.plan(GenerationRequest("a kite", seed=1, **{**FAST, "steps": 5})),
        on_progress=events.append,
    )
    assert [(e.stage, e.step, e.total) for e in events] == [
        ("denoise", 1, 5),
        ("denoise", 2, 5),
        ("denoise", 3, 5),
        ("denoise", 4, 5),
        ("denoise", 5, 5),
        ("decode", 0, 1),
        ("decode", 1, 1),
    ]


@pytest.mark.parametrize("name", TINY_MODELS)
def test_cancel_stops_at_the_next_step_and_the_model_keeps_working(load_tiny, name, tmp_path):
    model = load_tiny(name)
    plan = model.plan(GenerationRequest("a kite", seed=5, **{**FAST, "steps": 6}))
    cancel = threading.Event()
    steps_seen = []

    def on_progress(event):
        if event.stage == "denoise":
            steps_seen.append(event.step)
            if event.step == 2:
                cancel.set()  # as if a user pressed cancel during step 2

    with pytest.raises(GenerationCancelled) as raised:
        render_video(
            model, plan, tmp_path / "x.mp4", on_progress=on_progress, should_cancel=cancel.is_set
        )
    assert (raised.value.step, raised.value.total) == (2, 6)
    assert steps_seen == [1, 2]
    assert not (tmp_path / "x.mp4").exists()
    assert list(tmp_path.iterdir()) == []

    after = model.generate(plan).frames  # the next request succeeds, and is unaffected
    fresh = model.generate(plan).frames
    assert after.shape == (plan.num_frames, 64, 64, 3)
    assert np.array_equal(after, fresh)


def test_cancel_before_start_raises_without_running(load_tiny):
    model = load_tiny("tiny-wan")
    events = []
    with pytest.raises(GenerationCancelled) as raised:
        model.generate(
            model.plan(GenerationRequest("a kite", **FAST)),
            on_progress=events.append,
            should_cancel=lambda: True,
        )
    assert raised.value.step == 0 and events == []


def test_cache_hook_state_is_reset_after_a_cancel(tmp_path):
    """A cancelled run must not leave a stateful cache hook half-way through its steps."""
    from pipeline.config import ModelConfig
    from pipeline.loading import load_model
    from pipeline.tiny import tiny_model_config

    data = tiny_model_config("tiny-wan").model_dump()
    data["speed"]["cache"] = {"type": "first_block", "params": {"threshold": 0.2}}
    model = load_model("cached", ModelConfig.model_validate(data))
    plan = model.plan(GenerationRequest("a kite", seed=2, **{**FAST, "steps": 6}))
    reference = model.generate(plan).frames
    with pytest.raises(GenerationCancelled):
        model.generate(plan, should_cancel=iter([False, False, False, True]).__next__)
    assert np.array_equal(model.generate(plan).frames, reference)


def test_a_shape_the_pipeline_did_not_promise_is_an_error(load_tiny, monkeypatch):
    model = load_tiny("tiny-wan")
    plan = model.plan(GenerationRequest("a kite", seed=1, **FAST))
    bigger = model.plan(GenerationRequest("a kite", seed=1, **{**FAST, "size": "128x128"}))
    real_kwargs = model._call_kwargs
    # Simulate a pipeline that silently renders another size than it was asked for.
    monkeypatch.setattr(model, "_call_kwargs", lambda p, w, c: real_kwargs(bigger, w, c))
    with pytest.raises(
        OutputMismatchError, match=r"\(1, 17, 3, 128, 128\).*expected \(1, 17, 3, 64, 64\)"
    ):
        model.generate(plan)


def test_a_plan_for_another_model_is_refused(load_tiny):
    wan, ltx = load_tiny("tiny-wan"), load_tiny("tiny-ltx")
    with pytest.raises(ValueError, match="plan is for model 'tiny-ltx'"):
        wan.generate(ltx.plan(GenerationRequest("a kite", **FAST)))


def test_a_failed_render_removes_what_it_wrote_and_keeps_older_files(
    load_tiny, tmp_path, monkeypatch
):
    import pipeline.render as render

    model = load_tiny("tiny-wan")
    plan = model.plan(GenerationRequest("a kite", seed=1, **FAST))
    older = tmp_path / "clip.mp4"
    older.write_bytes(b"an earlier render")

    def broken_spritesheet(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(render, "write_spritesheet_frames", broken_spritesheet)
    with pytest.raises(OSError, match="disk full"):
        render_video(
            model,
            plan,
            tmp_path / "new.mp4",
            thumbnail_path=tmp_path / "new.webp",
            spritesheet_path=tmp_path / "new.jpg",
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]
    assert older.read_bytes() == b"an earlier render"
