"""/v1/admin: for roles with the administer permission. Every action is audited."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from service import audit
from service.accounts import (
    AccountError,
    User,
    create_user,
    disable_user,
    find_user,
    issue_key,
    list_keys,
    list_users,
    revoke_key,
)
from service.api.deps import CurrentActor, CurrentUser, Service
from service.api.errors import APIError
from service.api.protocol import (
    Decision,
    InvitationCreate,
    KeyCreate,
    PriorityUpdate,
    UserCreate,
    Video,
    VideoList,
)
from service.audit import Actor
from service.invitations import (
    InvitationError,
    create_invitation,
    decide,
    list_invitations,
    list_requests,
)


def administrator(user: CurrentUser, service: Service) -> User:
    service.access.require(user, "administer")
    return user


router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[Depends(administrator)])


def _record(
    service, actor: Actor, action: str, target_type: str, target_id: str, **details: Any
) -> None:
    audit.record(
        service.queue.engine,
        action,
        actor,
        target_type=target_type,
        target_id=target_id,
        details=details or None,
    )


def _known(service, *, role: str | None = None, plan: str | None = None) -> None:
    if role is not None and role not in service.settings.roles:
        raise APIError(
            400,
            f"unknown role {role!r}; roles: {', '.join(sorted(service.settings.roles))}",
            param="role",
            code="invalid_value",
        )
    if plan is not None and plan not in service.settings.plans:
        raise APIError(
            400,
            f"unknown plan {plan!r}; plans: {', '.join(sorted(service.settings.plans))}",
            param="plan",
            code="invalid_value",
        )


# ---------------------------------------------------------------- users and keys


@router.get("/users")
def users(service: Service) -> dict:
    return {"object": "list", "data": list_users(service.queue.engine)}


@router.post("/users", status_code=201)
def add_user(body: UserCreate, service: Service, actor: CurrentActor) -> dict:
    plan = body.plan or service.settings.access.default_plan
    _known(service, role=body.role, plan=plan)
    try:
        user = create_user(service.queue.engine, body.name, body.role, plan=plan, email=body.email)
    except AccountError as exc:
        raise APIError(409, str(exc), param="name", code="name_taken") from None
    _record(
        service, actor, "user.created", "user", user.id, name=user.name, role=user.role, plan=plan
    )
    return {
        "id": user.id,
        "name": user.name,
        "role": user.role,
        "plan": user.plan,
        "email": user.email,
    }


@router.post("/users/{name}/disable")
def disable(name: str, service: Service, actor: CurrentActor) -> dict:
    try:
        user = disable_user(service.queue.engine, name)
    except AccountError as exc:
        raise APIError(404, str(exc), param="name", code="not_found") from None
    _record(service, actor, "user.disabled", "user", user.id, name=user.name)
    return {"id": user.id, "name": user.name, "status": "disabled"}


@router.get("/keys")
def keys(service: Service, user: Annotated[str | None, Query()] = None) -> dict:
    return {"object": "list", "data": list_keys(service.queue.engine, user_name=user)}


@router.post("/keys", status_code=201)
def add_key(body: KeyCreate, service: Service, actor: CurrentActor) -> dict:
    owner = find_user(service.queue.engine, body.user)
    if owner is None:
        raise APIError(404, f"No user {body.user!r}.", param="user", code="not_found")
    expires = time.time() + body.expires_in_days * 86400 if body.expires_in_days else None
    issued = issue_key(service.queue.engine, owner, expires_at=expires)
    _record(
        service,
        actor,
        "key.created",
        "api_key",
        issued.key_id,
        prefix=issued.prefix,
        user=owner.name,
    )
    return {
        "object": "api_key",
        "key": issued.key,
        "prefix": issued.prefix,
        "user": owner.name,
        "expires_at": expires,
    }


@router.post("/keys/{key_id}/revoke")
def revoke(key_id: str, service: Service, actor: CurrentActor) -> dict:
    try:
        revoked = revoke_key(service.queue.engine, key_id)
    except AccountError as exc:
        raise APIError(404, str(exc), param="key_id", code="not_found") from None
    _record(service, actor, "key.revoked", "api_key", revoked["id"], prefix=revoked["prefix"])
    return {"id": revoked["id"], "prefix": revoked["prefix"], "status": "revoked"}


# ---------------------------------------------------------------- the way in


@router.get("/access-requests")
def access_requests(service: Service, status: Annotated[str | None, Query()] = None) -> dict:
    rows = list_requests(service.queue.engine, status=status)
    fields = (
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
    return {
        "object": "list",
        "data": [{field: getattr(row, field) for field in fields} for row in rows],
    }


def _decide(
    request_id: str, body: Decision | None, service, actor: Actor, *, approve: bool
) -> dict:
    body = body or Decision()
    plan = body.plan or service.settings.access.default_plan
    _known(service, role=body.role, plan=plan)
    try:
        row, invitation = decide(
            service.queue.engine,
            request_id,
            approve=approve,
            decided_by=actor.id,
            role=body.role,
            plan=plan,
            valid_days=service.settings.access.invitation_days,
        )
    except InvitationError as exc:
        raise APIError(404, str(exc), param="request_id", code="not_found") from None
    if invitation is not None and invitation.role not in service.settings.roles:
        raise APIError(
            400,
            f"requested role {invitation.role!r} no longer exists",
            param="role",
            code="invalid_value",
        )
    _record(
        service, actor, f"access_request.{row.status}", "access_request", row.id,
        email=row.email, invitation=invitation.prefix if invitation else None,
    )  # fmt: skip
    answer: dict = {"id": row.id, "object": "access_request", "status": row.status}
    if invitation is not None:
        answer["invitation"] = _invitation_view(invitation)
    return answer


def _invitation_view(invitation) -> dict:
    return {
        "id": invitation.id,
        "code": invitation.code,  # shown this once; send it to the person invited
        "prefix": invitation.prefix,
        "role": invitation.role,
        "plan": invitation.plan,
        "expires_at": invitation.expires_at,
    }


@router.post("/access-requests/{request_id}/approve")
def approve(
    request_id: str, service: Service, actor: CurrentActor, body: Decision | None = None
) -> dict:
    return _decide(request_id, body, service, actor, approve=True)


@router.post("/access-requests/{request_id}/reject")
def reject(request_id: str, service: Service, actor: CurrentActor) -> dict:
    return _decide(request_id, None, service, actor, approve=False)


@router.get("/invitations")
def invitations(service: Service) -> dict:
    return {"object": "list", "data": list_invitations(service.queue.engine)}


@router.post("/invitations", status_code=201)
def invite(body: InvitationCreate, service: Service, actor: CurrentActor) -> dict:
    """Invite someone directly, without an access request (partner programmes)."""
    plan = body.plan or service.settings.access.default_plan
    _known(service, role=body.role, plan=plan)
    invitation = create_invitation(
        service.queue.engine,
        role=body.role,
        plan=plan,
        email=body.email,
        created_by=actor.id,
        valid_days=service.settings.access.invitation_days,
    )
    _record(
        service,
        actor,
        "invitation.created",
        "invitation",
        invitation.id,
        prefix=invitation.prefix,
        role=body.role,
    )
    return _invitation_view(invitation)


# ---------------------------------------------------------------- every job


@router.get("/videos", response_model=VideoList)
def videos(
    service: Service,
    user: CurrentUser,
    after: str | None = None,
    limit: int = 20,
    order: str = "desc",
    owner: Annotated[str | None, Query(alias="user")] = None,
    status: str | None = None,
) -> VideoList:
    return service.list(user, after=after, limit=limit, order=order, owner=owner, status=status)


@router.post("/videos/{video_id}/cancel", response_model=Video)
def cancel(video_id: str, service: Service, user: CurrentUser, actor: CurrentActor) -> Video:
    return service.video(service.cancel(user, video_id, actor=actor), with_queue=True)


@router.post("/videos/{video_id}/priority", response_model=Video)
def reprioritise(
    video_id: str, body: PriorityUpdate, service: Service, user: CurrentUser, actor: CurrentActor
) -> Video:
    job = service.visible(user, video_id)
    updated = service.queue.set_priority(job.id, body.priority)
    if updated is None:
        raise APIError(
            409,
            f"Video '{video_id}' is {job.status}; only queued videos can be moved.",
            param="video_id",
            code="video_not_queued",
        )
    _record(
        service,
        actor,
        "video.reprioritised",
        "video",
        job.id,
        priority_from=job.priority,
        priority_to=body.priority,
    )
    return service.video(updated, with_queue=True)


# ---------------------------------------------------------------- audit and config


@router.get("/audit")
def audit_log(
    service: Service,
    action: str | None = None,
    actor: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    since: float | None = None,
    until: float | None = None,
    after: int | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict:
    """Newest first; `action` matches a prefix (`video.` is every video event), `actor` a user
    id or name, `since`/`until` Unix times; page with `after` = the last id seen."""
    rows, has_more = audit.entries(
        service.queue.engine,
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
def config(service: Service) -> dict:
    """The effective settings (environment overrides included). Secrets are never in the
    config: it names the variables that hold them."""
    return service.settings.model_dump(mode="json")
