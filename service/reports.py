"""Red-team reports: a finding about a video (misinformation, deepfake, a moderation bypass
...), seen by operators and by the reporter."""

from __future__ import annotations

import time
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, Row

from service.db.schema import reports


def create_report(
    engine: Engine,
    *,
    video_id: str,
    reporter_id: str,
    category: str,
    severity: str,
    description: str,
) -> Row:
    values = {
        "id": f"rep_{uuid.uuid4().hex}",
        "video_id": video_id,
        "reporter_id": reporter_id,
        "category": category,
        "severity": severity,
        "description": description,
        "created_at": time.time(),
    }
    with engine.begin() as connection:
        connection.execute(reports.insert().values(**values))
        return connection.execute(sa.select(reports).where(reports.c.id == values["id"])).one()


def find_report(engine: Engine, report_id: str) -> Row | None:
    with engine.connect() as connection:
        return connection.execute(sa.select(reports).where(reports.c.id == report_id)).first()


def list_reports(
    engine: Engine,
    *,
    reporter_id: str | None,
    video_id: str | None = None,
    after: str | None = None,
    limit: int = 100,
) -> tuple[list[Row], bool]:
    """Newest first; `reporter_id` None lists everyone's. `after` is the id of the last
    report of the previous page."""
    query = sa.select(reports)
    if reporter_id is not None:
        query = query.where(reports.c.reporter_id == reporter_id)
    if video_id is not None:
        query = query.where(reports.c.video_id == video_id)
    if after is not None:
        anchor = find_report(engine, after)
        if anchor is not None:
            query = query.where(
                sa.or_(
                    reports.c.created_at < anchor.created_at,
                    sa.and_(reports.c.created_at == anchor.created_at, reports.c.id < anchor.id),
                )
            )
    query = query.order_by(reports.c.created_at.desc(), reports.c.id.desc()).limit(limit + 1)
    with engine.connect() as connection:
        rows = list(connection.execute(query))
    return rows[:limit], len(rows) > limit


def as_dict(row: Row, *, reporter_name: str | None = None) -> dict[str, Any]:
    return {
        "id": row.id,
        "object": "report",
        "video_id": row.video_id,
        "reporter": {"id": row.reporter_id, "name": reporter_name},
        "category": row.category,
        "severity": row.severity,
        "description": row.description,
        "created_at": int(row.created_at),
    }
