"""The FastAPI application: routes, the error envelope, and a lifespan that opens the
runtime, builds the domain services and runs the embedded workers and the janitor.

Importing this module imports no torch: the API never renders. Embedded workers load the
diffusers pipeline only when the lifespan starts them.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from prometheus_client import CollectorRegistry

from service.api.errors import install_error_handlers
from service.api.events import StreamSlots
from service.api.limits import BodyLimit, route_limits
from service.api.openapi import install_openapi
from service.api.routes import (
    admin,
    models,
    onboarding,
    ops,
    page,
    provenance,
    reports,
    usage,
    videos,
    webhooks,
)
from service.api.text import unstorable_parameters
from service.core.runtime import Clock, Runtime
from service.core.settings import Settings
from service.domain.admin import Administration
from service.domain.onboarding import Onboarding
from service.domain.reports import Reports
from service.domain.videos import VideoService
from service.domain.webhooks import WebhookEndpoints
from service.jobs.janitor import run_janitor
from service.jobs.metrics import QueueCollector
from service.jobs.runner import JobRunner, PipelineRunner
from service.jobs.worker import Worker
from service.provenance.marks import Provenance
from service.provenance.verification import Verifier
from service.webhooks.loop import run_deliveries

logger = logging.getLogger(__name__)

RunnerFactory = Callable[[Runtime], JobRunner]


def _open_state(app: FastAPI, runtime: Runtime, wake: threading.Event) -> None:
    """The domain services the routes take from app state."""
    settings = runtime.settings
    provenance_ = Provenance(settings)
    provenance_.identity()  # before serving: the signing identity, made on first start
    metrics = CollectorRegistry()
    metrics.register(
        QueueCollector(runtime.engine, live_within_seconds=settings.worker.heartbeat_seconds * 3)
    )
    app.state.runtime = runtime
    app.state.settings = settings
    app.state.engine = runtime.engine
    app.state.metrics = metrics
    app.state.videos = VideoService(runtime, on_enqueue=wake.set)
    app.state.admin = Administration(runtime)
    app.state.onboarding = Onboarding(runtime)
    app.state.event_streams = StreamSlots(settings.api.max_event_streams_per_user)
    app.state.reports = Reports(app.state.videos)
    app.state.verifier = Verifier(runtime, provenance_)
    app.state.webhooks = WebhookEndpoints(runtime, app.state.videos.policy)


def _background(
    app: FastAPI, runtime: Runtime, runner_factory: RunnerFactory, wake, stop
) -> list[threading.Thread]:
    """The embedded workers and the janitor, not yet started."""
    settings = runtime.settings
    threads = []
    app.state.workers = []
    for number in range(settings.server.embedded_workers):
        worker = Worker.for_runtime(runtime, runner_factory(runtime), wake=wake)
        app.state.workers.append(worker)
        threads.append(
            threading.Thread(target=worker.run, args=(stop,), name=f"worker-{number}", daemon=True)
        )
    threads.append(
        threading.Thread(target=run_janitor, args=(runtime, stop), name="janitor", daemon=True)
    )
    if settings.webhooks.enabled:
        threads.append(
            threading.Thread(
                target=run_deliveries, args=(runtime, stop), name="webhooks", daemon=True
            )
        )
    return threads


def create_app(
    settings: Settings,
    *,
    runner_factory: RunnerFactory | None = None,
    clock: Clock = time.time,
    freeze_startup_heap: bool = False,
) -> FastAPI:
    """The app for `settings`. `runner_factory` makes each embedded worker's runner (the
    diffusers pipeline by default; tests pass a fast stand-in); `clock` is the time every
    part of the process reads (tests move it). `freeze_startup_heap` (the server process):
    what start-up made is left out of the garbage collector's passes from then on."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        runtime = Runtime.open(settings, clock=clock)
        wake, stop = threading.Event(), threading.Event()
        _open_state(app, runtime, wake)
        threads = _background(app, runtime, runner_factory or PipelineRunner, wake, stop)
        for thread in threads:
            thread.start()
        if freeze_startup_heap:
            # The imports, the term and word lists and the configs live as long as the
            # process: about 400,000 objects, over which each full collection was a pause
            # of 250 ms in whatever requests were running.
            gc.collect()
            gc.freeze()
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
        description=(
            'Every error is OpenAI\'s envelope, `{"error": {"message", "type", "param", '
            '"code"}}`, with a 4xx naming the parameter at fault. Text (parameters, fields, '
            "file names) may not hold a NUL character or an unpaired surrogate: a 400."
        ),
        version="0.1.0",
        lifespan=lifespan,
        dependencies=[Depends(unstorable_parameters)],
    )
    install_error_handlers(app)
    install_openapi(app, settings)
    app.add_middleware(BodyLimit, limit_for=route_limits(settings))
    for routes in (videos, models, usage, provenance, reports, webhooks, onboarding, admin, ops):
        app.include_router(routes.router)
    app.include_router(page.router)
    app.mount("/static", page.static_files(), name="static")
    return app
