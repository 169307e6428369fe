"""GET /v1/usage: video-seconds used, quotas left, reset times, cost under the plan."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.api.deps import CurrentUser, Videos
from service.api.openapi import errors
from service.domain.usage import report_for

router = APIRouter(prefix="/v1", tags=["usage"])


@router.get("/usage", responses=errors(403, 404))
def usage(
    videos: Videos, user: CurrentUser, of: Annotated[str | None, Query(alias="user")] = None
) -> dict:
    """Your own usage; administrators may ask for any user's with ?user=NAME."""
    return report_for(videos.engine, videos.policy, user, of=of, now=videos.clock())
