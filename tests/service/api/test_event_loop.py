"""Slow synchronous work behind a request never stalls the others: a create whose moderation
endpoint is slow leaves /healthz answering. Run on a real uvicorn server on loopback."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import uvicorn

from service.api.app import create_app
from tests.service.conftest import make_settings, new_key

WAIT = 30.0
"""How long the stub holds its answer at most; far past the /healthz timeout below."""


class HeldModeration(ThreadingHTTPServer):
    """An OpenAI-compatible /v1/moderations that answers only once `release` is set."""

    def __init__(self) -> None:
        self.called = threading.Event()
        self.release = threading.Event()
        super().__init__(("127.0.0.1", 0), _ModerationHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _ModerationHandler(BaseHTTPRequestHandler):
    server: HeldModeration

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.server.called.set()
        self.server.release.wait(WAIT)
        body = json.dumps({"results": [{"flagged": False, "categories": {}}]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def moderation():
    stub = HeldModeration()
    thread = threading.Thread(target=stub.serve_forever, daemon=True)
    thread.start()
    yield stub
    stub.release.set()
    stub.shutdown()
    stub.server_close()


@pytest.fixture
def server(tmp_path, moderation):
    settings = make_settings(
        tmp_path / "data",
        server={"embedded_workers": 0},
        moderation={"endpoint": {"url": moderation.url, "timeout_seconds": WAIT + 10}},
    )
    app = create_app(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not running.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    port = running.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", app
    running.should_exit = True
    thread.join(timeout=30)


def test_healthz_answers_while_a_create_waits_on_a_slow_moderation_endpoint(server, moderation):
    url, app = server
    key = new_key(app.state.runtime.engine)
    created: dict = {}

    def create() -> None:
        created["response"] = httpx.post(
            f"{url}/v1/videos",
            json={"prompt": "a red kite", "seconds": 1},
            headers={"Authorization": f"Bearer {key}"},
            timeout=WAIT + 30,
        )

    creator = threading.Thread(target=create)
    creator.start()
    assert moderation.called.wait(WAIT), "the create never reached the moderation endpoint"
    # The create is now inside its moderation call, which holds until /healthz answers: on
    # a blocked event loop /healthz would time out here.
    health = httpx.get(f"{url}/healthz", timeout=5)
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert not created, "the create answered before its moderation did"
    moderation.release.set()
    creator.join(timeout=WAIT + 30)
    assert created["response"].status_code == 200, created["response"].text
    assert created["response"].json()["status"] == "queued"
