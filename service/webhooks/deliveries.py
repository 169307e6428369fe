"""A delivery's state changes, each one transaction: claimed for an attempt (a lease, so
that two delivery loops never send it at once and a dead one's claim runs out), then
delivered, retried later, or given up, with the attempt in the endpoint's log."""

from __future__ import annotations

import random
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from service.core.db.schema import (
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
    webhook_events,
)
from service.core.settings import WebhookSettings
from service.webhooks.sender import Answer

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


@dataclass(frozen=True)
class Claimed:
    """A delivery claimed for one attempt, with what the attempt needs."""

    id: str
    attempt: int  # from 1
    created_at: float
    event_id: str
    payload: bytes
    url: str | None  # None: the endpoint was deleted
    secrets: list[str]


def due(engine: Engine, *, now: float, limit: int, skip: set[str] = frozenset()) -> list[str]:
    query = (
        sa.select(webhook_deliveries.c.id)
        .where(
            sa.text("status = 'pending'"),
            webhook_deliveries.c.next_attempt_at <= now,
            sa.or_(
                webhook_deliveries.c.lease_expires_at.is_(None),
                webhook_deliveries.c.lease_expires_at <= now,
            ),
        )
        .order_by(webhook_deliveries.c.next_attempt_at)
        .limit(limit + len(skip))
    )
    with engine.connect() as connection:
        ids = [row.id for row in connection.execute(query)]
    return [delivery_id for delivery_id in ids if delivery_id not in skip][:limit]


def claim(engine: Engine, delivery_id: str, *, now: float, lease_seconds: float) -> Claimed | None:
    """The delivery, leased to the caller; None if another loop has it or it is not due."""
    with engine.begin() as connection:
        taken = connection.execute(
            webhook_deliveries.update()
            .where(
                webhook_deliveries.c.id == delivery_id,
                webhook_deliveries.c.status == PENDING,
                webhook_deliveries.c.next_attempt_at <= now,
                sa.or_(
                    webhook_deliveries.c.lease_expires_at.is_(None),
                    webhook_deliveries.c.lease_expires_at <= now,
                ),
            )
            .values(lease_expires_at=now + lease_seconds)
        ).rowcount
        if not taken:
            return None
        row = connection.execute(
            sa.select(
                webhook_deliveries.c.id,
                webhook_deliveries.c.attempts,
                webhook_deliveries.c.created_at,
                webhook_events.c.id.label("event_id"),
                webhook_events.c.payload,
                webhook_endpoints.c.url,
                webhook_endpoints.c.deleted_at,
                webhook_endpoints.c.secret,
                webhook_endpoints.c.previous_secret,
                webhook_endpoints.c.previous_secret_until,
            )
            .join(webhook_events, webhook_events.c.id == webhook_deliveries.c.event_id)
            .join(webhook_endpoints, webhook_endpoints.c.id == webhook_deliveries.c.endpoint_id)
            .where(webhook_deliveries.c.id == delivery_id)
        ).one()
    secrets = [row.secret]
    if row.previous_secret and (row.previous_secret_until or 0) > now:
        secrets.append(row.previous_secret)
    return Claimed(
        id=row.id,
        attempt=row.attempts + 1,
        created_at=row.created_at,
        event_id=row.event_id,
        payload=row.payload.encode(),
        url=None if row.deleted_at is not None else row.url,
        secrets=secrets,
    )


def lease_seconds(settings: WebhookSettings) -> float:
    """How long a claim holds a delivery: one attempt with all its timeouts, and then some;
    a delivery loop that dies loses it after this."""
    return settings.timeout_seconds * 4 + 10


def retry_delay(settings: WebhookSettings, failed_attempts: int) -> float:
    """Exponential back-off with up to 10 % jitter, so receivers coming back are not hit
    by every delivery at once."""
    delay = settings.retry_base_seconds * 2 ** min(failed_attempts - 1, 40)
    return min(delay, settings.retry_max_seconds) * random.uniform(1.0, 1.1)


def record(
    engine: Engine,
    claimed: Claimed,
    answer: Answer,
    *,
    now: float,
    settings: WebhookSettings,
    retry: bool = True,
) -> str:
    """The attempt and what follows it, in one transaction; the delivery's new status."""
    if answer.delivered:
        status, next_attempt = DELIVERED, None
    else:
        next_attempt = now + retry_delay(settings, claimed.attempt)
        give_up_at = claimed.created_at + settings.retry_for_hours * 3600
        status = PENDING if retry and next_attempt <= give_up_at else FAILED
    with engine.begin() as connection:
        connection.execute(
            webhook_attempts.insert().values(
                delivery_id=claimed.id,
                number=claimed.attempt,
                at=now,
                status_code=answer.status_code,
                error=answer.error,
                response=answer.response,
                duration_ms=answer.duration_ms,
            )
        )
        connection.execute(
            webhook_deliveries.update()
            .where(webhook_deliveries.c.id == claimed.id)
            .values(
                status=status,
                attempts=claimed.attempt,
                next_attempt_at=next_attempt if status == PENDING else None,
                lease_expires_at=None,
                last_status_code=answer.status_code,
                last_error=answer.error,
                finished_at=None if status == PENDING else now,
            )
        )
    return status


def abandon(engine: Engine, claimed: Claimed, *, now: float, reason: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            webhook_deliveries.update()
            .where(webhook_deliveries.c.id == claimed.id)
            .values(
                status=FAILED,
                next_attempt_at=None,
                lease_expires_at=None,
                last_error=reason,
                finished_at=now,
            )
        )


def log(
    engine: Engine, endpoint_id: str, *, after: str | None, limit: int
) -> tuple[list[dict], bool]:
    """An endpoint's deliveries, newest first, each with its attempts and their answers."""
    query = (
        sa.select(webhook_deliveries, webhook_events.c.type, webhook_events.c.video_id)
        .join(webhook_events, webhook_events.c.id == webhook_deliveries.c.event_id)
        .where(webhook_deliveries.c.endpoint_id == endpoint_id)
    )
    with engine.connect() as connection:
        if after is not None:
            anchor = connection.execute(
                sa.select(webhook_deliveries.c.seq).where(webhook_deliveries.c.id == after)
            ).scalar()
            if anchor is not None:
                query = query.where(webhook_deliveries.c.seq < anchor)
        rows = connection.execute(
            query.order_by(webhook_deliveries.c.seq.desc()).limit(limit + 1)
        ).all()
        page = rows[:limit]
        attempts: dict[str, list[dict]] = {row.id: [] for row in page}
        if page:
            for attempt in connection.execute(
                sa.select(webhook_attempts)
                .where(webhook_attempts.c.delivery_id.in_(list(attempts)))
                .order_by(webhook_attempts.c.delivery_id, webhook_attempts.c.number)
            ):
                attempts[attempt.delivery_id].append(
                    {
                        "number": attempt.number,
                        "at": int(attempt.at),
                        "status_code": attempt.status_code,
                        "error": attempt.error,
                        "response": attempt.response,
                        "duration_ms": attempt.duration_ms,
                    }
                )
    return [_delivery_view(row, attempts[row.id]) for row in page], len(rows) > limit


def _delivery_view(row, attempts: list[dict]) -> dict:
    return {
        "id": row.id,
        "object": "webhook_endpoint.delivery",
        "event_id": row.event_id,
        "event_type": row.type,
        "video_id": row.video_id,
        "test": bool(row.test),
        "status": row.status,
        "attempts": attempts,
        "next_attempt_at": int(row.next_attempt_at) if row.next_attempt_at else None,
        "last_status_code": row.last_status_code,
        "last_error": row.last_error,
        "created_at": int(row.created_at),
        "finished_at": int(row.finished_at) if row.finished_at else None,
    }
