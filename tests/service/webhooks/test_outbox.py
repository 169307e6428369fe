"""The outbox and the deliveries' state changes on SQLite and on the real PostgreSQL: an
outcome becomes one event, however many loops scan; attempts are leased, backed off and
given up after webhooks.retry_for_hours."""

from __future__ import annotations

import json
import threading

import pytest
import sqlalchemy as sa

from service.core.db.schema import webhook_deliveries, webhook_endpoints, webhook_events
from service.core.settings import WebhookSettings
from service.domain.accounts import ensure_user
from service.webhooks import deliveries, outbox
from service.webhooks.sender import Answer
from tests.service.jobs.test_queue import job_values

FAILED_ANSWER = Answer(500, "no", "HTTP 500", 3)


def add_endpoint(engine, user_id: str, *, scope="own", types=("video.completed",)) -> str:
    endpoint_id = f"we_{user_id}_{scope}"
    with engine.begin() as connection:
        connection.execute(
            webhook_endpoints.insert().values(
                id=endpoint_id,
                user_id=user_id,
                scope=scope,
                name="t",
                url="http://127.0.0.1:9/",
                event_types=json.dumps(list(types)),
                secret="whsec_" + "A" * 44,
                created_at=1,
                updated_at=1,
            )
        )
    return endpoint_id


def finish(runtime, user_id: str, number: int) -> str:
    queue = runtime.queue
    queue.enqueue(job_values(user_id, number))
    job = queue.claim("w", ["tiny-wan"], lease_seconds=60)
    queue.complete(job.id, "w", retention_seconds=60)
    return job.id


@pytest.fixture
def users(runtime):
    return ensure_user(runtime.engine, "a1", "artist"), ensure_user(runtime.engine, "a2", "artist")


def test_each_outcome_becomes_one_event_however_many_loops_scan(runtime, users):
    mine, other = users
    add_endpoint(runtime.engine, mine.id)
    made = [finish(runtime, mine.id, n) for n in range(6)] + [finish(runtime, other.id, 9)]
    threads = [threading.Thread(target=outbox.announce, args=(runtime.engine,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with runtime.engine.connect() as connection:
        events = connection.execute(sa.select(webhook_events.c.video_id)).scalars().all()
        pending = connection.execute(
            sa.select(sa.func.count()).select_from(webhook_deliveries)
        ).scalar()
    assert sorted(events) == sorted(made[:6])  # the other user's video has no subscriber
    assert pending == 6
    assert outbox.announce(runtime.engine) == 0


def test_videos_finished_before_an_endpoint_existed_are_not_sent_to_it(runtime, users):
    mine, _ = users
    finish(runtime, mine.id, 1)
    assert outbox.announce(runtime.engine) == 0
    add_endpoint(runtime.engine, mine.id)
    assert outbox.announce(runtime.engine) == 0


def test_a_claimed_delivery_is_leased_then_backed_off_then_given_up(runtime, users):
    mine, _ = users
    add_endpoint(runtime.engine, mine.id)
    finish(runtime, mine.id, 1)
    outbox.announce(runtime.engine, clock=lambda: 1000.0)
    settings = WebhookSettings(retry_base_seconds=10, retry_max_seconds=3600, retry_for_hours=24)
    (delivery_id,) = deliveries.due(runtime.engine, now=1000.0, limit=10)
    claimed = deliveries.claim(runtime.engine, delivery_id, now=1000.0, lease_seconds=30)
    assert claimed is not None and claimed.attempt == 1
    assert deliveries.claim(runtime.engine, delivery_id, now=1001.0, lease_seconds=30) is None
    # the claimer died: its lease runs out and another loop takes it
    again = deliveries.claim(runtime.engine, delivery_id, now=1031.0, lease_seconds=30)
    assert again is not None and again.attempt == 1
    status = deliveries.record(runtime.engine, again, FAILED_ANSWER, now=1031.0, settings=settings)
    assert status == "pending"
    assert deliveries.due(runtime.engine, now=1040.0, limit=10) == []  # backed off >= 10 s
    assert deliveries.due(runtime.engine, now=1043.0, limit=10) == [delivery_id]
    # a day after the event, a failure gives the delivery up
    late = deliveries.claim(runtime.engine, delivery_id, now=1000.0 + 86390, lease_seconds=30)
    assert late.attempt == 2
    assert (
        deliveries.record(runtime.engine, late, FAILED_ANSWER, now=1000 + 86390, settings=settings)
        == "failed"
    )
    (entry,), _ = deliveries.log(runtime.engine, claimed_endpoint(runtime), after=None, limit=5)
    assert entry["status"] == "failed" and [a["status_code"] for a in entry["attempts"]] == [
        500,
        500,
    ]


def claimed_endpoint(runtime) -> str:
    with runtime.engine.connect() as connection:
        return connection.execute(sa.select(webhook_endpoints.c.id)).scalar_one()


def test_back_off_doubles_up_to_its_cap():
    settings = WebhookSettings(retry_base_seconds=5, retry_max_seconds=3600)
    delays = [deliveries.retry_delay(settings, n) for n in range(1, 14)]
    assert 5 <= delays[0] <= 5.5 and 10 <= delays[1] <= 11 and 20 <= delays[2] <= 22
    assert all(3600 <= d <= 3960 for d in delays[-3:])
    # with the defaults, the attempts go on for the whole retry_for_hours (72 h by default)
    assert WebhookSettings().retry_for_hours >= 24
