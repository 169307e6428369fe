"""Request bodies: JSON, multipart or urlencoded fields read as one dict, and validated into
a protocol model with OpenAI's error codes for a bad, unknown or missing parameter."""

from __future__ import annotations

from typing import TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from service.api.errors import APIError, validation_param

BodyModel = TypeVar("BodyModel", bound=BaseModel)


async def request_fields(request: Request, max_bytes: int) -> dict:
    """JSON, multipart or urlencoded form fields as one dict (the SDK sends multipart)."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise APIError(413, f"Request body over {max_bytes} bytes.", code="request_too_large")
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await request.form()
        return nested_fields(form.multi_items())
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = await request.json()
    except ValueError:
        raise APIError(400, "The body is not valid JSON.", code="invalid_json") from None
    if not isinstance(data, dict):
        raise APIError(400, "The body must be a JSON object.", code="invalid_json")
    return data


def nested_fields(items) -> dict:
    """Form fields with the bracket names the SDK sends for objects (`video[id]`,
    `input_reference[image_url]`) as nested dicts, as JSON would have them."""
    fields: dict = {}
    for key, value in items:
        name, bracket, rest = key.partition("[")
        if bracket and rest.endswith("]") and name and "[" not in rest:
            inner = fields.setdefault(name, {})
            if isinstance(inner, dict):
                inner[rest[:-1]] = value
                continue
        fields[key] = value
    return fields


def parse_body(model: type[BodyModel], data: dict) -> BodyModel:
    """The body as `model`; a 400 naming the first bad or unknown parameter."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _bad_body(exc) from None


async def read_body(request: Request, model: type[BodyModel], max_bytes: int) -> BodyModel:
    return parse_body(model, await request_fields(request, max_bytes))


def _bad_body(exc: ValidationError) -> APIError:
    first = exc.errors()[0]
    param = validation_param(tuple(first["loc"]))
    if first["type"] == "extra_forbidden":
        return APIError(
            400,
            f"Unrecognized request argument supplied: {param}",
            param=param,
            code="unknown_parameter",
        )
    if first["type"] == "missing":
        return APIError(
            400,
            f"Missing required parameter: '{param}'.",
            param=param,
            code="missing_required_parameter",
        )
    message = first["msg"].removeprefix("Value error, ")
    return APIError(400, f"Invalid '{param}': {message}.", param=param, code="invalid_value")
