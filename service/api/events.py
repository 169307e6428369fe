"""Server-Sent Events for one video: `GET /v1/videos/{id}/events`.

The database is the source of truth (a worker on another host writes the job's progress
there), so a stream reads the video every `api.events_poll_ms` and sends an event whenever
what a watcher sees changes: status, progress, queue position, ETA (to the second) or the
window being made. The last event is `completed`, `failed` or `cancelled`, with the Video
object; then the stream ends. Each event's id names the state it shows, so a client that
reconnects with `Last-Event-ID` is not sent that state again. Comment lines keep an idle
stream open through proxies.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

from service.domain.errors import TooMany
from service.jobs.status import TERMINAL

HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class StreamSlots:
    """How many event streams each user holds open in this process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()
        self._lock = threading.Lock()

    def take(self, user_id: str) -> None:
        with self._lock:
            if self._open[user_id] >= self.limit:
                raise TooMany(
                    f"at most {self.limit} event streams may be open at once; close one first",
                    retry_after=5,
                    code="too_many_streams",
                )
            self._open[user_id] += 1

    def give_back(self, user_id: str) -> None:
        with self._lock:
            self._open[user_id] -= 1
            if self._open[user_id] <= 0:
                del self._open[user_id]


def watched(video: dict[str, Any]) -> dict[str, Any]:
    """What a change of makes a new event."""
    eta = video.get("eta_seconds")
    windows = video.get("windows") or {}
    return {
        "status": video["status"],
        "progress": video["progress"],
        "stage": video.get("stage"),
        "queue_position": video.get("queue_position"),
        "eta_seconds": None if eta is None else round(eta),
        "window": windows.get("current"),
        "windows_done": windows.get("done"),
    }


def event_id(video: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(watched(video), sort_keys=True).encode()).hexdigest()
    return f"{video['id']}.{digest[:16]}"


def _event(name: str, video: dict[str, Any]) -> str:
    return f"id: {event_id(video)}\nevent: {name}\ndata: {json.dumps(video)}\n\n"


async def video_events(
    read: Callable[[], dict[str, Any] | None],
    *,
    poll_seconds: float,
    heartbeat_seconds: float,
    last_event_id: str | None,
    disconnected: Callable[[], Any],
    done: Callable[[], None],
) -> AsyncIterator[str]:
    """The stream's text. `read` gives the Video object as JSON, or None once the video is
    gone (it runs in the thread pool); `done` is called once the stream ends, however it
    ends."""
    try:
        sent = last_event_id
        quiet_since = time.monotonic()
        yield "retry: 2000\n\n"
        while True:
            video = await run_in_threadpool(read)
            if video is None:
                error = {"error": {"message": "the video was deleted", "code": "not_found"}}
                yield f"event: error\ndata: {json.dumps(error)}\n\n"
                return
            if video["status"] in TERMINAL:
                yield _event(video["status"], video)
                return
            current = event_id(video)
            if current != sent:
                yield _event("progress", video)
                sent = current
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= heartbeat_seconds:
                yield ": keep-alive\n\n"
                quiet_since = time.monotonic()
            if await disconnected():
                return
            await asyncio.sleep(poll_seconds)
    finally:
        done()
