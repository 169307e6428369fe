"""Prometheus metrics, read from the database at each scrape: the queue is shared by every
API replica and worker, so the database is the one place that sees all of it."""

from __future__ import annotations

import sqlalchemy as sa
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine

from service.core.db.schema import videos, workers
from service.jobs.status import COMPLETED, FAILED, QUEUED

JOB_BUCKETS = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600)
STAGE_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800)
STAGES = ("recaption", "denoise", "decode", "encode", "store")


def _histogram(connection, column, buckets, where) -> tuple[list[tuple[str, float]], float]:
    counts = [sa.func.sum(sa.case((column <= bound, 1), else_=0)) for bound in buckets]
    row = connection.execute(
        sa.select(*counts, sa.func.count(column), sa.func.sum(column)).where(
            where, column.is_not(None)
        )
    ).one()
    cumulative = [
        (str(float(bound)), float(value or 0))
        for bound, value in zip(buckets, row[:-2], strict=True)
    ]
    cumulative.append(("+Inf", float(row[-2] or 0)))
    return cumulative, float(row[-1] or 0.0)


class QueueCollector(Collector):
    def __init__(self, engine: Engine, *, live_within_seconds: float) -> None:
        self.engine = engine
        self.live_within_seconds = live_within_seconds

    def collect(self):
        import time

        with self.engine.connect() as connection:
            jobs = GaugeMetricFamily(
                "openreel_jobs", "Videos by status (deleted ones excluded)", labels=["status"]
            )
            for status, count in connection.execute(
                sa.select(videos.c.status, sa.func.count())
                .where(videos.c.deleted_at.is_(None))
                .group_by(videos.c.status)
            ):
                jobs.add_metric([status], count)
            yield jobs

            depth = GaugeMetricFamily(
                "openreel_queue_depth", "Queued videos by model", labels=["model"]
            )
            for model, count in connection.execute(
                sa.select(videos.c.model_name, sa.func.count())
                .where(videos.c.status == QUEUED, videos.c.deleted_at.is_(None))
                .group_by(videos.c.model_name)
            ):
                depth.add_metric([model], count)
            yield depth

            failures = CounterMetricFamily(
                "openreel_job_failures", "Failed videos by error code", labels=["code"]
            )
            for code, count in connection.execute(
                sa.select(videos.c.error_code, sa.func.count())
                .where(videos.c.status == FAILED)
                .group_by(videos.c.error_code)
            ):
                failures.add_metric([code or "unknown"], count)
            yield failures

            completed = videos.c.status == COMPLETED
            buckets, total = _histogram(connection, videos.c.run_seconds, JOB_BUCKETS, completed)
            job_duration = HistogramMetricFamily(
                "openreel_job_duration_seconds", "Run time of completed videos"
            )
            job_duration.add_metric([], buckets, total)
            yield job_duration

            stage_duration = HistogramMetricFamily(
                "openreel_stage_duration_seconds",
                "Time per stage of completed videos",
                labels=["stage"],
            )
            for stage in STAGES:
                column = videos.c[f"{stage}_seconds"]
                buckets, total = _histogram(connection, column, STAGE_BUCKETS, completed)
                stage_duration.add_metric([stage], buckets, total)
            yield stage_duration

            live = connection.execute(
                sa.select(sa.func.count()).where(
                    workers.c.stopped_at.is_(None),
                    workers.c.heartbeat_at >= time.time() - self.live_within_seconds,
                )
            ).scalar_one()
            yield GaugeMetricFamily(
                "openreel_workers_live", "Workers that heart-beat recently", value=live
            )
