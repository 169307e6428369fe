"""/v1/videos: thin routes over the domain's VideoService. Work that touches the database,
the storage or a moderation endpoint runs in the thread pool (sync routes, or
`run_in_threadpool` after an async body read), never on the event loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from service.api import events, views
from service.api.bodies import read_body
from service.api.deps import CurrentActor, CurrentUser, Videos
from service.api.errors import APIError
from service.api.openapi import errors, request_body
from service.api.protocol import (
    CreateVideoRequest,
    EditRequest,
    ExtensionRequest,
    RemixRequest,
    Variant,
    Video,
    VideoDeleted,
    VideoList,
    VideoStatus,
)
from service.api.ranges import single_range
from service.api.uploads import image_input, video_input
from service.domain.errors import NotFound
from service.domain.videos import Created, Tracked, VideoRequest

router = APIRouter(prefix="/v1/videos", tags=["videos"])

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def _answer(videos: Videos, tracked: Tracked) -> JSONResponse:
    return views.video_response(tracked, poll_after_ms=videos.settings.api.poll_after_ms)


@router.post(
    "",
    response_model=Video,
    responses=errors(403, 404, 409, 422, 429),
    openapi_extra=request_body(
        CreateVideoRequest, uploads={"input_reference": "An image to start from (PNG, JPEG, WebP)."}
    ),
)
async def create_video(
    request: Request,
    videos: Videos,
    user: CurrentUser,
    actor: CurrentActor,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    body = await read_body(request, CreateVideoRequest)
    fields = dict(body)
    image = await image_input(fields.pop("input_reference"), videos.settings.api)
    return await _queued(
        videos,
        lambda: videos.create(
            user, VideoRequest(**fields, image=image), actor=actor, idempotency_key=idempotency_key
        ),
    )


@router.post(
    "/extensions",
    response_model=Video,
    responses=errors(403, 404, 409, 422, 429),
    openapi_extra=request_body(ExtensionRequest, uploads={"video": "The clip to continue (MP4)."}),
)
async def extend_video(
    request: Request,
    videos: Videos,
    user: CurrentUser,
    actor: CurrentActor,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """A new video: the source's frames, then `seconds` more; its seconds are the total."""
    start = await _from_video(request, videos, ExtensionRequest, "extend")
    return await _queued(
        videos, lambda: videos.create(user, start, actor=actor, idempotency_key=idempotency_key)
    )


@router.post(
    "/edits",
    response_model=Video,
    responses=errors(403, 404, 409, 422, 429),
    openapi_extra=request_body(EditRequest, uploads={"video": "The clip to edit (MP4)."}),
)
async def edit_video(
    request: Request,
    videos: Videos,
    user: CurrentUser,
    actor: CurrentActor,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """A new video: the source transformed by the prompt (video to video)."""
    start = await _from_video(request, videos, EditRequest, "edit")
    return await _queued(
        videos, lambda: videos.create(user, start, actor=actor, idempotency_key=idempotency_key)
    )


async def _from_video(request: Request, videos: Videos, body_model, mode: str) -> VideoRequest:
    """The request of an extension or an edit: its fields, and its video as an upload or
    the id of one of the caller's videos."""
    body = await read_body(request, body_model)
    fields = dict(body)
    upload, video_id = await video_input(fields.pop("video"), videos.settings.api)
    return VideoRequest(**fields, mode=mode, video=upload, video_id=video_id)


# Not in the OpenAPI document: they exist so that the SDK's characters calls get a clear
# "unsupported" instead of a 404 that reads like a missing video.
@router.api_route("/characters", methods=["GET", "POST"], include_in_schema=False)
@router.api_route("/characters/{character_id}", methods=["GET", "DELETE"], include_in_schema=False)
def characters(user: CurrentUser) -> None:
    """OpenAI's characters (a person or object reused across videos): not served."""
    raise APIError(
        400,
        "Characters are not supported by OpenReel; describe the character in the prompt, or "
        "start from an image of it (input_reference).",
        code="unsupported",
    )


async def _queued(videos: Videos, create: Callable[[], Created]) -> JSONResponse:
    """Run `create` (database writes, moderation, perhaps an HTTP moderation endpoint) in
    the thread pool, off the event loop, and answer with the video it queued."""
    tracked = await run_in_threadpool(lambda: videos.track(create().job))
    return _answer(videos, tracked)


@router.get("", response_model=VideoList, responses=errors(403, 404))
def list_videos(
    videos: Videos,
    user: CurrentUser,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1)] = 20,  # the most: api.list_limit_max (in the document)
    order: Literal["asc", "desc"] = "desc",
    owner: Annotated[str | None, Query(alias="user")] = None,
    status: VideoStatus | None = None,
) -> VideoList:
    """The caller's videos; administrators see everyone's (filter with ?user= and ?status=)."""
    page, has_more = videos.list(
        user, after=after, limit=limit, order=order, owner=owner, status=status
    )
    return views.video_list(page, has_more)


@router.get("/{video_id}", response_model=Video, responses=errors(404))
def retrieve_video(video_id: str, videos: Videos, user: CurrentUser) -> JSONResponse:
    return _answer(videos, videos.retrieve(user, video_id))


@router.get(
    "/{video_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Server-Sent Events: `progress` events with the Video object "
            "whenever status, progress, queue position, ETA or window change, then one "
            "`completed` or `failed` event, and the stream ends.",
            # One event (Schemathesis and OpenAPI 3.1 read the schema of text/event-stream so)
            "content": {
                "text/event-stream": {
                    "schema": {
                        "type": "object",
                        "required": ["event", "data"],
                        "properties": {
                            "event": {
                                "type": "string",
                                "enum": ["progress", "completed", "failed", "error"],
                            },
                            "data": {
                                "type": "string",
                                "contentMediaType": "application/json",
                                "description": "The Video object (an error object for error).",
                            },
                            "id": {"type": "string"},
                            "retry": {"type": "integer"},
                        },
                    }
                }
            },
        },
        **errors(404, 429),
    },
)
async def video_events(
    video_id: str,
    request: Request,
    videos: Videos,
    user: CurrentUser,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=200)] = None,
) -> StreamingResponse:
    """OpenReel addition: live progress of one video, as Server-Sent Events."""
    await run_in_threadpool(videos.retrieve, user, video_id)  # 404 before a stream opens
    slots: events.StreamSlots = request.app.state.event_streams
    slots.take(user.id)

    def read() -> dict | None:
        try:
            return views.video(videos.retrieve(user, video_id)).model_dump(mode="json")
        except NotFound:
            return None  # deleted while watched

    settings = videos.settings.api
    stream = events.video_events(
        read,
        poll_seconds=settings.events_poll_ms / 1000,
        heartbeat_seconds=settings.events_heartbeat_seconds,
        last_event_id=last_event_id,
        disconnected=request.is_disconnected,
        done=lambda: slots.give_back(user.id),
    )
    return StreamingResponse(stream, media_type="text/event-stream", headers=events.HEADERS)


@router.post("/{video_id}/cancel", response_model=Video, responses=errors(404, 409))
def cancel_video(
    video_id: str, videos: Videos, user: CurrentUser, actor: CurrentActor
) -> JSONResponse:
    """OpenReel addition: stop a job but keep it (DELETE also removes it)."""
    return _answer(videos, videos.track(videos.cancel(user, video_id, actor=actor)))


@router.delete("/{video_id}", response_model=VideoDeleted, responses=errors(404))
def delete_video(
    video_id: str, videos: Videos, user: CurrentUser, actor: CurrentActor
) -> VideoDeleted:
    videos.delete(user, video_id, actor=actor)
    return VideoDeleted(id=video_id)


@router.get(
    "/{video_id}/content",
    responses={
        200: {
            "description": "The file (MP4, WebP or JPEG by variant); Range requests answer 206.",
            "content": {"video/mp4": {}, "image/webp": {}, "image/jpeg": {}},
        },
        206: {"description": "The requested range of the file."},
        **errors(403, 404, 409, 416),
    },
)
def download_content(
    video_id: str,
    request: Request,
    videos: Videos,
    user: CurrentUser,
    actor: CurrentActor,
    variant: Variant = "video",
) -> Response:
    key, media_type = videos.content(user, video_id, variant, actor=actor)
    extension = key.rsplit(".", 1)[-1]
    headers = {"Content-Disposition": f'inline; filename="{video_id}.{extension}"'}
    path = videos.storage.local_path(key)
    if path is not None:
        if not path.is_file():
            raise APIError(
                404, f"The content of video '{video_id}' is missing.", code="content_missing"
            )
        return FileResponse(path, media_type=media_type, headers=headers)  # answers Range itself
    return _ranged_stream(videos, key, media_type, headers, request.headers.get("range"))


def _ranged_stream(
    videos: Videos, key: str, media_type: str, headers: dict, range_header: str | None
) -> Response:
    storage = videos.storage
    try:
        size = storage.size(key)
    except FileNotFoundError:
        raise APIError(404, "The content is missing.", code="content_missing") from None
    headers = {**headers, "Accept-Ranges": "bytes"}
    span = single_range(range_header, size)
    if span is None:
        headers["Content-Length"] = str(size)
        return StreamingResponse(storage.read(key), media_type=media_type, headers=headers)
    if span == "unsatisfiable":
        return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
    start, end = span
    headers.update(
        {"Content-Range": f"bytes {start}-{end}/{size}", "Content-Length": str(end - start + 1)}
    )
    return StreamingResponse(
        storage.read(key, start, end), status_code=206, media_type=media_type, headers=headers
    )


@router.post(
    "/{video_id}/remix",
    response_model=Video,
    responses=errors(403, 404, 409, 422, 429),
    openapi_extra=request_body(RemixRequest),
)
async def remix_video(
    video_id: str,
    request: Request,
    videos: Videos,
    user: CurrentUser,
    actor: CurrentActor,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    body = await read_body(request, RemixRequest)
    return await _queued(
        videos,
        lambda: videos.remix(
            user, video_id, body.prompt, actor=actor, idempotency_key=idempotency_key
        ),
    )
