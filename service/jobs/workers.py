"""The worker registry: which workers run, on which host, rendering what, alive when."""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine, Row

from service.core.db.schema import workers


class WorkerRegistry:
    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock
        self._single = engine.execution_options(isolation_level="AUTOCOMMIT")

    def register(self, worker_id: str, models: Sequence[str]) -> None:
        now = self.clock()
        with self.engine.begin() as connection:
            connection.execute(workers.delete().where(workers.c.id == worker_id))
            connection.execute(
                workers.insert().values(
                    id=worker_id,
                    hostname=socket.gethostname(),
                    pid=os.getpid(),
                    models=json.dumps(list(models)),
                    started_at=now,
                    heartbeat_at=now,
                )
            )

    def alive(self, worker_id: str, current_video_id: str | None = None) -> None:
        with self._single.connect() as connection:
            connection.execute(
                workers.update()
                .where(workers.c.id == worker_id)
                .values(heartbeat_at=self.clock(), current_video_id=current_video_id)
            )

    def stopped(self, worker_id: str) -> None:
        with self._single.connect() as connection:
            connection.execute(
                workers.update()
                .where(workers.c.id == worker_id)
                .values(stopped_at=self.clock(), current_video_id=None)
            )

    def live(self, *, within_seconds: float) -> list[Row]:
        with self._single.connect() as connection:
            return list(
                connection.execute(
                    sa.select(workers).where(
                        workers.c.stopped_at.is_(None),
                        workers.c.heartbeat_at >= self.clock() - within_seconds,
                    )
                )
            )
