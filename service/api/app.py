"""The FastAPI application: routes, the error envelope, and a lifespan that opens the
database and storage and runs the embedded workers and the janitor."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from service.api import admin, onboarding, ops, provenance, reports, usage, videos
from service.api.errors import install_error_handlers
from service.api.serving import VideoService
from service.janitor import run_janitor
from service.jobs import JobRunner, PipelineRunner
from service.metrics import QueueCollector
from service.provenance import Provenance
from service.runtime import Runtime
from service.settings import Settings
from service.worker import Worker

logger = logging.getLogger(__name__)

RunnerFactory = Callable[[Runtime], JobRunner]


def create_app(settings: Settings, *, runner_factory: RunnerFactory | None = None) -> FastAPI:
    """The app for `settings`. `runner_factory` makes each embedded worker's runner (the
    diffusers pipeline by default; tests pass a fast stand-in)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        runtime = Runtime.open(settings)
        # Before serving: the signing identity (made on first start) and the watermark key.
        app.state.provenance = Provenance(settings)
        app.state.provenance.identity()
        wake = threading.Event()
        registry = CollectorRegistry()
        registry.register(
            QueueCollector(
                runtime.engine, live_within_seconds=settings.worker.heartbeat_seconds * 3
            )
        )
        app.state.settings = settings
        app.state.engine = runtime.engine
        app.state.queue = runtime.queue
        app.state.storage = runtime.storage
        app.state.metrics = registry
        app.state.videos = VideoService(
            settings, runtime.queue, runtime.storage, on_enqueue=wake.set
        )

        stop = threading.Event()
        threads = []
        app.state.workers = []
        for number in range(settings.server.embedded_workers):
            worker = Worker(
                queue=runtime.queue,
                runner=(runner_factory or PipelineRunner)(runtime),
                settings=settings.worker,
                models=settings.worker_models(),
                retention_seconds=settings.storage.retention_hours * 3600,
                wake=wake,
            )
            app.state.workers.append(worker)
            threads.append(
                threading.Thread(
                    target=worker.run, args=(stop,), name=f"worker-{number}", daemon=True
                )
            )
        threads.append(
            threading.Thread(
                target=run_janitor,
                args=(runtime.queue, runtime.storage, settings, stop),
                name="janitor",
                daemon=True,
            )
        )
        for thread in threads:
            thread.start()
        try:
            yield
        finally:
            stop.set()
            wake.set()
            for thread in threads:
                # A running job gets its grace period, then goes back to the queue.
                thread.join(timeout=settings.worker.shutdown_grace_seconds + 10)
            runtime.close()

    app = FastAPI(
        title="OpenReel",
        summary="OpenAI-compatible Videos API on open models",
        version="0.1.0",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(videos.router)
    app.include_router(usage.router)
    app.include_router(provenance.router)
    app.include_router(reports.router)
    app.include_router(onboarding.router)
    app.include_router(admin.router)
    app.include_router(ops.router)
    return app
