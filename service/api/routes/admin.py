"""/v1/admin: for roles with the administer permission. Every action is audited (by the
domain's Administration and VideoService)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from service.api import views
from service.api.bodies import json_body
from service.api.deps import Admin, CurrentActor, CurrentUser, RuntimeDep, Videos
from service.api.openapi import errors, request_body
from service.api.protocol import (
    Decision,
    InvitationCreate,
    KeyCreate,
    PriorityUpdate,
    UserCreate,
    Video,
    VideoList,
)
from service.api.routes import videos as video_routes
from service.domain import audit
from service.domain.accounts import User
from service.domain.invitations import IssuedInvitation


def administrator(user: CurrentUser, videos: Videos) -> User:
    videos.policy.require(user, "administer")
    return user


router = APIRouter(
    prefix="/v1/admin",
    tags=["admin"],
    dependencies=[Depends(administrator)],
    responses=errors(403),
)

ACCESS_REQUEST_FIELDS = (
    "id",
    "name",
    "email",
    "wanted_role",
    "motivation",
    "status",
    "created_at",
    "decided_at",
    "client_address",
)


def _invitation_view(invitation: IssuedInvitation) -> dict:
    return {
        "id": invitation.id,
        "code": invitation.code,  # shown this once; send it to the person invited
        "prefix": invitation.prefix,
        "role": invitation.role,
        "plan": invitation.plan,
        "expires_at": invitation.expires_at,
    }


# ---------------------------------------------------------------- users and keys


@router.get("/users")
def users(admin: Admin) -> dict:
    return {"object": "list", "data": admin.list_users()}


@router.post(
    "/users", status_code=201, responses=errors(409), openapi_extra=request_body(UserCreate)
)
def add_user(admin: Admin, actor: CurrentActor, body: UserCreate = json_body(UserCreate)) -> dict:
    user = admin.add_user(actor, body.name, body.role, plan=body.plan, email=body.email)
    return {
        "id": user.id,
        "name": user.name,
        "role": user.role,
        "plan": user.plan,
        "email": user.email,
    }


@router.post("/users/{name}/disable", responses=errors(404))
def disable(name: str, admin: Admin, actor: CurrentActor) -> dict:
    """Disabling a disabled user is no error: it answers the same."""
    user, _ = admin.disable_user(actor, name)
    return {"id": user.id, "name": user.name, "status": "disabled"}


@router.get("/keys", responses=errors(404))
def keys(admin: Admin, user: Annotated[str | None, Query()] = None) -> dict:
    return {"object": "list", "data": admin.list_keys(user_name=user)}


@router.post("/keys", status_code=201, responses=errors(404), openapi_extra=request_body(KeyCreate))
def add_key(admin: Admin, actor: CurrentActor, body: KeyCreate = json_body(KeyCreate)) -> dict:
    issued = admin.issue_key(actor, body.user, expires_in_days=body.expires_in_days)
    return {
        "object": "api_key",
        "key": issued.key,
        "prefix": issued.prefix,
        "user": issued.user.name,
        "expires_at": issued.expires_at,
    }


@router.post("/keys/{key_id}/revoke", responses=errors(404))
def revoke(key_id: str, admin: Admin, actor: CurrentActor) -> dict:
    """Revoking a revoked key is no error: it answers the same."""
    revoked, _ = admin.revoke_key(actor, key_id)
    return {"id": revoked["id"], "prefix": revoked["prefix"], "status": "revoked"}


# ---------------------------------------------------------------- the way in


@router.get("/access-requests")
def access_requests(
    admin: Admin, status: Literal["pending", "approved", "rejected"] | None = None
) -> dict:
    rows = admin.list_requests(status=status)
    return {
        "object": "list",
        "data": [{field: getattr(row, field) for field in ACCESS_REQUEST_FIELDS} for row in rows],
    }


def _decided(row, invitation: IssuedInvitation | None) -> dict:
    answer: dict = {"id": row.id, "object": "access_request", "status": row.status}
    if invitation is not None:
        answer["invitation"] = _invitation_view(invitation)
    return answer


@router.post(
    "/access-requests/{request_id}/approve",
    responses=errors(404, 409),
    openapi_extra=request_body(Decision, required=False),
)
def approve(
    request_id: str, admin: Admin, actor: CurrentActor, body: Decision = json_body(Decision)
) -> dict:
    return _decided(*admin.decide(actor, request_id, approve=True, role=body.role, plan=body.plan))


@router.post("/access-requests/{request_id}/reject", responses=errors(404, 409))
def reject(request_id: str, admin: Admin, actor: CurrentActor) -> dict:
    return _decided(*admin.decide(actor, request_id, approve=False))


@router.get("/invitations")
def invitations(admin: Admin) -> dict:
    return {"object": "list", "data": admin.list_invitations()}


@router.post("/invitations", status_code=201, openapi_extra=request_body(InvitationCreate))
def invite(
    admin: Admin, actor: CurrentActor, body: InvitationCreate = json_body(InvitationCreate)
) -> dict:
    """Invite someone directly, without an access request (partner programmes)."""
    return _invitation_view(admin.invite(actor, body.role, plan=body.plan, email=body.email))


# ---------------------------------------------------------------- every job


# Every job, filterable by owner and status: /v1/videos as administrators see it.
router.add_api_route(
    "/videos",
    video_routes.list_videos,
    methods=["GET"],
    response_model=VideoList,
    responses=errors(404),
)


@router.post("/videos/{video_id}/cancel", response_model=Video, responses=errors(404, 409))
def cancel(video_id: str, videos: Videos, user: CurrentUser, actor: CurrentActor) -> Video:
    return views.video(videos.track(videos.cancel(user, video_id, actor=actor)))


@router.post(
    "/videos/{video_id}/priority",
    response_model=Video,
    responses=errors(404, 409),
    openapi_extra=request_body(PriorityUpdate),
)
def reprioritise(
    video_id: str,
    videos: Videos,
    user: CurrentUser,
    actor: CurrentActor,
    body: PriorityUpdate = json_body(PriorityUpdate),
) -> Video:
    return views.video(
        videos.track(videos.reprioritise(user, video_id, body.priority, actor=actor))
    )


# ---------------------------------------------------------------- audit and config


@router.get("/audit")
def audit_log(
    runtime: RuntimeDep,
    action: str | None = None,
    actor: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    since: Annotated[float | None, Query(allow_inf_nan=False)] = None,
    until: Annotated[float | None, Query(allow_inf_nan=False)] = None,
    after: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict:
    """Newest first; `action` matches a prefix (`video.` is every video event), `actor` a user
    id or name, `since`/`until` Unix times; page with `after` = the last id seen."""
    rows, has_more = audit.entries(
        runtime.engine,
        action=action,
        actor=actor,
        target_type=target_type,
        target_id=target_id,
        since=since,
        until=until,
        after=after,
        limit=limit,
    )
    data = [audit.as_dict(row) for row in rows]
    return {
        "object": "list",
        "data": data,
        "has_more": has_more,
        "last_id": data[-1]["id"] if data else None,
    }


@router.get("/config")
def config(runtime: RuntimeDep) -> dict:
    """The effective settings (environment overrides included), secrets masked: keys, and
    the password of any URL (the database's among them)."""
    return runtime.settings.effective()
