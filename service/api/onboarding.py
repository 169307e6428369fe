"""The public way in: ask for access, redeem an invitation. No API key needed."""

from __future__ import annotations

from fastapi import APIRouter, Request

from service import audit
from service.accounts import AccountError
from service.api.deps import Service, client_address
from service.api.errors import APIError
from service.api.protocol import AccessRequestCreate, RedeemRequest
from service.audit import Actor
from service.invitations import InvitationError, RateLimited, redeem, submit_request

router = APIRouter(prefix="/v1", tags=["access"])


@router.post("/access-requests", status_code=201)
def request_access(body: AccessRequestCreate, request: Request, service: Service) -> dict:
    """Join the waitlist; an operator decides, and approval sends an invitation code."""
    settings = service.settings
    if body.wanted_role not in settings.roles:
        raise APIError(
            400,
            f"wanted_role must be one of {', '.join(sorted(settings.roles))}",
            param="wanted_role",
            code="invalid_value",
        )
    address = client_address(request)
    try:
        row = submit_request(
            service.queue.engine,
            name=body.name,
            email=body.email,
            wanted_role=body.wanted_role,
            motivation=body.motivation,
            client_address=address,
            per_hour=settings.access.access_requests_per_hour,
        )
    except RateLimited as exc:
        raise APIError(
            429,
            f"Too many access requests: {exc}.",
            code="rate_limited",
            headers={"Retry-After": "3600"},
        ) from None
    except InvitationError as exc:
        raise APIError(400, str(exc), param="email", code="invalid_value") from None
    audit.record(
        service.queue.engine,
        "access_request.submitted",
        Actor(id=None, name=body.email, address=address),
        target_type="access_request",
        target_id=row.id,
        details={"name": body.name, "wanted_role": body.wanted_role},
    )
    return {"id": row.id, "object": "access_request", "status": row.status}


@router.post("/invitations/{code}/redeem", status_code=201)
def redeem_invitation(code: str, body: RedeemRequest, request: Request, service: Service) -> dict:
    """Spend an invitation code: creates the user and returns their API key, once."""
    try:
        user, issued, invitation = redeem(service.queue.engine, code, user_name=body.name)
    except InvitationError as exc:
        raise APIError(404, f"{exc}.", param="code", code="invitation_invalid") from None
    except AccountError as exc:
        raise APIError(
            409, f"{exc}; choose another name.", param="name", code="name_taken"
        ) from None
    actor = Actor(id=user.id, name=user.name, role=user.role, address=client_address(request))
    audit.record(
        service.queue.engine, "invitation.redeemed", actor, target_type="invitation",
        target_id=invitation.id, details={"prefix": invitation.prefix},
    )  # fmt: skip
    audit.record(
        service.queue.engine, "key.created", actor, target_type="api_key",
        target_id=issued.key_id, details={"prefix": issued.prefix, "user": user.name},
    )  # fmt: skip
    return {
        "object": "api_key",
        "key": issued.key,
        "prefix": issued.prefix,
        "user": {"id": user.id, "name": user.name, "role": user.role, "plan": user.plan},
    }
