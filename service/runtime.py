"""What the API, the workers and the CLI share: the settings, the database (migrated), the
queue and the storage, opened once per process."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from service.db.engine import create_engine
from service.db.migrate import upgrade
from service.queue import JobQueue
from service.settings import Settings
from service.storage import Storage, build_storage


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    queue: JobQueue
    storage: Storage

    @classmethod
    def open(cls, settings: Settings, *, migrate: bool = True) -> Runtime:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(settings.database_url, pool_size=settings.database.pool_size)
        if migrate:
            upgrade(engine)
        return cls(
            settings=settings,
            engine=engine,
            queue=JobQueue(engine),
            storage=build_storage(settings),
        )

    def close(self) -> None:
        self.engine.dispose()
