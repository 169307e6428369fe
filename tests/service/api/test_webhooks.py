"""/v1/webhook_endpoints: management in OpenAI's shapes, ownership, destinations refused,
and events of finished videos delivered, signed, retried and logged."""

from __future__ import annotations

import json

import pytest
from openai import OpenAI

from tests.service.conftest import wait_for
from tests.service.receiver import Receiver

FAST_WEBHOOKS = {
    "allowed_hosts": ["127.0.0.1"],
    "poll_seconds": 0.05,
    "retry_base_seconds": 0.2,
    "timeout_seconds": 2,
}


@pytest.fixture
def app(app_factory):
    return app_factory(webhooks=FAST_WEBHOOKS)


def endpoint(app, headers, url, **changes) -> dict:
    body = {"name": "ci", "url": url, "event_types": ["video.completed", "video.failed"], **changes}
    response = app.client.post("/v1/webhook_endpoints", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_events_of_a_users_videos_reach_their_endpoint_signed(app):
    artist, other = app.key("artist1"), app.key("artist2")
    with Receiver() as mine, Receiver() as theirs:
        made = endpoint(app, artist, mine.url)
        endpoint(app, other, theirs.url)
        assert made["signing_secret"].startswith("whsec_")
        assert made["signing_secret_hint"].endswith(made["signing_secret"][-4:])
        video = app.create(artist)
        app.wait_status(video["id"], artist)
        (request,) = mine.wait(1)
        event = json.loads(request.body)
        assert event["type"] == "video.completed" and event["data"] == {"id": video["id"]}
        assert event["object"] == "event" and request.headers["webhook-id"] == event["id"]
        client = OpenAI(api_key="unused", base_url="http://unused")
        client.webhooks.verify_signature(
            request.body, request.headers, secret=made["signing_secret"]
        )
        unwrapped = client.webhooks.unwrap(
            request.body, request.headers, secret=made["signing_secret"]
        )
        assert unwrapped.type == "video.completed"
        assert theirs.received == []  # another user's endpoint hears nothing of it


def test_a_failing_receiver_is_retried_and_the_log_shows_each_answer(app):
    artist = app.key()
    with Receiver([500, 503]) as receiver:
        made = endpoint(app, artist, receiver.url)
        video = app.create(artist)
        app.wait_status(video["id"], artist)
        received = receiver.wait(3)
        assert [r.status for r in received] == [500, 503, 200]
        assert len({r.headers["webhook-id"] for r in received}) == 1  # one event, three tries

        def delivered():
            log = app.client.get(
                f"/v1/webhook_endpoints/{made['id']}/deliveries", headers=artist
            ).json()
            return log if log["data"] and log["data"][0]["status"] == "delivered" else None

        (delivery,) = wait_for(delivered)["data"]
        assert [a["status_code"] for a in delivery["attempts"]] == [500, 503, 200]
        assert delivery["attempts"][0]["response"] == "receiver says no"
        assert delivery["video_id"] == video["id"]


def test_failed_videos_send_video_failed_only_where_subscribed(app_factory):
    app = app_factory(webhooks=FAST_WEBHOOKS, runner_options={"error": RuntimeError("boom")})
    artist = app.key()
    with Receiver() as completed_only, Receiver() as failed_only:
        endpoint(app, artist, completed_only.url, event_types=["video.completed"])
        endpoint(app, artist, failed_only.url, event_types=["video.failed"])
        video = app.create(artist)
        app.wait_status(video["id"], artist)
        (request,) = failed_only.wait(1)
        assert json.loads(request.body)["type"] == "video.failed"
        assert completed_only.received == []


def test_management_in_the_sdk_shapes(app):
    artist = app.key()
    client = OpenAI(
        api_key=artist["Authorization"].split()[1],
        base_url="http://testserver/v1",
        http_client=app.client,
    )
    with Receiver() as receiver:
        made = client.webhooks.create(
            name="mine", url=receiver.url, event_types=["video.completed"]
        )
        assert made.signing_secret.startswith("whsec_")
        got = client.webhooks.retrieve(made.id)
        assert got.url == receiver.url and got.signing_secret_hint == made.signing_secret_hint
        assert not hasattr(got, "signing_secret") or got.model_extra.get("signing_secret") is None
        updated = client.webhooks.update(made.id, name="renamed", event_types=["video.failed"])
        assert updated.name == "renamed" and updated.event_types == ["video.failed"]
        assert [e.id for e in client.webhooks.list()] == [made.id]
        rotated = client.webhooks.rotate_secret(made.id)
        assert rotated.signing_secret != made.signing_secret
        result = client.webhooks.test(made.id, event_type="video.completed")
        assert result.status_code == 200 and result.success
        (request,) = receiver.wait(1)
        client.webhooks.verify_signature(
            request.body, request.headers, secret=rotated.signing_secret
        )
        assert client.webhooks.delete(made.id).deleted
        assert client.webhooks.list().data == []


def test_rotation_keeping_the_old_secret_signs_with_both(app):
    artist = app.key()
    with Receiver() as receiver:
        made = endpoint(app, artist, receiver.url)
        rotated = app.client.post(
            f"/v1/webhook_endpoints/{made['id']}/rotate_secret",
            json={"keep_old_secret_active_for_24_hours": True},
            headers=artist,
        ).json()
        app.client.post(
            f"/v1/webhook_endpoints/{made['id']}/test",
            json={"event_type": "video.failed"},
            headers=artist,
        )
        (request,) = receiver.wait(1)
        client = OpenAI(api_key="unused", base_url="http://unused")
        for secret in (made["signing_secret"], rotated["signing_secret"]):
            client.webhooks.verify_signature(request.body, request.headers, secret=secret)


@pytest.mark.parametrize(
    "url, says",
    [
        ("http://127.0.0.2/hook", "must use https"),
        ("https://127.0.0.1:1/hook", None),  # listed host: allowed even with https
        ("https://10.1.2.3/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[::1]/hook", "loopback"),
        ("https://[::ffff:10.0.0.1]/hook", "private"),
        ("https://user:pw@example.com/hook", "user name or password"),
        ("ftp://example.com/hook", "https://"),
        ("https:///nohost", "https://"),
        ("https://0.0.0.0/hook", "reserved"),
    ],
)
def test_inward_destinations_are_refused(app, url, says):
    response = app.client.post(
        "/v1/webhook_endpoints",
        json={"name": "x", "url": url, "event_types": ["video.completed"]},
        headers=app.key(),
    )
    if says is None:
        assert response.status_code == 200, response.text
        return
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == "url" and says in error["message"], error


def test_unknown_event_types_are_refused_by_name(app):
    response = app.client.post(
        "/v1/webhook_endpoints",
        json={
            "name": "x",
            "url": "http://127.0.0.1:9/",
            "event_types": ["video.completed", "batch.completed"],
        },
        headers=app.key(),
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "event_types" and "batch.completed" in error["message"]


def test_endpoints_are_their_owners_and_scope_all_is_for_operators(app):
    artist, other, operator = app.key("a1"), app.key("a2"), app.key("op1", "operator")
    made = endpoint(app, artist, "http://127.0.0.1:9/")
    path = f"/v1/webhook_endpoints/{made['id']}"
    assert app.client.get(path, headers=other).status_code == 404
    assert app.client.delete(path, headers=other).status_code == 404
    assert app.client.get(path, headers=operator).status_code == 200
    refused = app.client.post(
        "/v1/webhook_endpoints",
        json={
            "name": "x",
            "url": "http://127.0.0.1:9/",
            "event_types": ["video.completed"],
            "scope": "all",
        },
        headers=artist,
    )
    assert refused.status_code == 403 and refused.json()["error"]["param"] == "scope"
    everyone = endpoint(app, operator, "http://127.0.0.1:9/", scope="all")
    assert everyone["scope"] == "all" and everyone["owner"]["name"] == "op1"


def test_operators_endpoint_for_everyone_hears_every_users_videos(app):
    artist, operator = app.key("a1"), app.key("op1", "operator")
    with Receiver() as receiver:
        endpoint(app, operator, receiver.url, scope="all")
        video = app.create(artist)
        app.wait_status(video["id"], artist)
        (request,) = receiver.wait(1)
        assert json.loads(request.body)["data"]["id"] == video["id"]


def test_an_unreachable_test_target_is_a_clear_error(app):
    artist = app.key()
    made = endpoint(app, artist, "http://127.0.0.1:9/closed")
    response = app.client.post(
        f"/v1/webhook_endpoints/{made['id']}/test",
        json={"event_type": "video.completed"},
        headers=artist,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "webhook_unreachable"


def test_endpoint_changes_are_audited(app):
    artist, operator = app.key("a1"), app.key("op1", "operator")
    made = endpoint(app, artist, "http://127.0.0.1:9/")
    app.client.delete(f"/v1/webhook_endpoints/{made['id']}", headers=artist)
    entries = app.client.get(
        "/v1/admin/audit?target_type=webhook_endpoint", headers=operator
    ).json()
    assert {e["action"] for e in entries["data"]} == {"webhook.created", "webhook.deleted"}
