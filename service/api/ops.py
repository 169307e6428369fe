"""Operations endpoints: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict:
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """The database answers, the storage writes and reads, and a worker is alive."""
    state = request.app.state
    checks: dict[str, str] = {}
    try:
        with state.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}: {exc}"[:300]
    try:
        state.storage.check()
        checks["storage"] = "ok"
    except Exception as exc:
        checks["storage"] = f"error: {type(exc).__name__}: {exc}"[:300]
    try:
        live = state.queue.live_workers(within_seconds=state.settings.worker.heartbeat_seconds * 3)
        checks["workers"] = f"{len(live)} live" if live else "error: no live worker"
    except Exception as exc:
        checks["workers"] = f"error: {type(exc).__name__}"
    ready = all(not value.startswith("error") for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get("/metrics")
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics), media_type=CONTENT_TYPE_LATEST)
