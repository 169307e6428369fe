"""The outbox: finished videos become webhook events. A video's outcome is announced once,
in the transaction that marks it announced and writes its event and one delivery per
endpoint that wants it, so an event is never lost nor made twice, whichever process or
host finished the video and however many servers scan at once. The queue's own state
changes stay as they are: the outbox reads what they wrote."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from service.core.db.schema import (
    users,
    videos,
    webhook_deliveries,
    webhook_endpoints,
    webhook_events,
)

EVENT_TYPES = ("video.completed", "video.failed")

_UNANNOUNCED = sa.text("status IN ('completed', 'failed') AND announced_at IS NULL")


@dataclass(frozen=True)
class Subscriber:
    id: str
    user_id: str
    scope: str
    event_types: frozenset[str]

    def wants(self, event_type: str, video_user_id: str) -> bool:
        return event_type in self.event_types and (
            self.scope == "all" or self.user_id == video_user_id
        )


def subscribers(connection: Connection) -> list[Subscriber]:
    """Endpoints not deleted, of users not disabled."""
    rows = connection.execute(
        sa.select(
            webhook_endpoints.c.id,
            webhook_endpoints.c.user_id,
            webhook_endpoints.c.scope,
            webhook_endpoints.c.event_types,
        )
        .join(users, users.c.id == webhook_endpoints.c.user_id)
        .where(webhook_endpoints.c.deleted_at.is_(None), users.c.disabled_at.is_(None))
    )
    return [
        Subscriber(row.id, row.user_id, row.scope, frozenset(json.loads(row.event_types)))
        for row in rows
    ]


def event_payload(event_id: str, event_type: str, created_at: float, video_id: str) -> str:
    """OpenAI's event shape; the receiver fetches the video by its id."""
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "created_at": int(created_at),
            "type": event_type,
            "data": {"id": video_id},
        },
        separators=(",", ":"),
    )


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def new_delivery_id() -> str:
    return f"whd_{uuid.uuid4().hex}"


def write_event(
    connection: Connection,
    *,
    event_type: str,
    video_id: str,
    user_id: str,
    endpoint_ids: list[str],
    now: float,
    test: bool = False,
) -> tuple[str, list[str]]:
    """An event and a pending delivery of it to each endpoint, due now; their ids."""
    event_id = new_event_id()
    connection.execute(
        webhook_events.insert().values(
            id=event_id,
            type=event_type,
            video_id=video_id,
            user_id=user_id,
            payload=event_payload(event_id, event_type, now, video_id),
            created_at=now,
        )
    )
    delivery_ids = [new_delivery_id() for _ in endpoint_ids]
    if endpoint_ids:
        connection.execute(
            webhook_deliveries.insert(),
            [
                {
                    "id": delivery_id,
                    "endpoint_id": endpoint_id,
                    "event_id": event_id,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                    "test": test,
                }
                for delivery_id, endpoint_id in zip(delivery_ids, endpoint_ids, strict=True)
            ],
        )
    return event_id, delivery_ids


def announce(engine: Engine, *, clock: Callable[[], float] = time.time, limit: int = 200) -> int:
    """Announce up to `limit` finished videos; how many events were written."""
    with engine.connect() as connection:
        finished = connection.execute(
            sa.select(videos.c.id, videos.c.user_id, videos.c.status)
            .where(_UNANNOUNCED)
            .order_by(videos.c.seq)
            .limit(limit)
        ).all()
        if not finished:
            return 0
        wanted_by = subscribers(connection)
    now = clock()
    unwanted = []
    written = 0
    for video in finished:
        event_type = f"video.{video.status}"
        targets = [s.id for s in wanted_by if s.wants(event_type, video.user_id)]
        if not targets:
            unwanted.append(video.id)
            continue
        with engine.begin() as connection:
            if _mark_announced(connection, [video.id], now) == 1:
                write_event(
                    connection,
                    event_type=event_type,
                    video_id=video.id,
                    user_id=video.user_id,
                    endpoint_ids=targets,
                    now=now,
                )
                written += 1
    if unwanted:
        with engine.begin() as connection:
            _mark_announced(connection, unwanted, now)
    return written


def _mark_announced(connection: Connection, video_ids: list[str], now: float) -> int:
    return connection.execute(
        videos.update()
        .where(videos.c.id.in_(video_ids), videos.c.announced_at.is_(None))
        .values(announced_at=now)
    ).rowcount
