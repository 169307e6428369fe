"""Dependencies of the routes: the serving object from app state, and the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.accounts import User, authenticate
from service.api.errors import APIError
from service.api.serving import VideoService


async def get_service(request: Request) -> VideoService:
    # async: a sync dependency would cost a trip through the thread pool on every request.
    return request.app.state.videos


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
        raise APIError(
            401,
            "Incorrect API key provided.",
            code="invalid_api_key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


Service = Annotated[VideoService, Depends(get_service)]
CurrentUser = Annotated[User, Depends(current_user)]
