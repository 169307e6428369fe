"""Live progress over Server-Sent Events, against a live server rendering with tiny-wan."""

from __future__ import annotations

import itertools
import json
from contextlib import ExitStack

import httpx
import pytest

from tests.service.e2e.conftest import make_key

_users = itertools.count(1)


@pytest.fixture
def server(module_server):
    return module_server


def _key(server) -> str:
    return make_key(server.data_dir, f"watcher{next(_users)}")


def _create(server, key: str, **fields) -> str:
    response = httpx.post(
        f"{server.url}/v1/videos",
        headers={"Authorization": f"Bearer {key}"},
        data={"prompt": "a red kite over a green hill", "seconds": "1", "size": "64x64", **fields},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()["id"]


def _events(response: httpx.Response) -> list[dict]:
    """The events of a stream, as {id, event, data}, comments left out."""
    out, current = [], {}
    for line in response.iter_lines():
        if not line:
            if "event" in current:
                out.append(current)
            current = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            current[name] = json.loads(value) if name == "data" else value
    return out


def test_a_stream_shows_progress_and_ends_with_the_completed_video(server):
    key = _key(server)
    video_id = _create(server, key)
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.stream(
        "GET", f"{server.url}/v1/videos/{video_id}/events", headers=headers, timeout=120
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _events(response)
    assert events[-1]["event"] == "completed"
    final = events[-1]["data"]
    assert final["id"] == video_id and final["status"] == "completed" and final["progress"] == 100
    progress = [e["data"]["progress"] for e in events if e["event"] == "progress"]
    assert progress == sorted(progress)  # never goes back
    assert len({e["id"] for e in events}) == len(events)  # each event a new state

    # Reconnecting with the last id: the finished video's last event, once, and the end.
    again = httpx.get(
        f"{server.url}/v1/videos/{video_id}/events",
        headers={**headers, "Last-Event-ID": events[-1]["id"]},
        timeout=30,
    )
    replayed = _events(again)
    assert [e["event"] for e in replayed] == ["completed"]


def test_a_stream_is_refused_for_a_video_the_caller_cannot_see(server):
    video_id = _create(server, _key(server))
    other = httpx.get(
        f"{server.url}/v1/videos/{video_id}/events",
        headers={"Authorization": f"Bearer {_key(server)}"},
        timeout=30,
    )
    assert other.status_code == 404
    assert other.json()["error"]["code"]
    anonymous = httpx.get(f"{server.url}/v1/videos/{video_id}/events", timeout=30)
    assert anonymous.status_code == 401


def test_streams_beyond_the_per_user_cap_get_429(server):
    key = _key(server)
    headers = {"Authorization": f"Bearer {key}"}
    # A longer clip, queued behind nothing but long enough to still be rendering.
    video_id = _create(server, key, seconds="8", size="128x128")
    url = f"{server.url}/v1/videos/{video_id}/events"
    with ExitStack() as streams, httpx.Client(timeout=60) as client:
        opened = [
            streams.enter_context(client.stream("GET", url, headers=headers)) for _ in range(4)
        ]
        assert all(r.status_code == 200 for r in opened)
        refused = client.get(url, headers=headers)
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "too_many_streams"
        assert refused.headers.get("retry-after")
