"""Dependencies of the routes: the domain services from app state, and the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from service.core.runtime import Runtime
from service.domain import audit
from service.domain.accounts import User, authenticate
from service.domain.admin import Administration
from service.domain.audit import Actor
from service.domain.errors import InvalidInput, Unauthenticated
from service.domain.onboarding import Onboarding
from service.domain.reports import Reports
from service.domain.videos import VideoService
from service.domain.webhooks import WebhookEndpoints
from service.provenance.verification import Verifier


def from_state(name: str):
    """A dependency giving app.state.<name>, one of the services the lifespan opened."""

    async def dependency(request: Request):
        # async: a sync dependency would cost a trip through the thread pool every request
        return getattr(request.app.state, name)

    dependency.__name__ = f"get_{name}"
    return dependency


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _key_prefix(presented: str) -> str | None:
    """A presented key's visible id, if it has one; the secret part never."""
    if not presented.startswith("ork_"):
        return None
    return "_".join(presented.split("_")[:2])[:40]


API_KEY = HTTPBearer(
    auto_error=False, description="An OpenReel API key: `Authorization: Bearer ork_...`"
)
"""Declares the scheme in the OpenAPI document; `current_user` reads the header itself."""


def current_user(
    request: Request,
    runtime: Annotated[Runtime, Depends(from_state("runtime"))],
    _declared: Annotated[object, Depends(API_KEY)] = None,
) -> User:
    # sync: it reads the database, so FastAPI runs it in the thread pool, off the event loop
    presented_headers = request.headers.getlist("authorization")
    if len(presented_headers) > 1:
        raise InvalidInput(
            f"Send one Authorization header; this request has {len(presented_headers)}.",
            param="Authorization",
            code="invalid_request",
        )
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    presented = key.strip()
    if scheme.lower() != "bearer" or not presented:
        raise Unauthenticated(
            "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'.",
            code="missing_api_key",
        )
    user = authenticate(runtime.engine, presented, now=runtime.clock())
    if user is None:
        audit.record(
            runtime.engine,
            "auth.failed",
            Actor(id=None, name=audit.ANONYMOUS, address=client_address(request)),
            details={"key_prefix": _key_prefix(presented), "path": request.url.path},
        )
        raise Unauthenticated("Incorrect API key provided.")
    return user


def current_actor(request: Request, user: Annotated[User, Depends(current_user)]) -> Actor:
    """The caller as the audit log records them."""
    return Actor(id=user.id, name=user.name, role=user.role, address=client_address(request))


RuntimeDep = Annotated[Runtime, Depends(from_state("runtime"))]
Videos = Annotated[VideoService, Depends(from_state("videos"))]
Admin = Annotated[Administration, Depends(from_state("admin"))]
Onboard = Annotated[Onboarding, Depends(from_state("onboarding"))]
ReportBook = Annotated[Reports, Depends(from_state("reports"))]
ClipVerifier = Annotated[Verifier, Depends(from_state("verifier"))]
WebhookBook = Annotated[WebhookEndpoints, Depends(from_state("webhooks"))]
CurrentUser = Annotated[User, Depends(current_user)]
CurrentActor = Annotated[Actor, Depends(current_actor)]
