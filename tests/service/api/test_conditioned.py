"""Image to video, extensions, edits and long clips at the API: what is accepted, what is
refused (a 4xx naming the parameter, nothing queued), and what the Video object says."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from pipeline.encode import encode_mp4


@pytest.fixture
def app(app_factory):
    return app_factory()


@pytest.fixture
def alice(app):
    return app.key("alice")


def png(width=128, height=128, color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def clip(tmp_path) -> bytes:
    """17 frames of 64x64 at 16 fps, as an uploaded MP4."""
    path = tmp_path / "clip.mp4"
    frames = np.random.default_rng(1).integers(0, 255, (17, 64, 64, 3), dtype=np.uint8)
    encode_mp4(frames, 16, path)
    return path.read_bytes()


def listed(app, headers) -> int:
    return len(app.client.get("/v1/videos", headers=headers).json()["data"])


def refused(response, status, param, code=None):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["param"] == param
    if code is not None:
        assert error["code"] == code
    return error["message"]


# ---------------------------------------------------------------- image to video


def test_input_reference_as_a_file_starts_the_clip_from_it(app, alice):
    response = app.client.post(
        "/v1/videos",
        data={"prompt": "a kite", "model": "tiny-wan-i2v", "size": "128x128"},
        files={"input_reference": ("frame.png", png(), "image/png")},
        headers=alice,
    )
    assert response.status_code == 200, response.text
    video = response.json()
    assert video["mode"] == "image"
    job = app.state.runtime.records.find(video["id"])
    assert job.input_key and app.state.runtime.storage.size(job.input_key) > 0


def test_input_reference_as_a_data_url_and_with_no_model_picks_one_that_can(app, alice):
    url = "data:image/png;base64," + base64.b64encode(png()).decode()
    response = app.client.post(
        "/v1/videos",
        json={"prompt": "a kite", "input_reference": {"image_url": url}, "size": "128x128"},
        headers=alice,
    )
    assert response.status_code == 200, response.text
    assert (response.json()["mode"], response.json()["model"]) == ("image", "tiny-wan-i2v")


@pytest.mark.parametrize(
    ("files", "body", "status", "code", "message"),
    [
        ({"input_reference": ("f.png", png(64, 64), "image/png")}, {"size": "128x128"}, 400,
         "invalid_value", "64x64, and the video is 128x128"),
        ({"input_reference": ("f.png", b"not an image", "image/png")}, {}, 400,
         "invalid_image", "not an image"),
        ({"input_reference": ("f.png", b"", "image/png")}, {}, 400, "invalid_value", "empty"),
        ({"input_reference": ("f.png", png(), "image/png")}, {"model": "tiny-wan"}, 400,
         "unsupported_parameter", "tiny-wan-i2v"),
        ({}, {"input_reference[image_url]": "https://example.com/a.png"}, 400,
         "unsupported_parameter", "not fetched"),
        ({}, {"input_reference[image_url]": "data:image/png;base64,@@@"}, 400,
         "invalid_value", "base64"),
        ({}, {"input_reference[file_id]": "file_123"}, 400, "unsupported_parameter", "Files API"),
    ],
)  # fmt: skip
def test_a_bad_input_reference_is_refused_naming_it_and_nothing_is_queued(
    app, alice, files, body, status, code, message
):
    before = listed(app, alice)
    response = app.client.post(
        "/v1/videos",
        data={"prompt": "a kite", "model": "tiny-wan-i2v", **body},
        files=files or None,
        headers=alice,
    )
    assert message in refused(response, status, "input_reference", code)
    assert listed(app, alice) == before


# ---------------------------------------------------------------- long clips


def test_a_long_clip_on_a_model_that_continues_is_planned_in_windows(app):
    filmmaker = app.key("fran", "filmmaker")  # 60 s per video
    video = app.create(filmmaker, model="tiny-wan-i2v", seconds="20")
    assert (video["seconds"], video["frames"], video["duration"]) == ("20", 320, 20.0)
    assert video["windows"] == {"total": 4, "done": 0, "current": None, "resumed": 0}


def test_a_long_clip_on_a_model_that_cannot_continue_names_one_that_can(app):
    response = app.client.post(
        "/v1/videos", json={"prompt": "a kite", "model": "tiny-wan", "seconds": "20"},
        headers=app.key("fran", "filmmaker"),
    )  # fmt: skip
    message = refused(response, 400, "seconds", "invalid_value")
    assert "tiny-wan" in message and "5.0625 s" in message and "tiny-wan-i2v" in message


# ---------------------------------------------------------------- extensions


def test_an_extension_of_an_upload_is_the_source_then_its_seconds(app, alice, clip):
    response = app.client.post(
        "/v1/videos/extensions",
        data={"prompt": "the kite climbs", "seconds": "4", "model": "tiny-wan-i2v"},
        files={"video": ("clip.mp4", clip, "video/mp4")},
        headers=alice,
    )
    assert response.status_code == 200, response.text
    video = response.json()
    # 17 source frames and 4 s more at 16 fps: the seconds of the whole clip
    assert (video["mode"], video["frames"], video["seconds"]) == ("extend", 81, "5.0625")
    assert video["source_video_id"] is None
    assert video["windows"]["total"] == 2  # the source, then one call


@pytest.mark.parametrize("form", ["multipart", "json"])
def test_an_extension_of_ones_own_video_by_id(app, alice, form):
    source = app.create(alice, model="tiny-wan-i2v", seconds=1)
    app.wait_status(source["id"], alice)
    if form == "multipart":
        response = app.client.post(
            "/v1/videos/extensions",
            data={"prompt": "more", "seconds": "2", "video[id]": source["id"]},
            headers=alice,
        )
    else:
        response = app.client.post(
            "/v1/videos/extensions",
            json={"prompt": "more", "seconds": 2, "video": {"id": source["id"]}},
            headers=alice,
        )
    assert response.status_code == 200, response.text
    video = response.json()
    assert (video["source_video_id"], video["model"]) == (source["id"], "tiny-wan-i2v")
    assert video["frames"] == source["frames"] + 32


def test_a_bad_source_video_is_refused_naming_it_and_nothing_is_queued(app, alice, clip):
    bob = app.key("bob")
    bobs = app.create(bob)
    app.wait_status(bobs["id"], bob)
    before = listed(app, alice)
    cases = [
        ({"video[id]": bobs["id"]}, None, 404, "video", None),  # not visible to alice
        ({"video[id]": "video_nope"}, None, 404, "video", None),
        ({}, {"video": ("x.mp4", b"\x00" * 2000, "video/mp4")}, 400, "video", "invalid_video"),
        ({}, None, 400, "video", "missing_required_parameter"),
        ({"model": "tiny-wan"}, {"video": ("c.mp4", clip, "video/mp4")}, 400, "video",
         "unsupported_model"),
        ({"size": "128x128", "model": "tiny-wan-i2v"}, {"video": ("c.mp4", clip, "video/mp4")},
         400, "size", None),
    ]  # fmt: skip
    for data, files, status, param, code in cases:
        response = app.client.post(
            "/v1/videos/extensions",
            data={"prompt": "more", "seconds": "2", **data},
            files=files,
            headers=alice,
        )
        refused(response, status, param, code)
    assert listed(app, alice) == before


def test_a_source_that_is_not_finished_cannot_be_extended(app_factory):
    app = app_factory(server={"embedded_workers": 0})
    alice = app.key("alice")
    queued = app.create(alice)
    response = app.client.post(
        "/v1/videos/extensions",
        json={"prompt": "more", "seconds": 2, "video": {"id": queued["id"]}},
        headers=alice,
    )
    refused(response, 409, "video", "video_not_ready")


# ---------------------------------------------------------------- edits


def test_an_edit_of_an_upload_keeps_its_length(app, alice, clip):
    response = app.client.post(
        "/v1/videos/edits",
        data={"prompt": "make it blue"},
        files={"video": ("clip.mp4", clip, "video/mp4")},
        headers=alice,
    )
    assert response.status_code == 200, response.text
    video = response.json()
    assert (video["mode"], video["frames"], video["model"]) == ("edit", 17, "tiny-wan")


def test_an_edit_strength_out_of_range_is_refused(app, alice, clip):
    response = app.client.post(
        "/v1/videos/edits",
        data={"prompt": "blue", "strength": "1.5"},
        files={"video": ("clip.mp4", clip, "video/mp4")},
        headers=alice,
    )
    refused(response, 400, "strength", "invalid_value")


# ---------------------------------------------------------------- routes not served


def test_routes_openreel_does_not_serve_answer_in_the_envelope_with_a_code(app, alice):
    character = app.client.post(
        "/v1/videos/characters", data={"name": "Ann"}, files={"video": ("c.mp4", b"x")},
        headers=alice,
    )  # fmt: skip
    assert character.status_code == 400 and character.json()["error"]["code"] == "unsupported"
    unknown = app.client.post("/v1/images/generations", json={}, headers=alice)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    wrong_method = app.client.put("/v1/videos/video_x", headers=alice)
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
