"""GET /v1/usage: video-seconds used, quotas left, reset times, cost under the plan."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.accounts import find_user
from service.api.deps import CurrentUser, Service
from service.api.errors import APIError
from service.usage import report

router = APIRouter(prefix="/v1", tags=["usage"])


@router.get("/usage")
def usage(
    service: Service, user: CurrentUser, of: Annotated[str | None, Query(alias="user")] = None
) -> dict:
    """Your own usage; administrators may ask for any user's with ?user=NAME."""
    subject = user
    if of is not None and of != user.name:
        service.access.require(user, "administer")
        subject = find_user(service.queue.engine, of)
        if subject is None:
            raise APIError(404, f"No user {of!r}.", param="user", code="not_found")
    return report(service.queue.engine, service.settings, subject)
