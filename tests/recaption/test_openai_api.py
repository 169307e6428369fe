"""The openai backend against a real HTTP server on loopback."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from recaption import RecaptionConfig, Recaptioner
from recaption.config import OpenAIOptions
from recaption.openai_api import OpenAIBackend
from recaption.rules import rules_rewrite
from tests.recaption.conftest import WAN
from tests.recaption.test_validate import CAT, GOOD


def completion(content: str) -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
    }


class FakeServer:
    """Answers POST /v1/chat/completions from a script: (status, body, headers, delay)."""

    def __init__(self, *replies):
        self.replies = list(replies)
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers.get("content-length", 0))
                server.requests.append(
                    {
                        "path": self.path,
                        "body": json.loads(self.rfile.read(length)),
                        "authorization": self.headers.get("authorization"),
                    }
                )
                status, body, headers, delay = server.replies.pop(0)
                time.sleep(delay)
                payload = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting, as it should

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True  # do not wait for slow replies nobody reads
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    servers = []

    def start(*replies):
        servers.append(FakeServer(*replies))
        return servers[-1]

    yield start
    for running in servers:
        running.close()


def ok(content=GOOD, delay=0.0):
    return (200, completion(content), {}, delay)


def status(code, headers=None):
    return (code, {"error": {"message": f"status {code}"}}, headers or {}, 0.0)


def recaptioner_for(url, tmp_path, sleeps=None, **options):
    settings = {"base_url": url, "model": "qwen-test", "backoff_initial": 0.01, **options}
    backend = OpenAIBackend(
        OpenAIOptions(**settings), sleep=(sleeps.append if sleeps is not None else time.sleep)
    )
    config = RecaptionConfig(backend="openai", mode="on", openai=settings)
    return Recaptioner(config, backend=backend, cache_dir=tmp_path)


def test_a_200_answer_is_validated_and_used(server, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENREEL_RECAPTION_API_KEY", "sk-test-123")
    fake = server(ok())
    result = recaptioner_for(fake.url, tmp_path).recaption(CAT, WAN, seed=9)
    assert (result.status, result.prompt, result.backend, result.model) == (
        "rewritten",
        GOOD,
        "openai",
        "qwen-test",
    )
    [request] = fake.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["authorization"] == "Bearer sk-test-123"
    assert request["body"]["model"] == "qwen-test"
    assert request["body"]["seed"] == 9
    assert request["body"]["temperature"] == 0.0  # the configured temperature: greedy
    assert request["body"]["messages"][1]["content"] == f"<prompt>\n{CAT}\n</prompt>"


def test_500_is_retried_with_backoff_then_falls_back(server, tmp_path):
    fake = server(*[status(500)] * 3)
    sleeps: list[float] = []
    result = recaptioner_for(fake.url, tmp_path, sleeps, max_attempts=3).recaption(CAT, WAN, seed=2)
    assert result.status == "fallback" and result.reasons == ("backend_unavailable",)
    assert result.prompt == rules_rewrite(CAT, seed=2)
    assert len(fake.requests) == 3 and len(sleeps) == 2
    assert sleeps[0] <= 0.01 and sleeps[1] <= 0.02  # exponential, jittered below the ceiling


def test_a_500_then_a_200_succeeds(server, tmp_path):
    fake = server(status(503), ok())
    result = recaptioner_for(fake.url, tmp_path, []).recaption(CAT, WAN)
    assert result.status == "rewritten" and len(fake.requests) == 2


def test_a_timeout_is_retried_then_falls_back(server, tmp_path):
    fake = server(ok(delay=1.0), ok(delay=1.0))
    started = time.monotonic()
    result = recaptioner_for(fake.url, tmp_path, [], timeout=0.2, max_attempts=2).recaption(
        CAT, WAN
    )
    assert result.status == "fallback" and result.reasons == ("backend_timeout",)
    assert len(fake.requests) == 2
    assert time.monotonic() - started < 1.5  # it did not wait for the slow answers


def test_malformed_json_falls_back_without_retry(server, tmp_path):
    fake = server((200, "this is not json", {}, 0.0), ok())
    result = recaptioner_for(fake.url, tmp_path, []).recaption(CAT, WAN)
    assert result.status == "fallback" and result.reasons == ("malformed_response",)
    assert len(fake.requests) == 1


def test_a_response_without_choices_is_malformed(server, tmp_path):
    fake = server((200, {"object": "chat.completion", "choices": []}, {}, 0.0))
    result = recaptioner_for(fake.url, tmp_path, []).recaption(CAT, WAN)
    assert result.reasons == ("malformed_response",)


@pytest.mark.parametrize("code", [400, 401, 403, 404, 422])
def test_other_4xx_are_not_retried(server, tmp_path, code):
    fake = server(status(code), ok())
    result = recaptioner_for(fake.url, tmp_path, []).recaption(CAT, WAN)
    assert result.status == "fallback" and result.reasons == ("backend_rejected",)
    assert f"HTTP {code}" in result.detail
    assert len(fake.requests) == 1


def test_429_waits_as_long_as_retry_after_says(server, tmp_path):
    fake = server(status(429, {"retry-after": "0.05"}), ok())
    sleeps: list[float] = []
    result = recaptioner_for(fake.url, tmp_path, sleeps).recaption(CAT, WAN)
    assert result.status == "rewritten" and sleeps == [0.05]


def test_retries_stop_at_the_total_deadline(server, tmp_path):
    fake = server(*[status(500)] * 10)
    result = recaptioner_for(
        fake.url, tmp_path, None, max_attempts=10, deadline=0.3, backoff_initial=0.2
    ).recaption(CAT, WAN)
    assert result.status == "fallback"
    assert len(fake.requests) < 10


def test_an_unreachable_server_is_retried_then_falls_back(tmp_path):
    result = recaptioner_for("http://127.0.0.1:9/v1", tmp_path, [], max_attempts=2).recaption(
        CAT, WAN
    )
    assert result.status == "fallback" and result.reasons == ("backend_unavailable",)


def test_the_first_answer_uses_the_configured_temperature_and_the_retry_is_greedy(server, tmp_path):
    fake = server(ok("A cat."), ok())
    result = recaptioner_for(fake.url, tmp_path, [], temperature=0.7).recaption(CAT, WAN)
    assert result.status == "rewritten"
    assert [r["body"]["temperature"] for r in fake.requests] == [0.7, 0.0]
