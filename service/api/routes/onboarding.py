"""The public way in: ask for access, redeem an invitation. No API key needed."""

from __future__ import annotations

from fastapi import APIRouter, Request

from service.api.bodies import json_body
from service.api.deps import Onboard, client_address
from service.api.openapi import errors, request_body
from service.api.protocol import AccessRequestCreate, RedeemRequest

router = APIRouter(prefix="/v1", tags=["access"])


@router.post(
    "/access-requests",
    status_code=201,
    responses=errors(409, 429),
    openapi_extra=request_body(AccessRequestCreate),
)
def request_access(
    request: Request,
    onboarding: Onboard,
    body: AccessRequestCreate = json_body(AccessRequestCreate),
) -> dict:
    """Join the waitlist; an operator decides, and approval sends an invitation code."""
    row = onboarding.request_access(
        name=body.name,
        email=body.email,
        wanted_role=body.wanted_role,
        motivation=body.motivation,
        address=client_address(request),
    )
    return {"id": row.id, "object": "access_request", "status": row.status}


@router.post(
    "/invitations/{code}/redeem",
    status_code=201,
    responses=errors(404, 409, 429),
    openapi_extra=request_body(RedeemRequest),
)
def redeem_invitation(
    code: str,
    request: Request,
    onboarding: Onboard,
    body: RedeemRequest = json_body(RedeemRequest),
) -> dict:
    """Spend an invitation code: creates the user and returns their API key, once."""
    user, issued = onboarding.redeem(code, name=body.name, address=client_address(request))
    return {
        "object": "api_key",
        "key": issued.key,
        "prefix": issued.prefix,
        "user": {"id": user.id, "name": user.name, "role": user.role, "plan": user.plan},
    }
