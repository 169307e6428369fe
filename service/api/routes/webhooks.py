"""/v1/webhook_endpoints, as the openai SDK's `client.webhooks` manages them, and the
delivery log of an endpoint (an OpenReel addition)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.api import views
from service.api.bodies import json_body
from service.api.deps import CurrentActor, CurrentUser, WebhookBook
from service.api.openapi import errors, request_body
from service.api.protocol import (
    WebhookDeliveryList,
    WebhookEndpoint,
    WebhookEndpointCreate,
    WebhookEndpointDeleted,
    WebhookEndpointList,
    WebhookEndpointUpdate,
    WebhookEndpointWithSecret,
    WebhookEventTypeList,
    WebhookSecretRotation,
    WebhookTest,
    WebhookTestResult,
)
from service.webhooks.outbox import EVENT_TYPES

router = APIRouter(prefix="/v1", tags=["webhooks"])

Limit = Annotated[int, Query(ge=1, le=100)]


@router.get("/webhook_event_types", response_model=WebhookEventTypeList)
def event_types(user: CurrentUser) -> dict:
    return {"object": "list", "data": list(EVENT_TYPES)}


@router.post(
    "/webhook_endpoints",
    response_model=WebhookEndpointWithSecret,
    responses=errors(403, 429),
    openapi_extra=request_body(WebhookEndpointCreate),
)
def create_endpoint(
    webhooks: WebhookBook,
    user: CurrentUser,
    actor: CurrentActor,
    body: WebhookEndpointCreate = json_body(WebhookEndpointCreate),
) -> dict:
    row, secret = webhooks.create(
        user, actor, name=body.name, url=body.url, event_types=body.event_types, scope=body.scope
    )
    return webhooks.view(row, secret=secret)


@router.get("/webhook_endpoints", response_model=WebhookEndpointList)
def list_endpoints(
    webhooks: WebhookBook, user: CurrentUser, after: str | None = None, limit: Limit = 20
) -> dict:
    rows, has_more = webhooks.list(user, after=after, limit=limit)
    return views.page([webhooks.view(row) for row in rows], has_more)


@router.get(
    "/webhook_endpoints/{webhook_endpoint_id}",
    response_model=WebhookEndpoint,
    responses=errors(404),
)
def retrieve_endpoint(webhooks: WebhookBook, user: CurrentUser, webhook_endpoint_id: str) -> dict:
    return webhooks.view(webhooks.get(user, webhook_endpoint_id))


@router.post(
    "/webhook_endpoints/{webhook_endpoint_id}",
    response_model=WebhookEndpoint,
    responses=errors(404),
    openapi_extra=request_body(WebhookEndpointUpdate),
)
def update_endpoint(
    webhooks: WebhookBook,
    user: CurrentUser,
    actor: CurrentActor,
    webhook_endpoint_id: str,
    body: WebhookEndpointUpdate = json_body(WebhookEndpointUpdate),
) -> dict:
    row = webhooks.update(
        user,
        actor,
        webhook_endpoint_id,
        name=body.name,
        url=body.url,
        event_types=body.event_types,
    )
    return webhooks.view(row)


@router.delete(
    "/webhook_endpoints/{webhook_endpoint_id}",
    response_model=WebhookEndpointDeleted,
    responses=errors(404),
)
def delete_endpoint(
    webhooks: WebhookBook, user: CurrentUser, actor: CurrentActor, webhook_endpoint_id: str
) -> dict:
    webhooks.delete(user, actor, webhook_endpoint_id)
    return {"id": webhook_endpoint_id, "object": "webhook_endpoint.deleted", "deleted": True}


@router.post(
    "/webhook_endpoints/{webhook_endpoint_id}/rotate_secret",
    response_model=WebhookEndpointWithSecret,
    responses=errors(404),
    openapi_extra=request_body(WebhookSecretRotation, required=False),
)
def rotate_secret(
    webhooks: WebhookBook,
    user: CurrentUser,
    actor: CurrentActor,
    webhook_endpoint_id: str,
    body: WebhookSecretRotation = json_body(WebhookSecretRotation),
) -> dict:
    row, secret = webhooks.rotate_secret(
        user,
        actor,
        webhook_endpoint_id,
        keep_old_for_24_hours=body.keep_old_secret_active_for_24_hours,
    )
    return webhooks.view(row, secret=secret)


@router.post(
    "/webhook_endpoints/{webhook_endpoint_id}/test",
    response_model=WebhookTestResult,
    responses=errors(404),
    openapi_extra=request_body(WebhookTest),
)
def test_endpoint(
    webhooks: WebhookBook,
    user: CurrentUser,
    webhook_endpoint_id: str,
    body: WebhookTest = json_body(WebhookTest),
) -> dict:
    result = webhooks.test(user, webhook_endpoint_id, event_type=body.event_type)
    return {
        "object": "webhook_endpoint.test",
        "webhook_endpoint_id": webhook_endpoint_id,
        "event_type": result.event_type,
        "status_code": result.status_code,
        "success": True,
        "delivery_id": result.delivery_id,
    }


@router.get(
    "/webhook_endpoints/{webhook_endpoint_id}/deliveries",
    response_model=WebhookDeliveryList,
    responses=errors(404),
)
def list_deliveries(
    webhooks: WebhookBook,
    user: CurrentUser,
    webhook_endpoint_id: str,
    after: str | None = None,
    limit: Limit = 20,
) -> dict:
    data, has_more = webhooks.deliveries(user, webhook_endpoint_id, after=after, limit=limit)
    return views.page(data, has_more)
