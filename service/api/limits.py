"""The size limit of every request body, per route, counted as the bytes arrive.

A declared Content-Length over the limit is refused before a byte is read; a body without
one (chunked) is counted chunk by chunk and refused as soon as it passes the limit, so no
route, whoever parses its body (our reader, FastAPI, the multipart parser), ever holds more
than the limit in memory."""

from __future__ import annotations

from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.errors import too_large_response
from service.core.settings import Settings

JSON_BODY_BYTES = 64 * 1024
"""Every route that takes only JSON fields (access requests, admin, reports, remix)."""

MULTIPART_OVERHEAD = 64 * 1024
"""Boundaries and part headers around an uploaded file."""


class BodyTooLarge(HTTPException):
    """Raised from `receive` when the body passes its route's limit; an HTTPException, so
    that every parser lets it through to the error envelope."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is over this route's limit of {limit} bytes.")
        self.limit = limit


def route_limits(settings: Settings) -> Callable[[str, str], int]:
    """(method, path) -> the most bytes that route's body may have."""
    uploads = settings.api.max_request_bytes + MULTIPART_OVERHEAD
    by_route = {
        ("POST", "/v1/videos"): uploads,
        ("POST", "/v1/videos/extensions"): uploads,
        ("POST", "/v1/videos/edits"): uploads,
        ("POST", "/v1/verify"): settings.verify.max_upload_bytes + MULTIPART_OVERHEAD,
    }

    def limit(method: str, path: str) -> int:
        return by_route.get((method, path.rstrip("/") or "/"), JSON_BODY_BYTES)

    return limit


class BodyLimit:
    """ASGI middleware: each request's body bounded by `limit_for(method, path)`."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str, str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["method"], scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            response = too_large_response(
                f"The request body is {declared} bytes; this route takes at most {limit}."
            )
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
