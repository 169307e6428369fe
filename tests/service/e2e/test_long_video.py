"""Long clips, extensions, image to video and edits with the official `openai` SDK against
a live server rendering with the tiny diffusers models."""

from __future__ import annotations

import io
import itertools
import signal

import av
import httpx
import numpy as np
import openai
import pytest
from PIL import Image

from pipeline.provenance.credentials import read_credentials
from tests.service.e2e.conftest import E2E_CONFIG, Server, make_key, new_data_dir

# Windows of 33 frames at 64x64 and few steps: a 12 s clip is 6 quick calls.
LONG_CONFIG = (
    E2E_CONFIG
    + """
models:
  tiny-wan-i2v:
    family: wan2.1
    source: builtin:tiny-wan-i2v
    device: cpu
    dtype: float32
    modes: [text, image, extend, edit]
    sizes: [64x64, 128x128]
    default_seconds: 1
    steps: 3
    window_frames: 33
  tiny-wan:
    family: wan2.1
    source: builtin:tiny-wan
    device: cpu
    dtype: float32
    sizes: [64x64, 128x128]
    default_seconds: 1
    steps: 3
"""
)

_users = itertools.count(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = new_data_dir(tmp_path_factory.mktemp("long") / "data")
    (data / "e2e.yaml").write_text(LONG_CONFIG)
    server = Server(data, data / "e2e.yaml")
    yield server
    server.stop(signal.SIGKILL)


@pytest.fixture
def client(server):
    key = make_key(server.data_dir, f"maker{next(_users)}", "filmmaker")  # 60 s per video
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0)


def frames_of(mp4: bytes) -> np.ndarray:
    with av.open(io.BytesIO(mp4)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(stream)])


def test_a_twelve_second_clip_is_made_in_windows(client):
    video = client.videos.create_and_poll(
        prompt="a red kite over the sea", model="tiny-wan-i2v", seconds="12", size="64x64"
    )
    assert video.status == "completed", video.error
    assert video.seconds == "12"
    extra = video.model_extra
    assert extra["windows"]["total"] == extra["windows"]["done"] == 6
    assert len(frames_of(client.videos.download_content(video.id).read())) == 192


def test_an_uploaded_clip_is_extended_with_its_frames_first(client, tmp_path):
    source = client.videos.create_and_poll(
        prompt="a kite", model="tiny-wan-i2v", seconds="1", size="64x64"
    )
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(client.videos.download_content(source.id).read())
    before = frames_of(clip.read_bytes())

    with open(clip, "rb") as upload:  # the SDK's extend names no model: one that can is used
        extended = client.videos.extend(video=upload, prompt="the kite climbs", seconds="4")
    done = client.videos.poll(extended.id)
    assert done.status == "completed", done.error
    assert done.seconds == f"{(len(before) + 64) / 16:g}"  # the stitched total
    mp4 = client.videos.download_content(done.id).read()
    after = frames_of(mp4)
    assert len(after) == len(before) + 64
    # the source comes first: re-encoded once and marked as this clip's (the label drawn
    # again; the invisible mark, which is strong on a clip this small)
    difference = np.abs(after[: len(before)].astype(int) - before)
    assert np.median(difference) <= 6 and difference.mean() < 10

    # its credentials record the edit, with the source as ingredient
    path = tmp_path / "extended.mp4"
    path.write_bytes(mp4)
    root = server_root(client).encode()
    report = read_credentials(path, root)
    assert report.state == "trusted" and report.edited_from == "upload.mp4"
    assert report.assertion["source"]["job_id"] == source.id  # a clip made here, recognised


def server_root(client) -> str:
    """The root certificate the server's clips chain to (anyone may fetch it)."""
    return httpx.get(str(client.base_url).rstrip("/") + "/provenance/root.pem").text


def test_an_image_starts_the_clip_and_an_edit_transforms_one(client, tmp_path):
    frame = tmp_path / "frame.png"
    Image.new("RGB", (64, 64), (220, 40, 40)).save(frame)
    with open(frame, "rb") as image:
        video = client.videos.create(
            prompt="a red kite", model="tiny-wan-i2v", size="64x64", input_reference=image
        )
    video = client.videos.poll(video.id)
    assert video.status == "completed", video.error
    assert video.model_extra["mode"] == "image"

    source = client.videos.create_and_poll(prompt="a kite", model="tiny-wan", size="64x64")
    clip = tmp_path / "source.mp4"
    clip.write_bytes(client.videos.download_content(source.id).read())
    with open(clip, "rb") as upload:
        edited = client.videos.edit(video=upload, prompt="make the kite blue")
    edited = client.videos.poll(edited.id)
    assert edited.status == "completed", edited.error
    assert edited.model == "tiny-wan" and edited.model_extra["mode"] == "edit"
    assert len(frames_of(client.videos.download_content(edited.id).read())) == 17

    # by id, as JSON (SDK 3.57's edit() sends a file only)
    by_id = client.post(
        "/videos/edits",
        body={"prompt": "make it green", "video": {"id": source.id}},
        cast_to=openai.types.Video,
    )
    assert by_id.model_extra["source_video_id"] == source.id


def test_characters_are_refused_with_a_code(client, tmp_path):
    clip = tmp_path / "c.mp4"
    clip.write_bytes(b"\x00" * 100)
    with open(clip, "rb") as upload, pytest.raises(openai.BadRequestError) as refused:
        client.videos.create_character(name="Ann", video=upload)
    assert refused.value.code == "unsupported"
