"""Operations endpoints: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from service.api.deps import RuntimeDep
from service.api.protocol import Readiness

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict:
    """The process answers (async: no thread needed, and it shows a free event loop)."""
    return {"status": "ok"}


def _check(what) -> str:
    try:
        return what()
    except Exception as exc:
        return f"error: {type(exc).__name__}: {exc}"[:300]


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready: a check failed."}},
)
def readyz(runtime: RuntimeDep) -> JSONResponse:
    """The database answers, the storage writes and reads, and a worker is alive."""

    def database() -> str:
        with runtime.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        return "ok"

    def storage() -> str:
        runtime.storage.check()
        return "ok"

    def workers() -> str:
        live = runtime.workers.live(within_seconds=runtime.settings.worker.heartbeat_seconds * 3)
        return f"{len(live)} live" if live else "error: no live worker"

    checks = {"database": _check(database), "storage": _check(storage), "workers": _check(workers)}
    ready = all(not value.startswith("error") for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"description": "Prometheus text format.", "content": {"text/plain": {}}}},
)
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics), media_type=CONTENT_TYPE_LATEST)
