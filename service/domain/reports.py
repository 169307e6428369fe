"""Red-team reports: a finding about a video (misinformation, deepfake, a moderation bypass
...), seen by operators and by the reporter."""

from __future__ import annotations

import time
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, Row

from service.core.db.schema import reports
from service.domain import audit
from service.domain.accounts import User, find_user_by_id
from service.domain.audit import Actor
from service.domain.errors import NotFound
from service.domain.videos import VideoService


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


class Reports:
    """Red-team reports as users see them: filed by roles with the report permission about
    videos they can see; read by their reporter, and all of them by administrators."""

    def __init__(self, videos: VideoService) -> None:
        self.videos = videos
        self.engine = videos.engine
        self.policy = videos.policy

    def view(self, row: Row) -> dict[str, Any]:
        reporter = find_user_by_id(self.engine, row.reporter_id)
        return as_dict(row, reporter_name=reporter.name if reporter else None)

    def file(
        self,
        user: User,
        actor: Actor,
        *,
        video_id: str,
        category: str,
        severity: str,
        description: str,
    ) -> Row:
        self.policy.require(user, "report")
        self.videos.visible(user, video_id)  # NotFound for a video the reporter cannot see
        row = create_report(
            self.engine,
            video_id=video_id,
            reporter_id=user.id,
            category=category,
            severity=severity,
            description=description,
        )
        audit.record(
            self.engine,
            "report.created",
            actor,
            target_type="report",
            target_id=row.id,
            details={"video_id": row.video_id, "category": row.category, "severity": row.severity},
        )
        return row

    def _reads_all(self, user: User) -> bool:
        """True for administrators (every report); reporters read their own; others are
        refused."""
        if self.policy.can(user, "administer"):
            return True
        self.policy.require(user, "report")
        return False

    def list(
        self, user: User, *, video_id: str | None, after: str | None, limit: int
    ) -> tuple[list[Row], bool]:
        everyone = self._reads_all(user)
        return list_reports(
            self.engine,
            reporter_id=None if everyone else user.id,
            video_id=video_id,
            after=after,
            limit=limit,
        )

    def get(self, user: User, report_id: str) -> Row:
        everyone = self._reads_all(user)
        row = find_report(self.engine, report_id)
        if row is None or not (everyone or row.reporter_id == user.id):
            raise NotFound(f"Report with id '{report_id}' not found.", param="report_id")
        return row
