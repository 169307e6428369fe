"""How long a job will take: the median run time of its model's recent jobs, and from it the
seconds left for a queued or running job."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Engine, Row

from service.core.db.schema import videos
from service.jobs.status import COMPLETED, IN_PROGRESS, QUEUED

CACHE_SECONDS = 5.0
"""Every poll of a queued video asks; the median is read at most this often per model."""


class Eta:
    def __init__(
        self, engine: Engine, *, clock: Callable[[], float] = time.time, recent: int = 20
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.recent = recent
        self._single = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._typical: dict[str, tuple[float, float | None]] = {}

    def typical_run_seconds(self, model_name: str) -> float | None:
        """Median run time of the model's last completed jobs; None before the first."""
        now = time.monotonic()
        cached = self._typical.get(model_name)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        with self._single.connect() as connection:
            durations = list(
                connection.execute(
                    sa.select(videos.c.run_seconds)
                    .where(
                        videos.c.model_name == model_name,
                        videos.c.status == COMPLETED,
                        videos.c.run_seconds.is_not(None),
                    )
                    .order_by(videos.c.seq.desc())
                    .limit(self.recent)
                ).scalars()
            )
        value = statistics.median(durations) if durations else None
        self._typical[model_name] = (now, value)
        return value

    def retry_after(self, model_name: str) -> int:
        """Seconds worth waiting before asking again when the queue is full: one job's run."""
        return max(1, int(self.typical_run_seconds(model_name) or 30))

    def seconds_left(self, job: Row, position: int | None) -> float | None:
        """A queued job: the typical run times of what is ahead and itself. A running job:
        its own pace so far, or the typical run time until its progress says more."""
        if job.status == QUEUED and position is not None:
            typical = self.typical_run_seconds(job.model_name)
            return None if typical is None else round(typical * position, 1)
        if job.status == IN_PROGRESS and job.started_at:
            elapsed = self.clock() - job.started_at
            if job.progress >= 5:
                return round(elapsed * (100 - job.progress) / job.progress, 1)
            typical = self.typical_run_seconds(job.model_name)
            return None if typical is None else round(max(typical - elapsed, 0.0), 1)
        return None
