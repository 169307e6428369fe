"""The embedded default through the official `openai` SDK: a live server rendering
toy-shapes, whose windows continue each other, whose extensions continue a clip, and whose
image-to-video starts from the picture given."""

from __future__ import annotations

import io
import signal

import av
import numpy as np
import openai
import pytest
from PIL import Image

from pipeline.toy import clips
from pipeline.toy.measure import _circular_mean, measure
from tests.service.cli.test_generate import without_label
from tests.service.e2e.conftest import E2E_CONFIG, Server, make_key, new_data_dir

CONFIG = E2E_CONFIG.replace("default_model: tiny-wan", "default_model: toy-shapes")
PROMPT = "a blue circle moving right on a white background"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = new_data_dir(tmp_path_factory.mktemp("toy") / "data")
    (data / "toy.yaml").write_text(CONFIG)
    server = Server(data, data / "toy.yaml")
    yield server
    server.stop(signal.SIGKILL)


@pytest.fixture(scope="module")
def client(server):
    key = make_key(server.data_dir, "maker", "filmmaker")
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0)


def frames_of(mp4: bytes) -> np.ndarray:
    with av.open(io.BytesIO(mp4)) as container:
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    return without_label(frames, 16)


def centre_x(frame: np.ndarray) -> float:
    background = np.median(np.concatenate([frame[0], frame[-1]]), axis=0)
    mask = np.abs(frame.astype(np.float32) - background).sum(axis=2) > 90
    return _circular_mean(mask, 1)


def test_a_clip_says_how_its_prompt_was_read(client):
    video = client.videos.create_and_poll(prompt="a red kite over a green hill", seconds="1")
    assert video.status == "completed", video.error
    recaption = video.model_extra["recaption"]
    assert video.model_extra["revised_prompt"].startswith("a red circle")
    assert recaption["status"] == "rewritten"
    assert {"unknown_words", "ignored_words"} <= set(recaption["reasons"])
    assert "kite" in recaption["detail"] and "green (a second colour)" in recaption["detail"]


def test_an_extension_continues_the_clip_where_its_motion_takes_it(client, tmp_path):
    source = client.videos.create_and_poll(prompt=PROMPT, seconds="2", extra_body={"seed": 1})
    assert source.status == "completed", source.error
    before = frames_of(client.videos.download_content(source.id).read())
    assert len(before) == 32
    clip = tmp_path / "source.mp4"
    clip.write_bytes(client.videos.download_content(source.id).read())
    with open(clip, "rb") as upload:
        # A fixed seed: with a random one the toy sometimes turns the colour (issue 16).
        extended = client.videos.extend(
            video=upload, prompt=PROMPT, seconds="2", extra_body={"seed": 1}
        )
    done = client.videos.poll(extended.id)
    assert done.status == "completed", done.error
    assert done.model == "toy-shapes" and done.model_extra["mode"] == "extend"
    after = frames_of(client.videos.download_content(done.id).read())
    assert len(after) == 64

    speed = clips.SPEED * 32  # pixels a frame
    expected = (centre_x(before[-1]) + speed) % 32
    moved = (centre_x(after[32]) - expected + 16) % 32 - 16
    assert abs(moved) <= 3, (centre_x(before[-1]), centre_x(after[32]))
    first, new = measure(before[16:]), measure(after[32:48])
    assert (new.colour, new.shape, new.motion) == (first.colour, first.shape, "right")


def test_an_image_starts_the_clip_and_moves_as_the_prompt_says(client, tmp_path):
    spec = clips.ClipSpec("square", "red", "down", "black", 0.2, (0.5, 0.3))
    picture = tmp_path / "square.png"
    Image.fromarray(clips.render_wrapped(spec, first=0, frames=1)[0]).save(picture)
    with open(picture, "rb") as image:
        video = client.videos.create(
            prompt="a red square moving down on a black background",
            seconds="2",
            input_reference=image,
        )
    video = client.videos.poll(video.id)
    assert video.status == "completed", video.error
    assert video.model_extra["mode"] == "image"
    frames = frames_of(client.videos.download_content(video.id).read())
    for second in (frames[:16], frames[16:]):
        got = measure(second)
        assert (got.colour, got.motion, got.background) == ("red", "down", "black")
