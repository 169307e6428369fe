"""Text no database can store, refused at the door with the same 400 on SQLite and
PostgreSQL: NUL (PostgreSQL's text type has no room for it) and unpaired surrogates (JSON's
"\\ud800" escapes make them; they have no UTF-8 form). Checked in every path and query
parameter and every body field, keys included, before any of it reaches the domain."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile

from service.api.errors import APIError

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _refuse(param: str) -> APIError:
    return APIError(
        400,
        f"Invalid '{param}': it holds a NUL character or an unpaired surrogate, which no "
        "text here can store.",
        param=param,
        code="invalid_value",
    )


def refuse_unstorable(value: Any, param: str = "") -> None:
    """400 naming the first field of `value` (a body's fields) with text that cannot be
    stored; nested fields are named as `input_reference.image_url`, list items `tags.2`."""
    if isinstance(value, str):
        if _UNSTORABLE.search(value):
            raise _refuse(param or "body")
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{param}.{key}" if param else str(key)
            if isinstance(key, str) and _UNSTORABLE.search(key):
                raise _refuse(_UNSTORABLE.sub("?", name))
            refuse_unstorable(item, name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            refuse_unstorable(item, f"{param}.{index}" if param else str(index))
    elif isinstance(value, UploadFile) and value.filename and _UNSTORABLE.search(value.filename):
        raise _refuse(param or "file")


async def unstorable_parameters(request: Request) -> None:
    """An app-wide dependency: every path and query parameter checked."""
    for name, value in request.path_params.items():
        if isinstance(value, str) and _UNSTORABLE.search(value):
            raise _refuse(name)
    for name, value in request.query_params.multi_items():
        if _UNSTORABLE.search(name):
            raise _refuse(_UNSTORABLE.sub("?", name))
        if _UNSTORABLE.search(value):
            raise _refuse(name)
