"""/v1/provenance/root.pem and /v1/verify: anyone may fetch the root certificate that clips'
C2PA chains end in; roles with the verify permission may ask whether a clip is OpenReel's."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from service.api.deps import ClipVerifier, CurrentActor, CurrentUser
from service.api.errors import APIError
from service.api.openapi import errors, upload_body

router = APIRouter(prefix="/v1", tags=["provenance"])


@router.get("/provenance/root.pem", response_class=Response)
def root_certificate(verifier: ClipVerifier) -> Response:
    """The root certificate of OpenReel's C2PA signatures: the trust anchor to check clips
    against (e.g. c2patool's trust settings)."""
    return Response(
        verifier.provenance.root_pem(),
        media_type="application/x-pem-file",
        headers={"Content-Disposition": 'inline; filename="openreel-root.pem"'},
    )


async def _chunks_of(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(1 << 20):
        yield chunk


async def _write_limited(chunks: AsyncIterator[bytes], target: Path, limit: int) -> int:
    """Write `chunks` to `target`, stopping with 413 as soon as they pass `limit` bytes."""
    written = 0
    with target.open("wb") as out:
        async for chunk in chunks:
            written += len(chunk)
            if written > limit:
                raise APIError(
                    413, f"verify takes files up to {limit} bytes.", code="file_too_large"
                )
            out.write(chunk)
    return written


async def _upload_to_file(request: Request, limit: int, directory: str) -> Path:
    """The uploaded file (multipart field `file`, or the raw body) written to `directory`;
    413 past the size limit, counted as it arrives (whole bodies: api/limits.py)."""
    target = Path(directory) / "clip"
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=5)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise APIError(
                400,
                "Send the clip as a multipart file field named 'file'.",
                param="file",
                code="missing_required_parameter",
            )
        written = await _write_limited(_chunks_of(upload), target, limit)
        await form.close()
    else:
        written = await _write_limited(request.stream(), target, limit)
    if written == 0:
        raise APIError(400, "The uploaded file is empty.", param="file", code="invalid_value")
    return target


@router.post(
    "/verify",
    responses=errors(403),
    openapi_extra=upload_body("file", "The clip (or image) to check, as made or after edits."),
)
async def verify(
    request: Request, verifier: ClipVerifier, user: CurrentUser, actor: CurrentActor
) -> JSONResponse:
    """Did OpenReel make this clip? C2PA, then the invisible watermark, then the hash index.
    The job id is given only to a caller who may see that job."""
    verifier.may_verify(user)  # before the upload is read
    limit = verifier.runtime.settings.verify.max_upload_bytes
    with tempfile.TemporaryDirectory(prefix="openreel-verify-") as scratch:
        path = await _upload_to_file(request, limit, scratch)
        body = await run_in_threadpool(verifier.verify, user, actor, path)
    return JSONResponse(body)
