"""The delivery loop `openreel serve` runs: announce finished videos (the outbox), then
attempt the deliveries that are due, a few at once. Everything it knows is in the database,
so a restart, or a second server, picks up where it was."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from service.core.runtime import Runtime
from service.webhooks import deliveries, outbox, signing
from service.webhooks.destinations import AllowedHosts, DestinationRefused, check_url
from service.webhooks.sender import Answer, Sender

logger = logging.getLogger(__name__)


def attempt(runtime: Runtime, sender: Sender, claimed: deliveries.Claimed, *, retry=True) -> Answer:
    """Send a claimed delivery once and record the outcome; its answer."""
    settings = runtime.settings.webhooks
    if claimed.url is None:
        deliveries.abandon(runtime.engine, claimed, now=runtime.clock(), reason="endpoint deleted")
        return Answer(None, "", "endpoint deleted", 0)
    try:
        # the address is checked by the sender's connection, once, after it resolves
        check_url(claimed.url, AllowedHosts(settings.allowed_hosts), resolve_host=False)
    except DestinationRefused as exc:
        answer = Answer(None, "", f"refused: {exc}", 0)
    else:
        timestamp = int(runtime.clock())
        headers = signing.headers(claimed.secrets, claimed.event_id, timestamp, claimed.payload)
        answer = sender.post(claimed.url, claimed.payload, headers)
    status = deliveries.record(
        runtime.engine, claimed, answer, now=runtime.clock(), settings=settings, retry=retry
    )
    if not answer.delivered:
        logger.info(
            "webhook delivery %s attempt %d: %s (%s)",
            claimed.id,
            claimed.attempt,
            answer.error,
            status,
        )
    return answer


class DeliveryLoop:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.settings = runtime.settings.webhooks
        self.sender = Sender.for_settings(self.settings)
        self.lease_seconds = deliveries.lease_seconds(self.settings)
        self.in_flight: dict[str, Future] = {}

    def run(self, stop: threading.Event) -> None:
        with ThreadPoolExecutor(self.settings.concurrency, thread_name_prefix="webhook") as pool:
            while not stop.wait(self.settings.poll_seconds):
                try:
                    self.tick(pool)
                except Exception:
                    logger.exception("webhook delivery loop failed; trying again")
        self.sender.close()

    def tick(self, pool: ThreadPoolExecutor) -> None:
        outbox.announce(self.runtime.engine, clock=self.runtime.clock)
        self.in_flight = {key: f for key, f in self.in_flight.items() if not f.done()}
        room = self.settings.concurrency - len(self.in_flight)
        if room <= 0:
            return
        now = self.runtime.clock()
        for delivery_id in deliveries.due(
            self.runtime.engine, now=now, limit=room, skip=set(self.in_flight)
        ):
            self.in_flight[delivery_id] = pool.submit(self.deliver, delivery_id)

    def deliver(self, delivery_id: str) -> None:
        try:
            claimed = deliveries.claim(
                self.runtime.engine,
                delivery_id,
                now=self.runtime.clock(),
                lease_seconds=self.lease_seconds,
            )
            if claimed is not None:
                attempt(self.runtime, self.sender, claimed)
        except Exception:
            # the lease runs out and the delivery is tried again
            logger.exception("webhook delivery %s failed", delivery_id)


def run_deliveries(runtime: Runtime, stop: threading.Event) -> None:
    DeliveryLoop(runtime).run(stop)
