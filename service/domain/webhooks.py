"""Webhook endpoints as users manage them (OpenAI's /v1/webhook_endpoints): each belongs to
the user who made it and receives the events of that user's videos; administrators may make
endpoints for every user's videos (scope "all") and see every endpoint. The signing secret
is shown once, when made or rotated. Changes are audited."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from service.core.db.schema import webhook_endpoints
from service.core.runtime import Runtime
from service.domain import audit
from service.domain.accounts import User, find_user_by_id
from service.domain.audit import Actor
from service.domain.errors import Forbidden, InvalidInput, NotFound, TooMany
from service.domain.policy import Policy
from service.webhooks import deliveries, signing
from service.webhooks.destinations import AllowedHosts, DestinationRefused, check_url
from service.webhooks.loop import attempt
from service.webhooks.outbox import EVENT_TYPES, write_event
from service.webhooks.sender import Sender

KEEP_OLD_SECRET_SECONDS = 24 * 3600
TEST_VIDEO_ID = "video_webhook_test"


@dataclass(frozen=True)
class TestResult:
    event_type: str
    status_code: int
    delivery_id: str


class WebhookEndpoints:
    def __init__(self, runtime: Runtime, policy: Policy) -> None:
        self.runtime = runtime
        self.engine = runtime.engine
        self.settings = runtime.settings.webhooks
        self.policy = policy

    # ------------------------------------------------------------------ reading

    def view(self, row: Row, *, secret: str | None = None) -> dict[str, Any]:
        owner = find_user_by_id(self.engine, row.user_id)
        shown = {
            "id": row.id,
            "object": "webhook_endpoint",
            "name": row.name,
            "url": row.url,
            "event_types": json.loads(row.event_types),
            "signing_secret_hint": signing.hint(row.secret),
            "created_at": int(row.created_at),
            "updated_at": int(row.updated_at),
            # OpenReel additions
            "scope": row.scope,
            "owner": {"id": row.user_id, "name": owner.name if owner else None},
        }
        if secret is not None:
            shown["signing_secret"] = secret
        return shown

    def _find(self, endpoint_id: str) -> Row | None:
        with self.engine.connect() as connection:
            return connection.execute(
                sa.select(webhook_endpoints).where(
                    webhook_endpoints.c.id == endpoint_id, webhook_endpoints.c.deleted_at.is_(None)
                )
            ).first()

    def get(self, user: User, endpoint_id: str) -> Row:
        row = self._find(endpoint_id)
        if row is None or not (row.user_id == user.id or self._administers(user)):
            raise NotFound(
                f"Webhook endpoint with id '{endpoint_id}' not found.", param="webhook_endpoint_id"
            )
        return row

    def list(self, user: User, *, after: str | None, limit: int) -> tuple[list[Row], bool]:
        """Newest first: the caller's own, or every endpoint for administrators; `after`
        is the last id of the previous page (unknown: from the start, as other lists)."""
        query = sa.select(webhook_endpoints).where(webhook_endpoints.c.deleted_at.is_(None))
        if not self._administers(user):
            query = query.where(webhook_endpoints.c.user_id == user.id)
        anchor = self._find(after) if after is not None else None
        if anchor is not None:
            query = query.where(
                sa.or_(
                    webhook_endpoints.c.created_at < anchor.created_at,
                    sa.and_(
                        webhook_endpoints.c.created_at == anchor.created_at,
                        webhook_endpoints.c.id < anchor.id,
                    ),
                )
            )
        query = query.order_by(
            webhook_endpoints.c.created_at.desc(), webhook_endpoints.c.id.desc()
        ).limit(limit + 1)
        with self.engine.connect() as connection:
            rows = list(connection.execute(query))
        return rows[:limit], len(rows) > limit

    def deliveries(
        self, user: User, endpoint_id: str, *, after: str | None, limit: int
    ) -> tuple[list[dict], bool]:
        self.get(user, endpoint_id)
        return deliveries.log(self.engine, endpoint_id, after=after, limit=limit)

    # ------------------------------------------------------------------ changes

    def create(
        self,
        user: User,
        actor: Actor,
        *,
        name: str,
        url: str,
        event_types: list[str],
        scope: str = "own",
    ) -> tuple[Row, str]:
        """The new endpoint and its signing secret (shown this once)."""
        if scope == "all" and not self._administers(user):
            raise Forbidden(
                "Only roles with the administer permission may make endpoints for every "
                "user's videos (scope 'all').",
                param="scope",
            )
        url = self._checked_url(url)
        types = _checked_event_types(event_types)
        if self._count(user) >= self.settings.max_endpoints_per_user:
            raise TooMany(
                f"You have {self.settings.max_endpoints_per_user} webhook endpoints, the most "
                "allowed (webhooks.max_endpoints_per_user); delete one first.",
                retry_after=0,
                code="too_many_webhook_endpoints",
            )
        now = self.runtime.clock()
        secret = signing.new_secret()
        endpoint_id = f"we_{uuid.uuid4().hex}"
        with self.engine.begin() as connection:
            connection.execute(
                webhook_endpoints.insert().values(
                    id=endpoint_id,
                    user_id=user.id,
                    scope=scope,
                    name=name,
                    url=url,
                    event_types=json.dumps(types),
                    secret=secret,
                    created_at=now,
                    updated_at=now,
                )
            )
            audit.record(
                connection,
                "webhook.created",
                actor,
                target_type="webhook_endpoint",
                target_id=endpoint_id,
                details={"url": url, "event_types": types, "scope": scope},
            )
        return self.get(user, endpoint_id), secret

    def update(
        self,
        user: User,
        actor: Actor,
        endpoint_id: str,
        *,
        name: str | None = None,
        url: str | None = None,
        event_types: list[str] | None = None,
    ) -> Row:
        row = self.get(user, endpoint_id)
        changes: dict[str, Any] = {}
        if name is not None and name != row.name:
            changes["name"] = name
        if url is not None and url != row.url:
            changes["url"] = self._checked_url(url)
        if event_types is not None:
            types = _checked_event_types(event_types)
            if types != json.loads(row.event_types):
                changes["event_types"] = json.dumps(types)
        if not changes:
            return row  # an unchanged update does not advance updated_at
        with self.engine.begin() as connection:
            connection.execute(
                webhook_endpoints.update()
                .where(webhook_endpoints.c.id == row.id)
                .values(**changes, updated_at=self.runtime.clock())
            )
            audit.record(
                connection,
                "webhook.updated",
                actor,
                target_type="webhook_endpoint",
                target_id=row.id,
                details={"changed": sorted(changes), "url": changes.get("url", row.url)},
            )
        return self.get(user, endpoint_id)

    def delete(self, user: User, actor: Actor, endpoint_id: str) -> None:
        """Its pending deliveries are given up when next due; its log stays readable to
        administrators in the database."""
        row = self.get(user, endpoint_id)
        with self.engine.begin() as connection:
            connection.execute(
                webhook_endpoints.update()
                .where(webhook_endpoints.c.id == row.id)
                .values(deleted_at=self.runtime.clock())
            )
            audit.record(
                connection,
                "webhook.deleted",
                actor,
                target_type="webhook_endpoint",
                target_id=row.id,
            )

    def rotate_secret(
        self, user: User, actor: Actor, endpoint_id: str, *, keep_old_for_24_hours: bool
    ) -> tuple[Row, str]:
        row = self.get(user, endpoint_id)
        now = self.runtime.clock()
        secret = signing.new_secret()
        with self.engine.begin() as connection:
            connection.execute(
                webhook_endpoints.update()
                .where(webhook_endpoints.c.id == row.id)
                .values(
                    secret=secret,
                    previous_secret=row.secret if keep_old_for_24_hours else None,
                    previous_secret_until=now + KEEP_OLD_SECRET_SECONDS
                    if keep_old_for_24_hours
                    else None,
                    updated_at=now,
                )
            )
            audit.record(
                connection,
                "webhook.secret_rotated",
                actor,
                target_type="webhook_endpoint",
                target_id=row.id,
                details={"old_secret_kept_hours": 24 if keep_old_for_24_hours else 0},
            )
        return self.get(user, endpoint_id), secret

    def test(self, user: User, endpoint_id: str, *, event_type: str) -> TestResult:
        """Send a sample event now, once (no retries), and say what the receiver answered.
        It is in the endpoint's delivery log, marked as a test."""
        row = self.get(user, endpoint_id)
        (event_type,) = _checked_event_types([event_type], param="event_type")
        with self.engine.begin() as connection:
            _, (delivery_id,) = write_event(
                connection,
                event_type=event_type,
                video_id=TEST_VIDEO_ID,
                user_id=user.id,
                endpoint_ids=[row.id],
                now=self.runtime.clock(),
                test=True,
            )
        claimed = deliveries.claim(
            self.engine,
            delivery_id,
            now=self.runtime.clock(),
            lease_seconds=deliveries.lease_seconds(self.settings),
        )
        sender = Sender.for_settings(self.settings)
        try:
            answer = attempt(self.runtime, sender, claimed, retry=False)
        finally:
            sender.close()
        if answer.status_code is None:
            raise InvalidInput(
                f"The test event could not be delivered to {row.url}: {answer.error}.",
                param="url",
                code="webhook_unreachable",
            )
        return TestResult(event_type, answer.status_code, delivery_id)

    # ------------------------------------------------------------------ helpers

    def _administers(self, user: User) -> bool:
        return self.policy.can(user, "administer")

    def _count(self, user: User) -> int:
        with self.engine.connect() as connection:
            return connection.execute(
                sa.select(sa.func.count())
                .select_from(webhook_endpoints)
                .where(
                    webhook_endpoints.c.user_id == user.id,
                    webhook_endpoints.c.deleted_at.is_(None),
                )
            ).scalar_one()

    def _checked_url(self, url: str) -> str:
        try:
            return check_url(url, AllowedHosts(self.settings.allowed_hosts))
        except DestinationRefused as exc:
            raise InvalidInput(
                f"Invalid 'url': webhooks cannot be sent to {url!r}: {exc}.",
                param="url",
                code="invalid_url",
            ) from None


def _checked_event_types(event_types: list[str], *, param: str = "event_types") -> list[str]:
    unknown = [t for t in event_types if t not in EVENT_TYPES]
    if unknown:
        raise InvalidInput(
            f"Unsupported event types: {', '.join(unknown)}. OpenReel sends "
            f"{', '.join(EVENT_TYPES)}.",
            param=param,
            code="unsupported_event_type",
        )
    if not event_types:
        raise InvalidInput(f"Name at least one event type: {', '.join(EVENT_TYPES)}.", param=param)
    return sorted(set(event_types), key=EVENT_TYPES.index)
