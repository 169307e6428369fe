"""The OpenAPI document says what the routes really answer and take."""

from __future__ import annotations

import pytest


@pytest.fixture
def app(app_factory):
    return app_factory(server={"embedded_workers": 0})


@pytest.fixture
def document(app):
    return app.client.get("/openapi.json").json()


def operations(document):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def test_no_route_documents_fastapis_validation_shape(document):
    assert "HTTPValidationError" not in str(document)
    for name, operation in operations(document):
        for status, answer in operation["responses"].items():
            if status.startswith("4"):
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, name


def test_authenticated_routes_declare_the_key_and_its_401(document):
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for name, operation in operations(document):
        if name.split()[1].startswith(("/v1/videos", "/v1/admin", "/v1/usage", "/v1/reports")):
            assert operation.get("security"), name
            assert "401" in operation["responses"], name


def test_bodies_the_routes_read_themselves_are_described(document):
    create = document["paths"]["/v1/videos"]["post"]["requestBody"]["content"]
    assert create["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CreateVideoRequest"
    }
    form = create["multipart/form-data"]["schema"]["properties"]
    assert form["input_reference"]["format"] == "binary" and "prompt" in form
    assert "413" in document["paths"]["/v1/videos"]["post"]["responses"]
    verify = document["paths"]["/v1/verify"]["post"]["requestBody"]["content"]
    assert verify["multipart/form-data"]["schema"]["required"] == ["file"]
    for path in ("/v1/reports", "/v1/access-requests", "/v1/admin/users", "/v1/admin/keys"):
        assert "requestBody" in document["paths"][path]["post"], path


def test_configured_roles_and_models_are_the_values_offered(app, document):
    schemas = document["components"]["schemas"]
    assert schemas["UserCreate"]["properties"]["role"]["enum"] == sorted(app.settings.roles)
    models = schemas["CreateVideoRequest"]["properties"]["model"]["anyOf"][0]["enum"]
    assert app.settings.default_model in models and "sora-2" in models


def test_405_names_every_method_of_the_path(app):
    answer = app.client.request("OPTIONS", "/v1/videos/video_x")
    assert answer.status_code == 405 and answer.headers["allow"] == "DELETE, GET"
    answer = app.client.request("PUT", "/v1/videos/edits")
    assert answer.headers["allow"] == "POST"


def test_routes_documented_as_taking_uploads_are_the_ones_with_the_upload_limit(app, document):
    from service.api.limits import JSON_BODY_BYTES, route_limits

    limit = route_limits(app.settings)
    for name, operation in operations(document):
        method, path = name.split()
        content = operation.get("requestBody", {}).get("content", {})
        takes_files = bool({"multipart/form-data", "application/octet-stream"} & set(content))
        assert (limit(method, path) > JSON_BODY_BYTES) == takes_files, name


def test_not_ready_is_documented_as_the_body_it_is(app, document):
    from service.api.protocol import Readiness

    answer = document["paths"]["/readyz"]["get"]["responses"]["503"]
    assert answer["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Readiness"
    }
    response = app.client.get("/readyz")  # no embedded worker: not ready
    assert response.status_code == 503
    assert Readiness.model_validate(response.json()).status == "not ready"
