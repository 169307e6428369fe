"""/v1/videos through the real app (TestClient), with a fast stand-in generator."""

from __future__ import annotations

import pytest

from service.core.settings import DEFAULT_ROLES
from tests.service.conftest import FastRunner, wait_for


@pytest.fixture
def app(app_factory):
    return app_factory()


@pytest.fixture
def alice(app):
    return app.key("alice")


# ---------------------------------------------------------------- create


def test_create_returns_a_queued_video_object_with_every_openai_field(app, alice):
    response = app.client.post(
        "/v1/videos", json={"prompt": "a red kite", "seconds": "1"}, headers=alice
    )
    assert response.status_code == 200
    video = response.json()
    assert set(video) >= {
        "id", "object", "created_at", "completed_at", "expires_at", "model", "progress", "prompt",
        "remixed_from_video_id", "seconds", "size", "status", "error",
    }  # fmt: skip
    assert video["object"] == "video" and video["id"].startswith("video_")
    assert (video["status"], video["seconds"], video["prompt"]) == ("queued", "1", "a red kite")
    assert (video["frames"], video["fps"]) == (17, 16)
    assert isinstance(video["seed"], int)
    assert response.headers["openai-poll-after-ms"] == "1000"


def test_multipart_bodies_are_read_like_json(app, alice):
    form = {"prompt": (None, "a red kite"), "seconds": (None, "1"), "seed": (None, "7")}
    response = app.client.post("/v1/videos", files=form, headers=alice)
    assert response.status_code == 200, response.text
    assert response.json()["seed"] == 7


def test_a_video_runs_to_completion_with_progress_and_expiry(app, alice):
    video = app.create(alice, seed=3)
    done = app.wait_status(video["id"], alice)
    assert (done["status"], done["progress"], done["error"]) == ("completed", 100, None)
    assert done["revised_prompt"] == "a red kite, in detail"
    assert done["completed_at"] >= done["created_at"]
    assert done["expires_at"] == pytest.approx(
        done["completed_at"] + 7 * 86400, abs=2
    )  # artists keep 7 days
    finished = app.client.get(f"/v1/videos/{video['id']}", headers=alice)
    assert "openai-poll-after-ms" not in finished.headers  # terminal: stop polling


def test_openai_sizes_map_to_the_models_own_shapes(app, alice):
    assert app.create(alice, size="1280x720")["size"] == "192x128"
    assert app.create(alice, size="720x1280")["size"] == "128x192"
    assert app.create(alice, size="64x64")["size"] == "64x64"


def test_openai_model_names_map_to_the_configured_model(app, alice):
    video = app.create(alice, model="sora-2")
    assert video["model"] == "sora-2"  # echoed, as OpenAI does; rendered by the default model


@pytest.mark.parametrize(
    ("body", "status", "param", "code"),
    [
        ({"prompt": "x", "size": "7x7"}, 400, "size", "invalid_value"),
        ({"prompt": "x", "seconds": "abc"}, 400, "seconds", "invalid_value"),
        ({"prompt": "x", "seconds": 0}, 400, "seconds", "invalid_value"),
        (
            {"prompt": "x", "seconds": 6, "model": "tiny-wan"},
            400,
            "seconds",
            "invalid_value",
        ),  # over tiny-wan's 5 s per call, and it cannot continue a clip
        ({"prompt": "x", "seconds": 30}, 403, "seconds", "role_limit_exceeded"),  # artists: 10 s
        ({"prompt": "x", "model": "sora-9"}, 400, "model", "model_not_found"),
        ({"prompt": "x", "model": "wan2.1-t2v-1.3b"}, 400, "model", "model_not_found"),
        ({"prompt": "   "}, 400, "prompt", "invalid_value"),
        ({"seconds": "4"}, 400, "prompt", "missing_required_parameter"),
        ({"prompt": "x", "sedd": 3}, 400, "sedd", "unknown_parameter"),
        ({"prompt": "x", "seed": -1}, 400, "seed", "invalid_value"),
        ({"prompt": "x", "recaption": "always"}, 400, "recaption", "invalid_value"),
        (
            {"prompt": "x", "input_reference": {"image_url": "https://example.com/a.png"}},
            400,
            "input_reference",
            "unsupported_parameter",
        ),
    ],
)
def test_bad_requests_get_the_openai_error_envelope(app, alice, body, status, param, code):
    response = app.client.post("/v1/videos", json=body, headers=alice)
    assert response.status_code == status
    error = response.json()["error"]
    expected_type = "permission_error" if status == 403 else "invalid_request_error"
    assert (error["type"], error["param"], error["code"]) == (expected_type, param, code)
    assert error["message"]


def test_an_uploaded_input_reference_is_refused_naming_the_parameter(app, alice):
    form = {
        "prompt": (None, "a red kite"),
        "input_reference": ("ref.png", b"\x89PNG...", "image/png"),
    }
    response = app.client.post("/v1/videos", files=form, headers=alice)
    assert response.status_code == 400 and response.json()["error"]["param"] == "input_reference"


def test_malformed_and_oversized_bodies_are_refused(app, alice):
    response = app.client.post(
        "/v1/videos", content=b'{"prompt": ', headers={**alice, "Content-Type": "application/json"}
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_json"
    response = app.client.post(
        "/v1/videos", content=b"[1, 2]", headers={**alice, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    big = {"prompt": "x" * 21_000_000}
    response = app.client.post("/v1/videos", json=big, headers=alice)
    assert response.status_code == 413 and response.json()["error"]["code"] == "request_too_large"


# ---------------------------------------------------------------- auth and isolation


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_api_key"),
        ({"Authorization": "Bearer "}, "missing_api_key"),
        ({"Authorization": "Basic abc"}, "missing_api_key"),
        ({"Authorization": "Bearer ork_0000_nope"}, "invalid_api_key"),
    ],
)
@pytest.mark.parametrize(
    "route", [("GET", "/v1/videos"), ("POST", "/v1/videos"), ("GET", "/v1/videos/video_x"),
              ("DELETE", "/v1/videos/video_x"), ("GET", "/v1/videos/video_x/content"),
              ("POST", "/v1/videos/video_x/remix"), ("POST", "/v1/videos/video_x/cancel")],
)  # fmt: skip
def test_every_route_needs_a_valid_key(app, route, headers, code):
    method, path = route
    response = app.client.request(method, path, headers=headers, json={"prompt": "x"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_user_sees_only_their_own_videos(app, alice):
    bob = app.key("bob")
    video = app.create(alice)
    app.wait_status(video["id"], alice)
    for method, path in [
        ("GET", f"/v1/videos/{video['id']}"),
        ("GET", f"/v1/videos/{video['id']}/content"),
        ("DELETE", f"/v1/videos/{video['id']}"),
        ("POST", f"/v1/videos/{video['id']}/cancel"),
    ]:
        response = app.client.request(method, path, headers=bob)
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] == "not_found"
    response = app.client.post(f"/v1/videos/{video['id']}/remix", json={"prompt": "y"}, headers=bob)
    assert response.status_code == 404
    assert app.client.get("/v1/videos", headers=bob).json()["data"] == []
    assert app.client.get(f"/v1/videos/{video['id']}", headers=alice).status_code == 200


# ---------------------------------------------------------------- idempotency


def test_a_retry_with_the_same_idempotency_key_gets_the_same_job(app, alice):
    headers = {**alice, "Idempotency-Key": "retry-1"}
    first = app.client.post(
        "/v1/videos", json={"prompt": "a kite", "seconds": 1}, headers=headers
    ).json()
    again = app.client.post(
        "/v1/videos", json={"prompt": "a kite", "seconds": 1}, headers=headers
    ).json()
    assert again["id"] == first["id"]
    assert len(app.client.get("/v1/videos", headers=alice).json()["data"]) == 1


def test_the_same_key_with_another_body_is_422(app, alice):
    headers = {**alice, "Idempotency-Key": "retry-2"}
    app.client.post("/v1/videos", json={"prompt": "a kite", "seconds": 1}, headers=headers)
    response = app.client.post(
        "/v1/videos", json={"prompt": "a boat", "seconds": 1}, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"


def test_idempotency_keys_are_per_user_and_expire(app, alice):
    bob = app.key("bob")
    body = {"prompt": "a kite", "seconds": 1}
    a = app.client.post("/v1/videos", json=body, headers={**alice, "Idempotency-Key": "k"}).json()
    b = app.client.post("/v1/videos", json=body, headers={**bob, "Idempotency-Key": "k"}).json()
    assert a["id"] != b["id"]
    app.clock.advance(25 * 3600)  # past the 24 h window
    c = app.client.post("/v1/videos", json=body, headers={**alice, "Idempotency-Key": "k"}).json()
    assert c["id"] != a["id"]


# ---------------------------------------------------------------- list


def test_list_paginates_with_cursors_in_both_orders(app_factory):
    # No worker: an artist may have 4 videos pending, and all 5 must be accepted, so none
    # may depend on a worker finishing one first.
    artist = DEFAULT_ROLES["artist"].model_copy(update={"max_pending_jobs": 5})
    app = app_factory(server={"embedded_workers": 0}, roles={**DEFAULT_ROLES, "artist": artist})
    alice = app.key("alice")
    ids = [app.create(alice, prompt=f"video {n}")["id"] for n in range(5)]
    page = app.client.get("/v1/videos?limit=2", headers=alice).json()
    assert page["object"] == "list" and page["has_more"]
    assert [v["id"] for v in page["data"]] == ids[::-1][:2]
    assert (page["first_id"], page["last_id"]) == (ids[4], ids[3])
    rest = app.client.get(f"/v1/videos?limit=10&after={page['last_id']}", headers=alice).json()
    assert [v["id"] for v in rest["data"]] == ids[::-1][2:] and not rest["has_more"]
    oldest = app.client.get("/v1/videos?order=asc&limit=3", headers=alice).json()
    assert [v["id"] for v in oldest["data"]] == ids[:3]


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "limit=abc", "order=sideways", "after=video_nope"]
)
def test_bad_list_parameters_are_refused(app, alice, query):
    response = app.client.get(f"/v1/videos?{query}", headers=alice)
    assert response.status_code in (400, 404)
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}


# ---------------------------------------------------------------- cancel and delete


def test_cancel_while_queued_fails_it_at_once(app_factory):
    app = app_factory(server={"embedded_workers": 0})
    alice = app.key("alice")
    video = app.create(alice)
    response = app.client.post(f"/v1/videos/{video['id']}/cancel", headers=alice)
    assert response.status_code == 200
    assert response.json()["status"] == "failed"
    assert response.json()["error"] == {
        "code": "cancelled",
        "message": "cancelled before it started",
    }


def test_cancel_while_running_stops_at_the_next_step(app_factory):
    app = app_factory(runner_options={"steps": 300, "step_seconds": 0.02})
    alice = app.key("alice")
    video = app.create(alice)
    wait_for(
        lambda: app.client.get(f"/v1/videos/{video['id']}", headers=alice).json()["progress"] >= 10
    )
    app.client.post(f"/v1/videos/{video['id']}/cancel", headers=alice)
    done = app.wait_status(video["id"], alice)
    assert done["status"] == "failed" and done["error"]["code"] == "cancelled"
    again = app.client.post(f"/v1/videos/{video['id']}/cancel", headers=alice)
    assert again.status_code == 409 and again.json()["error"]["code"] == "video_finished"


def test_delete_removes_the_video_and_its_files(app, alice):
    video = app.create(alice)
    app.wait_status(video["id"], alice)
    job = app.state.runtime.records.find(video["id"])
    response = app.client.delete(f"/v1/videos/{video['id']}", headers=alice)
    assert response.json() == {"id": video["id"], "object": "video.deleted", "deleted": True}
    assert app.client.get(f"/v1/videos/{video['id']}", headers=alice).status_code == 404
    with pytest.raises(FileNotFoundError):
        app.state.runtime.storage.size(job.video_key)
    assert app.client.delete(f"/v1/videos/{video['id']}", headers=alice).status_code == 404


def test_delete_while_running_cancels_and_its_files_go_when_it_stops(app_factory):
    app = app_factory(runner_options={"steps": 300, "step_seconds": 0.02})
    alice = app.key("alice")
    video = app.create(alice)
    wait_for(lambda: app.state.runtime.records.find(video["id"]).status == "in_progress")
    app.client.delete(f"/v1/videos/{video['id']}", headers=alice)
    stopped = wait_for(
        lambda: (
            (row := app.state.runtime.records.find(video["id"], include_deleted=True)).status
            == "failed"
            and row
        )
    )
    assert stopped.error_code == "cancelled"
    assert app.client.get(f"/v1/videos/{video['id']}", headers=alice).status_code == 404


# ---------------------------------------------------------------- content


@pytest.mark.parametrize(
    ("variant", "media_type"),
    [("video", "video/mp4"), ("thumbnail", "image/webp"), ("spritesheet", "image/jpeg")],
)
def test_content_variants_stream_with_their_media_type(app, alice, variant, media_type):
    video = app.create(alice)
    app.wait_status(video["id"], alice)
    response = app.client.get(f"/v1/videos/{video['id']}/content?variant={variant}", headers=alice)
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.content == FastRunner.CONTENT


def test_content_answers_byte_ranges(app, alice):
    video = app.create(alice)
    app.wait_status(video["id"], alice)
    url = f"/v1/videos/{video['id']}/content"
    response = app.client.get(url, headers={**alice, "Range": "bytes=100-199"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 100-199/{len(FastRunner.CONTENT)}"
    assert response.content == FastRunner.CONTENT[100:200]
    assert app.client.get(url, headers={**alice, "Range": "bytes=999999-"}).status_code == 416


def test_content_is_404_until_completed_and_after_failure(app_factory):
    app = app_factory(server={"embedded_workers": 0})
    alice = app.key("alice")
    video = app.create(alice)
    response = app.client.get(f"/v1/videos/{video['id']}/content", headers=alice)
    assert response.status_code == 404 and response.json()["error"]["code"] == "video_not_ready"
    app.client.post(f"/v1/videos/{video['id']}/cancel", headers=alice)
    response = app.client.get(f"/v1/videos/{video['id']}/content", headers=alice)
    assert response.status_code == 404 and response.json()["error"]["code"] == "video_failed"
    bad = app.client.get(f"/v1/videos/{video['id']}/content?variant=gif", headers=alice)
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "variant"


def test_expired_content_is_deleted_by_the_janitor_and_answers_404(app_factory):
    from service.core.settings import DEFAULT_ROLES

    artist = DEFAULT_ROLES["artist"].model_copy(deep=True)
    artist.export.retention_days = 0.00002  # 1.7 s
    app = app_factory(roles={**DEFAULT_ROLES, "artist": artist})
    alice = app.key("alice")
    video = app.create(alice)
    app.wait_status(video["id"], alice)
    job = app.state.runtime.records.find(video["id"])
    wait_for(
        lambda: app.state.runtime.records.find(video["id"]).files_deleted_at is not None, timeout=10
    )
    with pytest.raises(FileNotFoundError):
        app.state.runtime.storage.size(job.video_key)
    response = app.client.get(f"/v1/videos/{video['id']}/content", headers=alice)
    assert response.status_code == 404 and response.json()["error"]["code"] == "video_expired"
    assert "expired at" in response.json()["error"]["message"]
    assert (
        app.client.get(f"/v1/videos/{video['id']}", headers=alice).json()["status"] == "completed"
    )


# ---------------------------------------------------------------- remix


def test_remix_edits_the_source_clip_on_a_model_that_edits(app, alice):
    source = app.create(alice, size="1280x720", seed=42)
    early = app.client.post(
        f"/v1/videos/{source['id']}/remix", json={"prompt": "a blue kite"}, headers=alice
    )
    if early.status_code != 200:  # a remix edits a finished clip
        assert early.json()["error"]["code"] == "video_not_ready"
    app.wait_status(source["id"], alice)
    response = app.client.post(
        f"/v1/videos/{source['id']}/remix", json={"prompt": "a blue kite"}, headers=alice
    )
    assert response.status_code == 200
    remix = response.json()
    assert remix["id"] != source["id"] and remix["remixed_from_video_id"] == source["id"]
    assert (remix["mode"], remix["source_video_id"]) == ("edit", source["id"])
    # video to video keeps the source's frames, size and seed; only the prompt differs
    assert (remix["prompt"], remix["seed"], remix["size"], remix["frames"]) == (
        "a blue kite",
        42,
        "192x128",
        source["frames"],
    )
    missing = app.client.post("/v1/videos/video_nope/remix", json={"prompt": "x"}, headers=alice)
    assert missing.status_code == 404
    empty = app.client.post(f"/v1/videos/{source['id']}/remix", json={}, headers=alice)
    assert empty.status_code == 400 and empty.json()["error"]["param"] == "prompt"


def test_remix_re_renders_with_the_same_seed_on_a_model_that_cannot_edit(app, alice):
    source = app.create(alice, model="tiny-ltx", seed=42)  # LTX-Video: no video to video
    response = app.client.post(
        f"/v1/videos/{source['id']}/remix", json={"prompt": "a blue kite"}, headers=alice
    )
    assert response.status_code == 200
    remix = response.json()
    assert (remix["mode"], remix["source_video_id"], remix["remixed_from_video_id"]) == (
        "text",
        None,
        source["id"],
    )
    assert (remix["seed"], remix["seconds"], remix["size"]) == (42, "1", source["size"])


# ---------------------------------------------------------------- queue position


def test_queued_videos_report_their_position_and_an_eta(app_factory):
    app = app_factory(server={"embedded_workers": 0})
    alice = app.key("alice")
    red = app.key("red", "red_teamer")
    first, second = app.create(alice), app.create(alice)
    urgent = app.create(red)  # red teamers are served first
    positions = [
        app.client.get(f"/v1/videos/{v['id']}", headers=h).json()["queue_position"]
        for v, h in ((urgent, red), (first, alice), (second, alice))
    ]
    assert positions == [1, 2, 3]


# ---------------------------------------------------------------- operations


def test_health_readiness_and_metrics(app, alice):
    assert app.client.get("/healthz").json() == {"status": "ok"}
    ready = app.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "storage": "ok", "workers": "1 live"}
    video = app.create(alice)
    app.wait_status(video["id"], alice)
    metrics = app.client.get("/metrics").text
    assert 'openreel_jobs{status="completed"} 1.0' in metrics
    assert "openreel_job_duration_seconds_bucket" in metrics
    assert 'openreel_stage_duration_seconds_count{stage="denoise"} 1.0' in metrics
    assert "openreel_workers_live 1.0" in metrics


def test_readiness_fails_without_a_worker(app_factory):
    app = app_factory(server={"embedded_workers": 0})
    ready = app.client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["workers"] == "error: no live worker"


def test_unknown_routes_use_the_envelope_too(app, alice):
    response = app.client.get("/v1/nothing-here", headers=alice)
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "invalid_request_error"
