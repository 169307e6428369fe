"""One error envelope for everything: {"error": {"message", "type", "param", "code"}}, as
OpenAI's API and SDK use it, for domain refusals, transport errors, request validation and
unknown routes. Domain error kinds map to HTTP here, in one table, and nowhere else."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from service.api.protocol import ErrorDetail, ErrorResponse
from service.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    Mismatch,
    NotFound,
    QuotaExceeded,
    TooMany,
    Unauthenticated,
)

logger = logging.getLogger(__name__)

STATUS_OF: dict[type[DomainError], int] = {
    InvalidInput: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Mismatch: 422,
    TooMany: 429,
}
"""Domain error kind -> HTTP status (a subclass takes its nearest listed base's)."""

_TYPES = {403: "permission_error", 429: "rate_limit_error"}
"""OpenAI's error type by status; every other 4xx is an invalid_request_error."""


class APIError(Exception):
    """A refusal that only HTTP knows of: the body too large, not JSON, no Content-Length."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.headers = headers or {}


def error_type(status: int) -> str:
    if status >= 500:
        return "server_error"
    return _TYPES.get(status, "invalid_request_error")


def error_response(
    status: int,
    message: str,
    *,
    param: str | None = None,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorResponse(
        error=ErrorDetail(message=message, type=error_type(status), param=param, code=code)
    )
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def too_large_response(message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """413: the rest of the body is never read, so the connection cannot carry another
    request."""
    headers = {**(headers or {}), "Connection": "close"}
    return error_response(413, message, code="request_too_large", headers=headers)


def status_of(exc: DomainError) -> int:
    for kind in type(exc).__mro__:
        if kind in STATUS_OF:
            return STATUS_OF[kind]
    return 400


def headers_of(exc: DomainError) -> dict[str, str]:
    headers: dict[str, str] = {}
    if isinstance(exc, TooMany):
        headers["Retry-After"] = str(max(1, int(exc.retry_after)))
    if isinstance(exc, QuotaExceeded):
        moment = datetime.fromtimestamp(exc.resets_at, UTC)
        headers["x-openreel-quota-resets-at"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(exc, Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    return headers


def domain_error_response(exc: DomainError) -> JSONResponse:
    return error_response(
        status_of(exc), exc.message, param=exc.param, code=exc.code, headers=headers_of(exc)
    )


def validation_param(location: tuple) -> str | None:
    """The parameter a pydantic error location names (without body/query/path prefixes)."""
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or None


def _leaf_routes(routes) -> Iterator:
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _leaf_routes(included.routes)
        else:
            yield route


def allowed_methods(request: Request) -> list[str]:
    """The methods served on the request's path: those of the routes with the path
    template that matches first (/v1/videos/edits, not also /v1/videos/{video_id})."""
    methods: set[str] = set()
    template = None
    for route in _leaf_routes(request.app.router.routes):
        match, _ = route.matches(request.scope)
        if match is Match.NONE or template not in (None, route.path):
            continue
        template = route.path
        methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
        return domain_error_response(exc)

    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError) -> JSONResponse:
        return error_response(
            exc.status, exc.message, param=exc.param, code=exc.code, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        param = validation_param(tuple(first["loc"]))
        message = first["msg"].removeprefix("Value error, ")
        return error_response(
            400,
            f"Invalid {param}: {message}" if param else message,
            param=param,
            code="invalid_value",
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "Request failed."
        code = None
        if exc.status_code == 404 and message == "Not Found":
            message = f"No route {request.method} {request.url.path}."
            code = "not_found"
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            message = f"{request.method} is not served on {request.url.path}."
            code = "method_not_allowed"
            # Starlette names the methods of the first route of the path only.
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
        if exc.status_code == 413:
            return too_large_response(message, headers)
        return error_response(exc.status_code, message, code=code, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "The server had an error while processing your request.")
