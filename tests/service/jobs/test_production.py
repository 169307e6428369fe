"""Production, the one path the worker and `openreel generate` make clips by: recaption,
moderation of the rewrite, marks, render, files kept all or none, the clip registered."""

from __future__ import annotations

import pytest

from pipeline.request import GenerationRequest, plan_generation
from pipeline.tiny import tiny_model_config
from service.domain.audit import Actor
from service.jobs.outputs import LocalOutputs, OutputPaths, StoredOutputs, output_key
from service.jobs.production import ModerationBlocked, Order, Production
from service.provenance import registry


def order_for(runtime, prompt: str = "a red kite over the sea", **changes) -> Order:
    plan = plan_generation(
        GenerationRequest(prompt, seconds=0.5, size="64x64", seed=3, steps=2),
        model="tiny-wan",
        config=tiny_model_config("tiny-wan"),
    )
    values = {"job_id": "video_test", "plan": plan, "origin": "api", "title": "t.mp4"}
    return Order(**{**values, **changes})


@pytest.fixture
def production(runtime):
    return Production(runtime.settings, lambda: runtime.engine, actor=Actor(id=None, name="test"))


@pytest.fixture
def model(load_tiny):
    return load_tiny("tiny-wan")


def test_a_job_is_stored_whole_registered_and_its_progress_only_rises(runtime, production, model):
    seen = []
    made = production.produce(
        order_for(runtime),
        model,
        StoredOutputs(runtime.storage, "video_test"),
        on_progress=seen.append,
    )
    assert made.files == {
        v: output_key("video_test", v) for v in ("video", "thumbnail", "spritesheet")
    }
    for key in made.files.values():
        assert runtime.storage.size(key) > 0
    found = registry.by_mark(runtime.engine, production.provenance.key.id, made.mark_id)
    assert (found.job_id, found.origin) == ("video_test", "api")
    percents = [p.percent for p in seen]
    assert percents == sorted(percents) and percents[0] == 1 and percents[-1] == 98
    assert [p.stage for p in seen if p.recaption is not None] == ["recaption"]
    assert {p.stage for p in seen} == {"recaption", "denoise", "decode", "encode", "store"}
    assert made.plan.prompt == made.recaption.prompt != "a red kite over the sea"


def test_a_local_run_writes_only_the_files_asked_for(runtime, production, model, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    outputs = LocalOutputs(OutputPaths(out / "clip.mp4"))
    made = production.produce(order_for(runtime, origin="cli"), model, outputs)
    assert made.files == {"video": str(out / "clip.mp4")}
    assert sorted(p.name for p in out.iterdir()) == ["clip.mp4"]


class BrokenStorage:
    """Takes the first file, then fails as a full disk would."""

    def __init__(self, storage):
        self.inner = storage
        self.deleted: list[str] = []

    def put_file(self, key, source, content_type):
        if self.deleted or key.endswith(".webp"):
            raise OSError("disk full")
        self.inner.put_file(key, source, content_type)

    def delete(self, key):
        self.deleted.append(key)
        self.inner.delete(key)


def test_a_failed_store_keeps_no_file_and_registers_nothing(runtime, production, model):
    storage = BrokenStorage(runtime.storage)
    with pytest.raises(OSError, match="disk full"):
        production.produce(order_for(runtime), model, StoredOutputs(storage, "video_test"))
    assert storage.deleted == [output_key("video_test", "video")]
    with pytest.raises(FileNotFoundError):
        runtime.storage.size(output_key("video_test", "video"))
    assert registry.known_mark_ids(runtime.engine, production.provenance.key.id) == []


def test_a_rewrite_is_judged_under_the_orders_moderation_mode(runtime, production, model):
    inner = production.recaptioner.recaption

    def adds_gore(prompt, target, **kwargs):
        result = inner(prompt, target, **kwargs)
        return type(result)(**{**result.__dict__, "prompt": result.prompt + " Blood and gore."})

    production.recaptioner.recaption = adds_gore
    with pytest.raises(ModerationBlocked) as blocked:
        production.produce(order_for(runtime), model, StoredOutputs(runtime.storage, "v1"))
    assert blocked.value.verdict.stage == "revised_prompt"
    flagged = production.produce(
        order_for(runtime, moderation_mode="flag"), model, StoredOutputs(runtime.storage, "v2")
    )
    assert flagged.flags == ["violence_graphic"]
    assert flagged.moderation[-1]["outcome"] == "flagged"


def test_an_input_image_is_checked_like_output_frames_before_any_call(
    runtime, load_tiny, monkeypatch
):
    import numpy as np
    from PIL import Image

    from service.moderation.tiny import _frame

    settings = runtime.settings.model_copy(
        update={
            "moderation": runtime.settings.moderation.model_copy(
                update={"frames": {"model": "builtin:tiny-frame-classifier"}}
            )
        }
    )
    settings = type(settings).model_validate(settings.model_dump())
    production = Production(settings, lambda: runtime.engine, actor=Actor(id=None, name="t"))
    model = load_tiny("tiny-wan-i2v")
    called = []
    monkeypatch.setattr(model, "generate", lambda *a, **k: called.append(1))
    plan = plan_generation(
        GenerationRequest("a kite", seconds=0.5, size="64x64", seed=3, steps=2, mode="image"),
        model="tiny-wan-i2v",
        config=tiny_model_config("tiny-wan-i2v"),
    )
    gory = _frame(np.random.default_rng(0), True)
    image = np.asarray(Image.fromarray(gory).resize((64, 64)))[None]
    order = Order(job_id="video_img", plan=plan, origin="api", title="t.mp4")
    with pytest.raises(ModerationBlocked) as blocked:
        production.produce(order, model, StoredOutputs(runtime.storage, "video_img"), image=image)
    assert blocked.value.verdict.categories == ["violence_graphic"]
    assert called == []  # refused before the model saw it
