"""Request bodies: JSON, multipart or urlencoded fields read as one dict, and validated into
a protocol model with OpenAI's error codes for a bad, unknown or missing parameter."""

from __future__ import annotations

import json
import re
from typing import TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from service.api.errors import APIError, validation_param
from service.api.text import refuse_unstorable

BodyModel = TypeVar("BodyModel", bound=BaseModel)

MAX_JSON_DEPTH = 32
"""No OpenReel body nests more than three levels; deeper is an attack on the parser."""


async def request_fields(request: Request) -> dict:
    """JSON, multipart or urlencoded form fields as one dict (the SDK sends multipart). The
    body's size is bounded before this reads it (api/limits.py)."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await request.form()
        return nested_fields(form.multi_items())
    return parse_json(await request.body())


def parse_json(raw: bytes) -> dict:
    """A JSON object body: {} when empty; 400 for anything else, for nesting deeper than
    MAX_JSON_DEPTH, and for NaN or Infinity (which JSON does not have)."""
    if not raw.strip():
        return {}
    if _nesting_over(raw, MAX_JSON_DEPTH):
        raise APIError(
            400,
            f"The body is not valid JSON, or nests deeper than {MAX_JSON_DEPTH} levels.",
            code="invalid_json",
        )
    try:
        data = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise APIError(400, "The body is not valid JSON.", code="invalid_json") from None
    if not isinstance(data, dict):
        raise APIError(400, "The body must be a JSON object.", code="invalid_json")
    return data


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


_JSON_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"')
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))


def _nesting_over(raw: bytes, depth: int) -> bool:
    """Whether `raw` has brackets nested deeper than `depth` (or unbalanced): strings out,
    then innermost pairs removed `depth` times, at C speed whatever the body's size."""
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    for _ in range(depth):
        if not brackets:
            return False
        brackets = brackets.replace(b"[]", b"").replace(b"{}", b"")
    return bool(brackets)


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
    refuse_unstorable(data)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _bad_body(exc) from None


async def read_body(request: Request, model: type[BodyModel]) -> BodyModel:
    return parse_body(model, await request_fields(request))


def json_body(model: type[BodyModel]):
    """A dependency giving the body as `model`, for routes that take only fields: the same
    reader as every other route, so a sync route can take it as an argument."""

    async def dependency(request: Request) -> BodyModel:
        return await read_body(request, model)

    dependency.__name__ = f"{model.__name__}_body"
    return Depends(dependency)


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
