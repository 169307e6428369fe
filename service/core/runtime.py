"""What the API, the workers and the CLI share: the settings, the database (migrated), the
queue and its reads, the worker registry, ETAs and the storage, opened once per process."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from service.core.db.engine import create_engine
from service.core.db.migrate import upgrade
from service.core.settings import Settings
from service.core.storage import Storage, build_storage
from service.jobs.eta import Eta
from service.jobs.queue import JobQueue
from service.jobs.records import JobRecords
from service.jobs.workers import WorkerRegistry

Clock = Callable[[], float]
"""Unix time now. One per process, shared by everything the runtime opens, so that tests can
move it without touching `time.time` under running threads."""


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    queue: JobQueue
    records: JobRecords
    workers: WorkerRegistry
    eta: Eta
    storage: Storage
    clock: Clock

    @classmethod
    def open(cls, settings: Settings, *, migrate: bool = True, clock: Clock = time.time) -> Runtime:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(settings.database_url, pool_size=settings.database.pool_size)
        if migrate:
            upgrade(engine)
        return cls(
            settings=settings,
            engine=engine,
            queue=JobQueue(engine, clock=clock),
            records=JobRecords(engine),
            workers=WorkerRegistry(engine, clock=clock),
            eta=Eta(engine, clock=clock),
            storage=build_storage(settings),
            clock=clock,
        )

    def close(self) -> None:
        self.queue.close_connections()  # the calling thread's; worker threads close their own
        self.engine.dispose()
