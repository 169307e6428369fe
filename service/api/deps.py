"""Dependencies of the routes: the serving object from app state, and the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service import audit
from service.accounts import User, authenticate
from service.api.errors import APIError
from service.api.serving import VideoService
from service.audit import Actor


async def get_service(request: Request) -> VideoService:
    # async: a sync dependency would cost a trip through the thread pool on every request.
    return request.app.state.videos


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def current_user(request: Request, service: Annotated[VideoService, Depends(get_service)]) -> User:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise APIError(
            401,
            "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'.",
            code="missing_api_key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    user = authenticate(service.queue.engine, key.strip())
    if user is None:
        presented = key.strip()
        audit.record(
            service.queue.engine,
            "auth.failed",
            Actor(id=None, name=audit.ANONYMOUS, address=client_address(request)),
            details={
                # the key's visible id, if it has one; the secret part never
                "key_prefix": "_".join(presented.split("_")[:2])[:40]
                if presented.startswith("ork_")
                else None,
                "path": request.url.path,
            },
        )
        raise APIError(
            401,
            "Incorrect API key provided.",
            code="invalid_api_key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


def current_actor(request: Request, user: Annotated[User, Depends(current_user)]) -> Actor:
    """The caller as the audit log records them."""
    return Actor(id=user.id, name=user.name, role=user.role, address=client_address(request))


async def request_fields(request: Request, service: VideoService) -> dict:
    """JSON, multipart or urlencoded form fields as one dict (the SDK sends multipart)."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > service.settings.api.max_request_bytes:
        raise APIError(
            413,
            f"Request body over {service.settings.api.max_request_bytes} bytes.",
            code="request_too_large",
        )
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await request.form()
        return {key: value for key, value in form.multi_items()}
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = await request.json()
    except ValueError:
        raise APIError(400, "The body is not valid JSON.", code="invalid_json") from None
    if not isinstance(data, dict):
        raise APIError(400, "The body must be a JSON object.", code="invalid_json")
    return data


Service = Annotated[VideoService, Depends(get_service)]
CurrentUser = Annotated[User, Depends(current_user)]
CurrentActor = Annotated[Actor, Depends(current_actor)]
