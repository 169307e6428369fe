"""Files a request sends, as the domain takes them: input_reference (a multipart file, or an
image URL: a data: URL, or https from a host the operator allows) and the video of an
extension or an edit (a multipart file, or {"id": ...} naming an OpenReel video)."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.datastructures import UploadFile

from service.api.errors import APIError
from service.core.settings import ApiSettings
from service.domain.inputs import Upload

_FETCH_TIMEOUT = 10.0


async def image_input(value: Any, settings: ApiSettings) -> Upload | None:
    """input_reference as an upload; a 400 naming it for anything OpenReel cannot take."""
    param = "input_reference"
    if value is None or value == "":
        return None
    if isinstance(value, UploadFile):
        return Upload(await _read(value, settings, param), param, value.filename)
    if isinstance(value, str):
        value = {"image_url": value}
    if isinstance(value, dict):
        if value.get("file_id"):
            raise APIError(
                400,
                "input_reference[file_id] needs OpenAI's Files API, which OpenReel does not "
                "have; upload the image, or send it as a data: URL in input_reference[image_url].",
                param=param,
                code="unsupported_parameter",
            )
        url = value.get("image_url")
        if isinstance(url, str) and url:
            return Upload(await _from_url(url, settings, param), param)
    raise APIError(
        400,
        'input_reference must be an image file, or {"image_url": "data:image/..."}.',
        param=param,
        code="invalid_value",
    )


async def video_input(value: Any, settings: ApiSettings) -> tuple[Upload | None, str | None]:
    """The video of an extension or an edit: (an upload, None) or (None, a video id)."""
    param = "video"
    if isinstance(value, UploadFile):
        return Upload(await _read(value, settings, param), param, value.filename), None
    if isinstance(value, dict) and isinstance(value.get("id"), str) and value["id"]:
        return None, value["id"]
    if isinstance(value, str) and value.startswith("video_"):
        return None, value
    raise APIError(
        400,
        'video must be a video file, or {"id": "video_..."} naming one of your videos.',
        param=param,
        code="invalid_value",
    )


async def _read(upload: UploadFile, settings: ApiSettings, param: str) -> bytes:
    data = await upload.read(settings.max_request_bytes + 1)
    if len(data) > settings.max_request_bytes:
        raise APIError(
            413, f"{param} is over {settings.max_request_bytes} bytes.", param=param,
            code="request_too_large",
        )  # fmt: skip
    if not data:
        raise APIError(400, f"{param} is an empty file.", param=param, code="invalid_value")
    return data


async def _from_url(url: str, settings: ApiSettings, param: str) -> bytes:
    if url.startswith("data:"):
        header, comma, payload = url.partition(",")
        if not comma or ";base64" not in header:
            raise APIError(
                400, f"{param} must be a base64 data: URL (data:image/png;base64,...).",
                param=param, code="invalid_value",
            )  # fmt: skip
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise APIError(
                400, f"{param} is not valid base64.", param=param, code="invalid_value"
            ) from None
        if len(data) > settings.max_request_bytes:
            raise APIError(413, f"{param} is too large.", param=param, code="request_too_large")
        return data
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.hostname not in settings.input_url_hosts:
        raise APIError(
            400,
            f"{param} URLs from {parts.hostname or url!r} are not fetched here; upload the "
            "image or send a data: URL.",
            param=param,
            code="unsupported_parameter",
        )
    try:
        async with httpx.AsyncClient(timeout=_FETCH_TIMEOUT, follow_redirects=False) as client:
            async with client.stream("GET", url) as response:
                response.raise_for_status()
                data = b""
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) > settings.max_request_bytes:
                        raise APIError(
                            413, f"{param} is too large.", param=param, code="request_too_large"
                        )
    except httpx.HTTPError as exc:
        raise APIError(
            400, f"{param} could not be fetched: {exc}", param=param, code="invalid_value"
        ) from None
    return data
