"""Webhooks through a live `openreel serve` and the official SDK: an endpoint registered
with `webhooks.create` gets the finished video's event, signed so that the SDK's
`verify_signature` accepts it; a receiver that answers 500 twice gets it on the third
attempt, with the server killed and started again between the attempts."""

from __future__ import annotations

import json
import signal

import httpx
from openai import OpenAI

from tests.service.e2e.conftest import E2E_CONFIG, Server, make_key
from tests.service.receiver import Receiver

WEBHOOK_CONFIG = """
webhooks:
  allowed_hosts: ["127.0.0.1"]
  poll_seconds: 0.2
  retry_base_seconds: 1
  timeout_seconds: 5
"""


def test_delivery_is_signed_retried_and_survives_a_restart(data_dir):
    config = data_dir / "webhooks.yaml"
    config.write_text(E2E_CONFIG + WEBHOOK_CONFIG)
    key = make_key(data_dir, "hooked")
    server = Server(data_dir, config)
    with Receiver([500, 500]) as receiver:
        client = OpenAI(api_key=key, base_url=f"{server.url}/v1", max_retries=0)
        endpoint = client.webhooks.create(
            name="ci receiver", url=receiver.url, event_types=["video.completed"]
        )
        video = client.videos.create(
            prompt="a red kite over a green hill", seconds="1", size="64x64"
        )
        first = receiver.wait(1, timeout=120)[0]
        assert first.status == 500
        server.stop(signal.SIGKILL)  # the retry is only a row in the database now

        server = Server(data_dir, config)
        try:
            received = receiver.wait(3, timeout=60)
            assert [r.status for r in received] == [500, 500, 200]
            last = received[-1]
            client.webhooks.verify_signature(
                last.body, last.headers, secret=endpoint.signing_secret
            )
            event = json.loads(last.body)
            assert event["type"] == "video.completed" and event["data"]["id"] == video.id
            assert {r.headers["webhook-id"] for r in received} == {event["id"]}
            client = OpenAI(api_key=key, base_url=f"{server.url}/v1", max_retries=0)
            assert client.videos.retrieve(video.id).status == "completed"

            log = httpx.get(
                f"{server.url}/v1/webhook_endpoints/{endpoint.id}/deliveries",
                headers={"Authorization": f"Bearer {key}"},
            ).json()
            (delivery,) = log["data"]
            assert delivery["status"] == "delivered"
            assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 200]
        finally:
            server.stop(signal.SIGKILL)
