"""/v1/reports: red-team findings about videos. Filed by roles with the report permission;
seen by their reporter and by operators (administer). Each is in the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from service.api import views
from service.api.bodies import read_body
from service.api.deps import CurrentActor, CurrentUser, ReportBook
from service.api.openapi import errors, request_body
from service.api.protocol import ReportCreate

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.post("", responses=errors(403, 404, 429), openapi_extra=request_body(ReportCreate))
async def file_report(
    request: Request, reports: ReportBook, user: CurrentUser, actor: CurrentActor
) -> dict:
    reports.policy.require(user, "report")  # before the body is read
    body = await read_body(request, ReportCreate)

    def file() -> dict:
        row = reports.file(
            user,
            actor,
            video_id=body.video_id,
            category=body.category,
            severity=body.severity,
            description=body.description,
        )
        return reports.view(row)

    return await run_in_threadpool(file)


@router.get("", responses=errors(403))
def list_reports(
    reports: ReportBook,
    user: CurrentUser,
    video_id: str | None = None,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict:
    rows, has_more = reports.list(user, video_id=video_id, after=after, limit=limit)
    return views.page([reports.view(row) for row in rows], has_more)


@router.get("/{report_id}", responses=errors(403, 404))
def report(reports: ReportBook, user: CurrentUser, report_id: str) -> dict:
    return reports.view(reports.get(user, report_id))
