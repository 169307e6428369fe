"""/v1/reports: red-team findings about videos. Filed by roles with the report permission;
seen by their reporter and by operators (administer). Each is in the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from service import audit
from service.accounts import User, find_user_by_id
from service.api.deps import CurrentActor, CurrentUser, Service, request_fields
from service.api.errors import APIError
from service.api.protocol import ReportCreate
from service.api.serving import parse_body
from service.reports import as_dict, create_report, find_report, list_reports

router = APIRouter(prefix="/v1/reports", tags=["reports"])


def _dict(service: Service, row) -> dict:
    reporter = find_user_by_id(service.queue.engine, row.reporter_id)
    return as_dict(row, reporter_name=reporter.name if reporter else None)


@router.post("")
async def file_report(
    request: Request, service: Service, user: CurrentUser, actor: CurrentActor
) -> dict:
    service.access.require(user, "report")
    body = parse_body(ReportCreate, await request_fields(request, service))
    service.visible(user, body.video_id)  # 404 for a video the reporter cannot see
    row = create_report(
        service.queue.engine,
        video_id=body.video_id,
        reporter_id=user.id,
        category=body.category,
        severity=body.severity,
        description=body.description,
    )
    audit.record(
        service.queue.engine,
        "report.created",
        actor,
        target_type="report",
        target_id=row.id,
        details={"video_id": row.video_id, "category": row.category, "severity": row.severity},
    )
    return _dict(service, row)


def _reader(service: Service, user: User) -> bool:
    """True for operators (every report); reporters see their own; others are refused."""
    if service.access.can(user, "administer"):
        return True
    service.access.require(user, "report")
    return False


@router.get("")
def reports(
    service: Service,
    user: CurrentUser,
    video_id: str | None = None,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict:
    everyone = _reader(service, user)
    rows, has_more = list_reports(
        service.queue.engine,
        reporter_id=None if everyone else user.id,
        video_id=video_id,
        after=after,
        limit=limit,
    )
    data = [_dict(service, row) for row in rows]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }


@router.get("/{report_id}")
def report(service: Service, user: CurrentUser, report_id: str) -> dict:
    everyone = _reader(service, user)
    row = find_report(service.queue.engine, report_id)
    if row is None or not (everyone or row.reporter_id == user.id):
        raise APIError(
            404, f"Report with id '{report_id}' not found.", param="report_id", code="not_found"
        )
    return _dict(service, row)
