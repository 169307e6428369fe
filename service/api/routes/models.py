"""/v1/models: the models the caller's role may use, with their sizes, longest clip, modes
and limits (OpenAI's shape, with OpenReel's additions)."""

from __future__ import annotations

import dataclasses
import time

from fastapi import APIRouter

from service.api.deps import CurrentUser, Videos
from service.api.openapi import errors
from service.api.protocol import Model, ModelList
from service.domain.catalog import Catalog, ModelEntry

router = APIRouter(prefix="/v1/models", tags=["models"])

_STARTED = int(time.time())
"""`created` of every model: models are configured, not created, so the server's start."""


def _model(entry: ModelEntry) -> Model:
    return Model(created=_STARTED, **dataclasses.asdict(entry))


@router.get("", response_model=ModelList)
def list_models(videos: Videos, user: CurrentUser) -> ModelList:
    catalog = Catalog(videos.settings, videos.policy)
    return ModelList(data=[_model(entry) for entry in catalog.models(user)])


@router.get("/{model}", response_model=Model, responses=errors(404))
def retrieve_model(model: str, videos: Videos, user: CurrentUser) -> Model:
    return _model(Catalog(videos.settings, videos.policy).model(user, model))
