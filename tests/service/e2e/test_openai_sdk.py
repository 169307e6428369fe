"""The official `openai` SDK, unmodified but for base_url, against a live OpenReel server
rendering with the tiny diffusers model: one server for the module, a user for each test."""

from __future__ import annotations

import io
import itertools

import av
import openai
import pytest
from PIL import Image

from tests.service.e2e.conftest import make_key

QUICK = {"seconds": "1", "size": "64x64"}


_users = itertools.count(1)


@pytest.fixture
def server(module_server):
    return module_server


@pytest.fixture
def data_dir(module_server):
    return module_server.data_dir


@pytest.fixture
def client(server, data_dir):
    """An SDK client for a user of this test's own, so that tests see only their videos."""
    key = make_key(data_dir, f"tester{next(_users)}")
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0)


def test_the_sdk_creates_polls_downloads_lists_remixes_and_deletes(client):
    # create_and_poll -> completed
    video = client.videos.create_and_poll(prompt="a red kite over a green hill", **QUICK)
    assert video.status == "completed" and video.progress == 100
    assert video.size == "64x64" and video.seconds == "1"

    # download_content -> an MP4 with the planned frames
    mp4 = client.videos.download_content(video.id).read()
    with av.open(io.BytesIO(mp4)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.average_rate == 16
        assert sum(1 for _ in container.decode(stream)) == 17
    thumbnail = client.videos.download_content(video.id, variant="thumbnail").read()
    assert Image.open(io.BytesIO(thumbnail)).format == "WEBP"
    sheet = client.videos.download_content(video.id, variant="spritesheet").read()
    assert Image.open(io.BytesIO(sheet)).format == "JPEG"

    # list, page by page
    more = [client.videos.create(prompt=f"clip {n}", **QUICK).id for n in range(3)]
    first_page = client.videos.list(limit=2)
    assert len(first_page.data) == 2 and first_page.has_more
    every_id = [item.id for item in client.videos.list(limit=2)]  # the SDK follows the cursor
    assert every_id == [*more[::-1], video.id]

    # remix -> a new video of the same settings
    remix = client.videos.remix(video.id, prompt="a blue kite over a green hill")
    assert remix.remixed_from_video_id == video.id and remix.id != video.id

    # delete -> gone
    deleted = client.videos.delete(video.id)
    assert deleted.deleted and deleted.id == video.id
    with pytest.raises(openai.NotFoundError):
        client.videos.retrieve(video.id)


def test_the_sdk_sees_openai_style_errors(client, server, data_dir):
    with pytest.raises(openai.BadRequestError) as bad:
        client.videos.create(prompt="x", size="7x7")
    assert bad.value.body["param"] == "size" and "legal sizes" in bad.value.body["message"]
    with pytest.raises(openai.BadRequestError) as bad:
        # tiny-wan makes at most 5 s per call and cannot continue a clip
        client.videos.create(prompt="x", seconds="8", model="tiny-wan")
    assert bad.value.body["param"] == "seconds" and "tiny-wan-i2v" in bad.value.body["message"]
    # naming no model, 8 s go to a model that makes them
    longer = client.videos.create(prompt="x", seconds="8", size="64x64")
    assert longer.model == "tiny-wan-i2v"
    client.videos.delete(longer.id)
    with pytest.raises(openai.PermissionDeniedError) as denied:
        client.videos.create(prompt="x", seconds="12")  # artists: at most 10 s per video
    assert (denied.value.body["param"], denied.value.body["code"]) == (
        "seconds",
        "role_limit_exceeded",
    )
    with pytest.raises(openai.BadRequestError) as bad:
        client.videos.create(prompt="x", model="sora-3")
    assert bad.value.body["param"] == "model"

    anonymous = openai.OpenAI(base_url=f"{server.url}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        anonymous.videos.list()

    video = client.videos.create(prompt="a kite", **QUICK)
    other = openai.OpenAI(
        base_url=f"{server.url}/v1", api_key=make_key(data_dir, "bystander"), max_retries=0
    )
    with pytest.raises(openai.NotFoundError):
        other.videos.retrieve(video.id)


def test_an_sdk_retry_with_an_idempotency_key_does_not_duplicate(client):
    headers = {"Idempotency-Key": "sdk-retry-1"}
    first = client.videos.create(prompt="a kite", extra_headers=headers, **QUICK)
    again = client.videos.create(prompt="a kite", extra_headers=headers, **QUICK)
    assert again.id == first.id
    assert [v.id for v in client.videos.list()] == [first.id]


def test_openreel_extras_travel_through_extra_body(client):
    video = client.videos.create_and_poll(
        prompt="a kite",
        extra_body={"seed": 1234, "negative_prompt": "blur", "recaption": "off"},
        **QUICK,
    )
    assert video.model_extra["seed"] == 1234
    assert video.model_extra["revised_prompt"] == "a kite"  # recaption off: as written


def test_the_sdk_lists_the_models_a_role_may_use_with_what_they_accept(client):
    models = {model.id: model for model in client.models.list()}
    assert "tiny-wan" in models  # the e2e default model
    wan = models["tiny-wan"].model_extra
    assert wan["sizes"] and wan["default_size"] in wan["sizes"]
    assert "text" in wan["modes"]
    assert 0 < wan["max_seconds"] <= 10  # the artist role's limit
    assert "sora-2" in wan["aliases"]
    assert client.models.retrieve("sora-2").id == "tiny-wan"  # an OpenAI name resolves
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")
