"""/v1/videos: thin routes over VideoService."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse

from service.api.deps import CurrentActor, CurrentUser, Service, request_fields
from service.api.errors import APIError
from service.api.protocol import CreateVideoRequest, RemixRequest, Video, VideoDeleted, VideoList
from service.api.serving import parse_body
from service.queue import TERMINAL

router = APIRouter(prefix="/v1/videos", tags=["videos"])

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def _video_response(service: Service, video: Video, *, status_code: int = 200) -> JSONResponse:
    headers = {}
    if video.status not in TERMINAL:
        headers["openai-poll-after-ms"] = str(service.settings.api.poll_after_ms)
    return JSONResponse(video.model_dump(mode="json"), status_code=status_code, headers=headers)


@router.post("", response_model=Video)
async def create_video(
    request: Request,
    service: Service,
    user: CurrentUser,
    actor: CurrentActor,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    body = parse_body(CreateVideoRequest, await request_fields(request, service))
    created = service.create(user, body, actor=actor, idempotency_key=idempotency_key)
    return _video_response(service, service.video(created.job, with_queue=True))


@router.get("", response_model=VideoList)
def list_videos(
    service: Service,
    user: CurrentUser,
    after: str | None = None,
    limit: Annotated[int, Query()] = 20,
    order: str = "desc",
    owner: Annotated[str | None, Query(alias="user")] = None,
    status: str | None = None,
) -> VideoList:
    """The caller's videos; administrators see everyone's (filter with ?user= and ?status=)."""
    return service.list(user, after=after, limit=limit, order=order, owner=owner, status=status)


@router.get("/{video_id}", response_model=Video)
def retrieve_video(video_id: str, service: Service, user: CurrentUser) -> JSONResponse:
    return _video_response(service, service.retrieve(user, video_id))


@router.post("/{video_id}/cancel", response_model=Video)
def cancel_video(
    video_id: str, service: Service, user: CurrentUser, actor: CurrentActor
) -> JSONResponse:
    """OpenReel addition: stop a job but keep it (DELETE also removes it)."""
    cancelled = service.cancel(user, video_id, actor=actor)
    return _video_response(service, service.video(cancelled, with_queue=True))


@router.delete("/{video_id}", response_model=VideoDeleted)
def delete_video(
    video_id: str, service: Service, user: CurrentUser, actor: CurrentActor
) -> VideoDeleted:
    service.delete(user, video_id, actor=actor)
    return VideoDeleted(id=video_id)


@router.get("/{video_id}/content")
def download_content(
    video_id: str,
    request: Request,
    service: Service,
    user: CurrentUser,
    actor: CurrentActor,
    variant: str = "video",
) -> Response:
    key, media_type = service.content(user, video_id, variant, actor=actor)
    extension = key.rsplit(".", 1)[-1]
    headers = {"Content-Disposition": f'inline; filename="{video_id}.{extension}"'}
    path = service.storage.local_path(key)
    if path is not None:
        if not path.is_file():
            raise APIError(
                404, f"The content of video '{video_id}' is missing.", code="content_missing"
            )
        return FileResponse(path, media_type=media_type, headers=headers)  # answers Range itself
    return _ranged_stream(service, key, media_type, headers, request.headers.get("range"))


def _ranged_stream(
    service: Service, key: str, media_type: str, headers: dict, range_header: str | None
) -> Response:
    try:
        size = service.storage.size(key)
    except FileNotFoundError:
        raise APIError(404, "The content is missing.", code="content_missing") from None
    headers = {**headers, "Accept-Ranges": "bytes"}
    span = _single_range(range_header, size)
    if span is None:
        headers["Content-Length"] = str(size)
        return StreamingResponse(service.storage.read(key), media_type=media_type, headers=headers)
    if span == "unsatisfiable":
        return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
    start, end = span
    headers.update(
        {"Content-Range": f"bytes {start}-{end}/{size}", "Content-Length": str(end - start + 1)}
    )
    return StreamingResponse(
        service.storage.read(key, start, end),
        status_code=206,
        media_type=media_type,
        headers=headers,
    )


def _single_range(header: str | None, size: int):
    """(start, end) of a single `bytes=` range, "unsatisfiable", or None to send it all
    (no header, or several ranges: a server may answer those with the whole body)."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[len("bytes=") :].strip().partition("-")
    try:
        if first == "":
            length = int(last)
            start, end = max(size - length, 0), size - 1
        else:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
    except ValueError:
        return None
    if start >= size or start > end:
        return "unsatisfiable"
    return start, end


@router.post("/{video_id}/remix", response_model=Video)
async def remix_video(
    video_id: str,
    request: Request,
    service: Service,
    user: CurrentUser,
    actor: CurrentActor,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    body = parse_body(RemixRequest, await request_fields(request, service))
    created = service.remix(user, video_id, body, actor=actor, idempotency_key=idempotency_key)
    return _video_response(service, service.video(created.job, with_queue=True))
