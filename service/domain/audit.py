"""The audit log: who did what, when, from where. Append-only (the database refuses UPDATE
and DELETE on it), and never holding a secret: keys and invitation codes are recorded by
their visible prefix, and anything shaped like a whole one is cut to its prefix."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row

from service.core.db.schema import audit_log

_SECRETS = re.compile(r"\b((?:ork|inv)_[0-9a-f]{16})_[A-Za-z0-9_\-]{8,}")


@dataclass(frozen=True)
class Actor:
    id: str | None
    name: str
    role: str | None = None
    address: str | None = None


SYSTEM = Actor(id=None, name="system")
ANONYMOUS = "anonymous"


def scrub(value: Any) -> Any:
    """`value` with every whole API key or invitation code cut to its prefix."""
    if isinstance(value, str):
        return _SECRETS.sub(r"\1_[redacted]", value)
    if isinstance(value, dict):
        return {key: scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    return value


_INSERT = audit_log.insert()


def entry(
    action: str,
    actor: Actor,
    *,
    target_type: str | None = None,
    target_id: str | None = None,
    details: dict[str, Any] | None = None,
    at: float | None = None,
) -> dict[str, Any]:
    """The columns of an entry, for a caller that writes it in its own statement."""
    return {
        "at": time.time() if at is None else at,
        "action": action,
        "actor_id": actor.id,
        "actor_name": actor.name,
        "actor_role": actor.role,
        "target_type": target_type,
        "target_id": target_id,
        "client_address": actor.address,
        "details": json.dumps(scrub(details), ensure_ascii=False) if details else None,
    }


def record(
    database: Engine | Connection,
    action: str,
    actor: Actor,
    *,
    target_type: str | None = None,
    target_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append an entry: in its own transaction (given an engine), or as part of the
    caller's (given a connection), so that the entry stands or falls with the change."""
    values = entry(action, actor, target_type=target_type, target_id=target_id, details=details)
    if isinstance(database, Connection):
        database.execute(_INSERT, values)
        return
    with database.begin() as connection:
        connection.execute(_INSERT, values)


def entries(
    engine: Engine,
    *,
    action: str | None = None,
    actor: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    since: float | None = None,
    until: float | None = None,
    after: int | None = None,
    limit: int = 100,
) -> tuple[list[Row], bool]:
    """Newest first. `action` matches a prefix ("video." is every video event); `actor` is
    a user id or name; `after` is the `seq` of the last entry of the previous page."""
    query = sa.select(audit_log)
    if action:
        query = query.where(audit_log.c.action.startswith(action))
    if actor:
        query = query.where(sa.or_(audit_log.c.actor_id == actor, audit_log.c.actor_name == actor))
    if target_type:
        query = query.where(audit_log.c.target_type == target_type)
    if target_id:
        query = query.where(audit_log.c.target_id == target_id)
    if since is not None:
        query = query.where(audit_log.c.at >= since)
    if until is not None:
        query = query.where(audit_log.c.at < until)
    if after is not None:
        query = query.where(audit_log.c.seq < after)
    with engine.connect() as connection:
        rows = list(connection.execute(query.order_by(audit_log.c.seq.desc()).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def as_dict(row: Row) -> dict[str, Any]:
    return {
        "id": row.seq,
        "at": row.at,
        "action": row.action,
        "actor": {"id": row.actor_id, "name": row.actor_name, "role": row.actor_role},
        "target": {"type": row.target_type, "id": row.target_id} if row.target_type else None,
        "client_address": row.client_address,
        "details": json.loads(row.details) if row.details else {},
    }
