"""The OpenAPI document: every route's real answers and every request body.

FastAPI describes what it parses itself. The routes here read their bodies with one reader
of their own (`service.api.bodies`: counted, depth-bounded, JSON or multipart), answer
every error in OpenAI's envelope with a 4xx (never FastAPI's 422 validation shape), and
accept what the configuration allows (its roles and plans). So the document is FastAPI's,
completed here:

- routes declare the statuses only the domain knows of (`errors(404, 429)` in their
  decorator); the ones every route of a kind can answer are added to all of that kind: 400
  to any that takes a parameter, a header or a body, 401 to any behind the API key, 413 to
  any that takes a body (every route's body is bounded);
- routes that read their own body declare it with `request_body(Model, ...)`: JSON, and
  multipart form fields where the route takes uploads;
- fields whose values come from the configuration (role, plan) list those values.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from service.api.protocol import ErrorResponse
from service.core.settings import Settings

ERROR_SCHEMA = "ErrorResponse"
_REF = f"#/components/schemas/{ERROR_SCHEMA}"
_DESCRIPTIONS = {
    400: "The request is malformed or a parameter is invalid (the error names it).",
    401: "No API key, or one that is unknown, revoked or expired.",
    403: "The caller's role does not allow this.",
    404: "No such object, or not the caller's.",
    409: "The request conflicts with the object's state.",
    413: "The body is over this route's limit.",
    416: "The requested range is outside the content.",
    422: "The Idempotency-Key was used before with a different request.",
    429: "Over a limit (pending jobs, quota, rate); Retry-After says when to try again.",
    503: "Not ready: a check failed (see the body).",
}

_BODY_MODELS: dict[str, type[BaseModel]] = {}
"""Models named by `request_body`, added to the document's components."""


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route decorator: these statuses answer the error envelope."""
    return {
        status: {"model": ErrorResponse, "description": _DESCRIPTIONS[status]}
        for status in statuses
    }


def _error_response(status: int) -> dict[str, Any]:
    return {
        "description": _DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": _REF}}},
    }


def request_body(
    model: type[BaseModel], *, uploads: dict[str, str] | None = None, required: bool = True
) -> dict[str, Any]:
    """`openapi_extra=` for a route that reads its own body as `model`: JSON, and with
    `uploads` ({field: description}) also multipart form fields, the uploads as files."""
    _BODY_MODELS[model.__name__] = model
    content: dict[str, Any] = {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
    }
    if uploads:
        content["multipart/form-data"] = {
            "schema": {"x-openreel-form": model.__name__, "uploads": uploads}
        }
    return {"requestBody": {"required": required, "content": content}}


def upload_body(field: str, description: str) -> dict[str, Any]:
    """`openapi_extra=` for a route whose body is one file: a multipart field or raw bytes."""
    binary = {"type": "string", "format": "binary", "description": description}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {"type": "object", "properties": {field: binary}, "required": [field]}
                },
                "application/octet-stream": {"schema": binary},
            },
        }
    }


def install_openapi(app: FastAPI, settings: Settings) -> None:
    """Serve the completed document at /openapi.json (and to /docs), built once."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
            )
            app.openapi_schema = complete(document, settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: dict[str, Any], settings: Settings) -> dict[str, Any]:
    document = copy.deepcopy(document)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas[ERROR_SCHEMA] = ErrorResponse.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    schemas.update(_defs_of(schemas[ERROR_SCHEMA]))
    for model in _BODY_MODELS.values():
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(_defs_of(schema))
        schemas[model.__name__] = schema
    _configured_values(schemas, settings)
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            _complete_operation(operation, schemas)
            if path in ("/v1/videos", "/v1/admin/videos"):
                for parameter in operation.get("parameters", []):
                    if parameter["name"] == "limit":
                        parameter["schema"]["maximum"] = settings.api.list_limit_max
    return document


def _defs_of(schema: dict[str, Any]) -> dict[str, Any]:
    return schema.pop("$defs", {})


def _complete_operation(operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    validation = responses.get("422", {}).get("content", {}).get("application/json", {})
    if "HTTPValidationError" in str(validation):
        del responses["422"]  # FastAPI's: validation errors are 400s in the envelope here
    body = operation.get("requestBody")
    if body is not None:
        form = body["content"].get("multipart/form-data", {}).get("schema", {})
        if "x-openreel-form" in form:
            body["content"]["multipart/form-data"]["schema"] = _form_schema(
                schemas[form["x-openreel-form"]], form["uploads"]
            )
    kinds = []
    if operation.get("parameters") or body is not None or operation.get("security"):
        kinds.append(400)
    if operation.get("security"):
        kinds.append(401)
    if body is not None:
        kinds.append(413)
    for status in kinds:
        responses.setdefault(str(status), _error_response(status))
    for status, answer in responses.items():
        if status.startswith(("4", "5")) and "content" not in answer:
            answer.update(_error_response(int(status)))


def _form_schema(model_schema: dict[str, Any], uploads: dict[str, str]) -> dict[str, Any]:
    """The model's fields as form fields; each upload also as a file."""
    form = copy.deepcopy(model_schema)
    form.pop("title", None)
    for name, field in form["properties"].items():
        # A form field cannot be null: it is left out instead.
        variants = [part for part in field.get("anyOf", []) if part.get("type") != "null"]
        if variants:
            field.pop("default", None)
            field["anyOf"] = variants
        if len(variants) == 1:
            field.update(field.pop("anyOf")[0])
    for field, description in uploads.items():
        binary = {"type": "string", "format": "binary", "description": description}
        form["properties"][field] = binary
    return form


def _configured_values(schemas: dict[str, Any], settings: Settings) -> None:
    """Role, plan and model fields of request bodies accept the configured ones only: list
    them (a response's fields name what was used, and are left alone)."""
    roles, plans = sorted(settings.roles), sorted(settings.plans)
    models = sorted({*settings.served_models(), *settings.api.aliases})
    for schema in (schemas[name] for name in _BODY_MODELS):
        for name, field in schema.get("properties", {}).items():
            values = {"role": roles, "wanted_role": roles, "plan": plans, "model": models}.get(name)
            if values is None:
                continue
            if "anyOf" in field:  # optional: null or one of them
                field["anyOf"] = [
                    {"type": "string", "enum": values} if part.get("type") == "string" else part
                    for part in field["anyOf"]
                ]
            else:
                field["enum"] = values
