"""Reads of the `videos` table: a job, a user's page of jobs, a queued job's place in line.
The state changes are in `service.jobs.queue`."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row

from service.core.db.schema import video_windows, videos
from service.jobs.status import COMPLETED, FAILED, IN_PROGRESS, QUEUED


def count_queued(connection: Connection) -> int:
    """Jobs waiting for a worker, of every user."""
    return connection.execute(
        sa.select(sa.func.count()).where(videos.c.status == QUEUED)
    ).scalar_one()


def _position_query():
    ahead = videos.alias("ahead")
    position = (
        sa.select(sa.func.count() + 1)
        .where(
            ahead.c.status == QUEUED,
            ahead.c.deleted_at.is_(None),
            ahead.c.model_name == videos.c.model_name,
            sa.or_(
                ahead.c.priority > videos.c.priority,
                sa.and_(ahead.c.priority == videos.c.priority, ahead.c.seq < videos.c.seq),
            ),
        )
        .scalar_subquery()
    )
    return sa.select(
        videos,
        sa.case((videos.c.status == QUEUED, position), else_=None).label("queue_position"),
    ).where(videos.c.id == sa.bindparam("video_id"), videos.c.deleted_at.is_(None))


class JobRecords:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._single = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._find_with_position = _position_query()

    def find(self, video_id: str, *, include_deleted: bool = False) -> Row | None:
        query = sa.select(videos).where(videos.c.id == video_id)
        if not include_deleted:
            query = query.where(videos.c.deleted_at.is_(None))
        with self._single.connect() as connection:
            return connection.execute(query).first()

    def find_by_idempotency_key(self, user_id: str, key: str) -> Row | None:
        with self._single.connect() as connection:
            return connection.execute(
                sa.select(videos).where(
                    videos.c.user_id == user_id, videos.c.idempotency_key == key
                )
            ).first()

    def queued_count(self) -> int:
        with self._single.connect() as connection:
            return count_queued(connection)

    def list_videos(
        self,
        *,
        user_id: str | None,
        after: str | None,
        limit: int,
        order: str,
        status: str | None = None,
    ) -> tuple[list[Row], bool]:
        """A page of videos (of one user, or of everyone when `user_id` is None), newest
        first (`desc`) or oldest first (`asc`), after the video `after`; and whether more
        follow."""
        query = sa.select(videos).where(videos.c.deleted_at.is_(None))
        if user_id is not None:
            query = query.where(videos.c.user_id == user_id)
        if status is not None:
            query = query.where(videos.c.status == status)
        if after is not None:
            cursor = sa.select(videos.c.seq).where(videos.c.id == after).scalar_subquery()
            query = query.where(videos.c.seq < cursor if order == "desc" else videos.c.seq > cursor)
        query = query.order_by(videos.c.seq.desc() if order == "desc" else videos.c.seq.asc())
        with self._single.connect() as connection:
            rows = list(connection.execute(query.limit(limit + 1)))
        return rows[:limit], len(rows) > limit

    def find_with_position(self, video_id: str) -> tuple[Row | None, int | None]:
        """A video and, while it is queued, its place in its model's queue (1 = next), in
        one query: the API answers this on every poll."""
        with self._single.connect() as connection:
            row = connection.execute(self._find_with_position, {"video_id": video_id}).first()
        if row is None:
            return None, None
        return row, row.queue_position

    def queue_position(self, job: Row) -> int | None:
        """1 for the next job its model's workers will take; None unless queued."""
        if job.status != QUEUED:
            return None
        return self.find_with_position(job.id)[1]

    def kept_windows(self, video_id: str) -> list[Row]:
        """The finished windows of a long clip, in order."""
        query = (
            sa.select(video_windows)
            .where(video_windows.c.video_id == video_id)
            .order_by(video_windows.c.index)
        )
        with self._single.connect() as connection:
            return list(connection.execute(query))

    def windows_to_forget(self) -> list[Row]:
        """Kept windows of jobs that have ended (completed, failed, deleted): not needed."""
        ended = sa.select(videos.c.id).where(
            sa.or_(videos.c.status.in_((COMPLETED, FAILED)), videos.c.deleted_at.is_not(None))
        )
        query = sa.select(video_windows).where(video_windows.c.video_id.in_(ended))
        with self._single.connect() as connection:
            return list(connection.execute(query))

    def outputs_to_delete(self, now: float) -> list[Row]:
        """Jobs whose files must go: expired, or deleted by their owner (once finished)."""
        query = sa.select(videos).where(
            videos.c.files_deleted_at.is_(None),
            videos.c.status != IN_PROGRESS,
            sa.or_(
                sa.and_(videos.c.status == COMPLETED, videos.c.expires_at <= now),
                videos.c.deleted_at.is_not(None),
            ),
        )
        with self._single.connect() as connection:
            return list(connection.execute(query))
